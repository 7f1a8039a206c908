import Type, { type Static } from 'typebox';
import { LogLevel, NodeEnv, Port } from '@shop/service-kit';

/** The sandbox provider's environment (services/payments/README.md describes each). */
export const ProviderConfig = Type.Object({
  NODE_ENV: NodeEnv(),
  LOG_LEVEL: LogLevel('info'),
  PAYMENT_PROVIDER_PORT: Port(3005),
  /** Added to every call, after the call has taken effect: a kill inside it loses the answer. */
  PAYMENT_PROVIDER_LATENCY_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 0 }),
  /** Share of calls answered 503 before doing anything (0..1). */
  PAYMENT_PROVIDER_FAILURE_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  /** Append-only ledger of charges and refunds; survives the process, like a real provider. */
  PAYMENT_PROVIDER_DATA_FILE: Type.String({
    minLength: 1,
    default: '.local/payment-provider/ledger.jsonl',
  }),
});
export type ProviderConfig = Static<typeof ProviderConfig>;
