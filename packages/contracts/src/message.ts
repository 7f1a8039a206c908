import Type, { type Static, type TProperties, type TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';

/**
 * Every message on the bus travels in this envelope. `type` is the message's subject without
 * any deployment namespace (`inventory.commands.reserve`), `version` the major version of its
 * `data` schema: a consumer reads every version it knows and refuses the others.
 */
export const Envelope = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ minLength: 1, maxLength: 200 }),
    version: Type.Integer({ minimum: 1 }),
    occurredAt: Type.String({ format: 'date-time' }),
    correlationId: Type.String({ minLength: 1, maxLength: 200 }),
    causationId: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
    data: Type.Unknown(),
  },
  // Tolerant: a later envelope field (a trace header, say) must not break older consumers.
);
export type Envelope<Data = unknown> = Omit<Static<typeof Envelope>, 'data'> & { data: Data };

export const envelopeValidator = Compile(Envelope);

/** One kind of message: its subject, schema version and compiled checker. */
export interface MessageContract<Name extends string = string, Schema extends TSchema = TSchema> {
  readonly type: Name;
  readonly version: number;
  readonly schema: Schema;
  readonly validator: Validator<TProperties, Schema>;
}

export type MessageData<Contract extends MessageContract> = Static<Contract['schema']>;

export function defineMessage<Name extends string, Schema extends TSchema>(
  type: Name,
  version: number,
  schema: Schema,
): MessageContract<Name, Schema> {
  return { type, version, schema, validator: Compile(schema) };
}
