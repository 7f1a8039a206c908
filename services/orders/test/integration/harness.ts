import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import type { MessageContract, MessageData, Envelope } from '@shop/contracts';
import { buildEnvelope, withDefaultAddresses } from '@shop/service-kit';
import { startTestService, type TestService } from '@shop/service-kit/testing';
import { parseOrdersConfig } from '../../src/config.js';
import { ordersService } from '../../src/service.js';

/**
 * A real HTTP server standing in for the users and inventory internal routes, with what they
 * would know. It checks the service credential as they do and counts the calls it got.
 */
export function fakeOwners(internalToken: () => string) {
  const products = new Map<
    string,
    { id: string; sku: string; name: string; price: number; isActive: boolean }
  >();
  const addresses = new Map<string, Record<string, unknown> & { userId: string }>();
  const methods = new Map<string, Record<string, unknown> & { userId: string }>();
  let calls = 0;
  let down = false;
  let server: Server | undefined;

  async function body(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString() || '{}');
  }

  return {
    products,
    addresses,
    methods,
    get calls() {
      return calls;
    },
    setDown(value: boolean) {
      down = value;
    },
    async start(): Promise<string> {
      server = createServer((request, response) => {
        void (async () => {
          calls += 1;
          const send = (status: number, payload: unknown) => {
            response.writeHead(status, { 'content-type': 'application/json' });
            response.end(JSON.stringify(payload));
          };
          if (down) return send(503, { code: 'service_unavailable', status: 503 });
          if (request.headers['x-internal-token'] !== internalToken()) {
            return send(401, { code: 'unauthorized', status: 401 });
          }
          const url = request.url ?? '';
          if (request.method === 'POST' && url === '/internal/v1/products/lookup') {
            const { ids } = (await body(request)) as { ids: string[] };
            return send(200, { items: ids.flatMap((id) => products.get(id) ?? []) });
          }
          const address = /^\/internal\/v1\/users\/([^/]+)\/addresses\/([^/]+)$/.exec(url);
          if (address) {
            const found = addresses.get(address[2]!);
            return found && found.userId === address[1]
              ? send(200, found)
              : send(404, { code: 'not_found', status: 404 });
          }
          const method = /^\/internal\/v1\/users\/([^/]+)\/payment-methods\/([^/]+)$/.exec(url);
          if (method) {
            const found = methods.get(method[2]!);
            return found && found.userId === method[1]
              ? send(200, found)
              : send(404, { code: 'not_found', status: 404 });
          }
          return send(404, { code: 'not_found', status: 404 });
        })();
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async stop(): Promise<void> {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

export type FakeOwners = ReturnType<typeof fakeOwners>;

export interface Harness {
  service: TestService;
  owners: FakeOwners;
  /** Publishes as inventory, payments or users would. */
  publish<C extends MessageContract>(
    contract: C,
    data: MessageData<C>,
    id?: string,
  ): Promise<Envelope>;
  /** Re-publishes an envelope as it was (a redelivered duplicate). */
  republish(envelope: Envelope, newId?: boolean): Promise<void>;
  /** Messages on a stream (INVENTORY, PAYMENTS, ORDERS) of a type, for an order. */
  messages<C extends MessageContract>(
    stream: string,
    contract: C,
    orderId?: string,
  ): Promise<Envelope<MessageData<C>>[]>;
  /** A customer with an address and a card the fake users service knows. */
  customer(state?: string): Promise<Customer>;
  product(price: number, isActive?: boolean): string;
  token(userId: string, role?: 'customer' | 'employee' | 'manager' | 'admin'): Promise<string>;
  stop(): Promise<void>;
}

export interface Customer {
  id: string;
  token: string;
  addressId: string;
  paymentMethodId: string;
  /** Another card of theirs. */
  secondPaymentMethodId: string;
}

export async function startHarness(
  label: string,
  env: Record<string, string> = {},
): Promise<Harness> {
  let token = '';
  const owners = fakeOwners(() => token);
  const ownersUrl = await owners.start();
  const service = await startTestService(label, (base) =>
    ordersService(
      parseOrdersConfig(
        withDefaultAddresses({
          ...base,
          ORDERS_PORT: '0',
          USERS_URL: ownersUrl,
          INVENTORY_URL: ownersUrl,
          TAX_RATES_BPS: '{"NY":400,"CA":725}',
          SAGA_TIMER_INTERVAL_MS: '100',
          ...env,
        }),
      ),
    ),
  );
  token = service.internalToken;
  const { js, namespace, nats } = service.infrastructure;
  const jsm = await jetstreamManager(nats);

  const harness: Harness = {
    service,
    owners,
    async publish(contract, data, id) {
      const envelope = buildEnvelope(contract, data, id ? { id } : {});
      await js.publish(namespace.subject(contract.type), JSON.stringify(envelope), {
        msgID: envelope.id,
      });
      return envelope as Envelope;
    },
    async republish(envelope, newId = false) {
      const copy = newId ? { ...envelope, id: randomUUID() } : envelope;
      // A fresh msgID gets past JetStream's dedupe, as a redelivery after the window would.
      await js.publish(namespace.subject(copy.type), JSON.stringify(copy), {
        msgID: randomUUID(),
      });
    },
    async messages(stream, contract, orderId) {
      const name = namespace.stream(stream);
      const info = await jsm.streams.info(name);
      const found: Envelope[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
        const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!message) continue;
        const envelope = JSON.parse(new TextDecoder().decode(message.data)) as Envelope;
        if (envelope.type !== contract.type) continue;
        if (orderId && (envelope.data as { orderId?: string }).orderId !== orderId) continue;
        found.push(envelope);
      }
      return found as Envelope<MessageData<typeof contract>>[];
    },
    async customer(state = 'NY') {
      const id = randomUUID();
      const addressId = randomUUID();
      const paymentMethodId = randomUUID();
      const secondPaymentMethodId = randomUUID();
      owners.addresses.set(addressId, {
        id: addressId,
        userId: id,
        type: 'shipping',
        line1: '1 Main St',
        line2: null,
        city: 'Springfield',
        state,
        country: 'US',
        postalCode: '12345',
        isDefault: true,
      });
      for (const [methodId, pm] of [
        [paymentMethodId, 'pm_card_visa'],
        [secondPaymentMethodId, 'pm_card_mastercard'],
      ] as const) {
        owners.methods.set(methodId, {
          id: methodId,
          userId: id,
          providerPaymentMethodId: pm,
          cardBrand: 'visa',
          cardLast4: '4242',
          expMonth: 12,
          expYear: 2099,
          isDefault: true,
        });
      }
      return {
        id,
        token: await service.tokenFor({ userId: id, role: 'customer' }),
        addressId,
        paymentMethodId,
        secondPaymentMethodId,
      };
    },
    product(price, isActive = true) {
      const id = randomUUID();
      owners.products.set(id, { id, sku: `SKU-${id.slice(0, 8)}`, name: 'Thing', price, isActive });
      return id;
    },
    token: (userId, role = 'customer') => service.tokenFor({ userId, role }),
    async stop() {
      await service.stop();
      await owners.stop();
    },
  };
  return harness;
}
