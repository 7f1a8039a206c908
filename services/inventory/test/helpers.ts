import { jetstreamManager } from '@nats-io/jetstream';
import type { Envelope, MessageContract, MessageData } from '@shop/contracts';
import { buildEnvelope, parseConfig } from '@shop/service-kit';
import { startTestService, waitFor, type TestService } from '@shop/service-kit/testing';
import { InventoryConfig } from '../src/config.js';
import { inventoryService, type InventoryServiceOptions } from '../src/service.js';

export const CLOSED_REDIS_URL = 'redis://127.0.0.1:6390';

/** The real inventory service, in process, on its own database, NATS namespace and Redis keys. */
export async function startInventory(
  label: string,
  settings: Record<string, string> = {},
  options: InventoryServiceOptions = {},
): Promise<TestService> {
  return startTestService(label, (env) =>
    inventoryService(
      parseConfig(InventoryConfig, {
        ...env,
        INVENTORY_PORT: '0',
        REDIS_KEY_PREFIX: `${env.NATS_NAMESPACE}:`,
        ...settings,
      }),
      options,
    ),
  );
}

/** Publishes a command to the service's namespace as the saga would; returns its envelope. */
export async function sendCommand<Contract extends MessageContract>(
  sut: TestService,
  contract: Contract,
  data: MessageData<Contract>,
  envelopeId?: string,
): Promise<Envelope> {
  const envelope = buildEnvelope(contract, data, envelopeId ? { id: envelopeId } : {});
  const { js, namespace } = sut.infrastructure;
  await js.publish(namespace.subject(contract.type), JSON.stringify(envelope), {
    msgID: envelope.id,
  });
  return envelope;
}

/** Publishes an envelope again as is (a redelivery that got past JetStream's dedupe window). */
export async function resend(sut: TestService, envelope: Envelope, newId: string): Promise<void> {
  const { js, namespace } = sut.infrastructure;
  const copy = { ...envelope, id: newId };
  await js.publish(namespace.subject(envelope.type), JSON.stringify(copy), { msgID: newId });
}

/**
 * Reads what the service published on its INVENTORY stream, incrementally: each call to
 * `messages()` fetches only what arrived since the last one.
 */
export function streamReader(sut: TestService) {
  const seen: Envelope[] = [];
  let nextSeq = 1;
  return {
    async messages(): Promise<Envelope[]> {
      const jsm = await jetstreamManager(sut.infrastructure.nats);
      const stream = sut.infrastructure.namespace.stream('INVENTORY');
      const { state } = await jsm.streams.info(stream);
      for (; nextSeq <= state.last_seq; nextSeq += 1) {
        const message = await jsm.streams.getMessage(stream, { seq: nextSeq });
        if (message) seen.push(message.json<Envelope>());
      }
      return seen;
    },
    /** Messages of `type` about `orderId` (or any order when omitted). */
    async of(type: string, orderId?: string): Promise<Envelope[]> {
      return (await this.messages()).filter(
        (envelope) =>
          envelope.type === type &&
          (orderId === undefined || (envelope.data as { orderId?: string }).orderId === orderId),
      );
    },
    /** Waits until `count` messages of `type` about `orderId` are on the stream. */
    async waitFor(type: string, orderId: string, count = 1): Promise<Envelope[]> {
      return waitFor(
        async () => {
          const found = await this.of(type, orderId);
          return found.length >= count ? found : undefined;
        },
        `${count} × ${type} for order ${orderId}`,
        { intervalMs: 25 },
      );
    },
  };
}

/** Failed handler attempts so far (a deadlock or a bug would count here). */
export async function handlerFailures(sut: TestService): Promise<number> {
  const metric = sut.infrastructure.registry.getSingleMetric('messaging_failed_total');
  const values = metric ? (await metric.get()).values : [];
  return values.reduce((sum, value) => sum + value.value, 0);
}

export type StreamReader = ReturnType<typeof streamReader>;

export function jsonHeaders(token?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}
