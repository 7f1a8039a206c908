import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { createHttpServer, type HttpApp, type Logger } from '@shop/service-kit';
import {
  Charge,
  CreateChargeBody,
  CreateRefundBody,
  IdempotencyKey,
  IDEMPOTENCY_KEY_HEADER,
  ProviderErrorBody,
  Refund,
  REPLAYED_HEADER,
  type ProviderErrorBody as ErrorBody,
} from './api.js';
import { behaviourOf } from './cards.js';
import type { Ledger, LedgerEntry } from './ledger.js';

export interface ProviderSettings {
  latencyMs: number;
  failureRate: number;
  /** Injected by tests for a deterministic failure rate. */
  random?: () => number;
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

function problem(type: string, code: string, message: string, charge?: Charge): ErrorBody {
  return { error: { type, code, message, ...(charge ? { charge } : {}) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const KeyHeaders = Type.Object({ [IDEMPOTENCY_KEY_HEADER]: IdempotencyKey });

/**
 * The sandbox provider's HTTP API. Every mutating call is decided and written to the ledger
 * when it arrives, and only then delayed by the configured latency: a process killed inside
 * that delay has charged without answering, which is exactly the uncertain outcome payments
 * must resolve by looking the key up.
 */
export async function buildProviderApp(
  ledger: Ledger,
  settings: ProviderSettings,
  logger: Logger,
): Promise<HttpApp> {
  const random = settings.random ?? Math.random;
  // Body validation failures are the caller's mistake; the sandbox speaks its own error shape
  // for everything else, but problem+json for those is fine: its client treats 4xx alike.
  const app = await createHttpServer({
    service: 'payment-provider',
    logger,
    auth: { defaultPolicy: 'public' },
  });

  // The configured flakiness: answered before anything happens, so a retry is always safe.
  app.addHook('preHandler', async (request, reply) => {
    if (!request.url.startsWith('/v1/') || settings.failureRate <= 0) return;
    if (random() < settings.failureRate) {
      await sleep(settings.latencyMs);
      return reply
        .code(503)
        .send(problem('api_error', 'service_unavailable', 'Simulated provider outage.'));
    }
  });

  /** Same key again: the first answer, or 409 when the parameters differ (Stripe's rule). */
  function replay(entry: LedgerEntry | undefined, kind: LedgerEntry['kind'], fingerprint: string) {
    if (!entry) return undefined;
    if (entry.kind !== kind || entry.fingerprint !== fingerprint) {
      return {
        status: 409,
        body: problem(
          'idempotency_error',
          'idempotency_key_reused',
          'This idempotency key was used with different parameters.',
        ),
      };
    }
    return entry.kind === 'charge'
      ? chargeAnswer(entry.charge)
      : { status: 201, body: entry.refund };
  }

  function chargeAnswer(charge: Charge) {
    if (charge.status === 'succeeded') return { status: 201, body: charge };
    return {
      status: 402,
      body: problem(
        'card_error',
        charge.failureCode ?? 'card_declined',
        charge.failureMessage ?? '',
        charge,
      ),
    };
  }

  app.post(
    '/v1/charges',
    {
      config: { auth: 'public' },
      schema: {
        headers: KeyHeaders,
        body: CreateChargeBody,
        response: { 201: Charge, 402: ProviderErrorBody, 409: ProviderErrorBody },
      },
    },
    async (request, reply) => {
      const key = request.headers[IDEMPOTENCY_KEY_HEADER];
      const { amount, currency, paymentMethod } = request.body;
      const fingerprint = JSON.stringify([amount, currency, paymentMethod]);
      const previous = replay(ledger.byKey(key), 'charge', fingerprint);
      if (previous) {
        await sleep(settings.latencyMs);
        return reply
          .code(previous.status as 201)
          .header(REPLAYED_HEADER, 'true')
          .send(previous.body as never);
      }
      const behaviour = behaviourOf(paymentMethod);
      const charge: Charge = {
        id: newId('ch'),
        idempotencyKey: key,
        amount,
        currency,
        paymentMethod,
        status: behaviour.result,
        failureCode: behaviour.result === 'failed' ? behaviour.code : null,
        failureMessage: behaviour.result === 'failed' ? behaviour.message : null,
        amountRefunded: 0,
        created: new Date().toISOString(),
      };
      ledger.append({ kind: 'charge', key, fingerprint, charge });
      request.log.info({ chargeId: charge.id, key, status: charge.status }, 'charge recorded');
      await sleep(settings.latencyMs);
      const answer = chargeAnswer(charge);
      return reply.code(answer.status as 201).send(answer.body as never);
    },
  );

  // Look a charge up by the key it was made with: how a client settles an unanswered call.
  app.get(
    '/v1/charges',
    {
      config: { auth: 'public' },
      schema: {
        querystring: Type.Object(
          { idempotencyKey: IdempotencyKey },
          { additionalProperties: false },
        ),
        response: { 200: Charge, 404: ProviderErrorBody },
      },
    },
    async (request, reply) => {
      await sleep(settings.latencyMs);
      const entry = ledger.byKey(request.query.idempotencyKey);
      if (entry?.kind !== 'charge') {
        return reply
          .code(404)
          .send(problem('invalid_request_error', 'resource_missing', 'No charge with this key.'));
      }
      return ledger.charge(entry.charge.id) ?? entry.charge;
    },
  );

  app.get(
    '/v1/charges/:id',
    {
      config: { auth: 'public' },
      schema: {
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Charge, 404: ProviderErrorBody },
      },
    },
    async (request, reply) => {
      await sleep(settings.latencyMs);
      const charge = ledger.charge(request.params.id);
      if (!charge) {
        return reply
          .code(404)
          .send(problem('invalid_request_error', 'resource_missing', 'No such charge.'));
      }
      return charge;
    },
  );

  app.post(
    '/v1/refunds',
    {
      config: { auth: 'public' },
      schema: {
        headers: KeyHeaders,
        body: CreateRefundBody,
        response: {
          201: Refund,
          400: ProviderErrorBody,
          404: ProviderErrorBody,
          409: ProviderErrorBody,
        },
      },
    },
    async (request, reply) => {
      const key = request.headers[IDEMPOTENCY_KEY_HEADER];
      const charge = ledger.charge(request.body.charge);
      const amount = request.body.amount ?? charge?.amount ?? 0;
      const fingerprint = JSON.stringify([request.body.charge, amount]);
      const previous = replay(ledger.byKey(key), 'refund', fingerprint);
      if (previous) {
        await sleep(settings.latencyMs);
        return reply
          .code(previous.status as 201)
          .header(REPLAYED_HEADER, 'true')
          .send(previous.body as never);
      }
      if (!charge) {
        return reply
          .code(404)
          .send(problem('invalid_request_error', 'resource_missing', 'No such charge.'));
      }
      if (charge.status !== 'succeeded') {
        return reply
          .code(400)
          .send(problem('invalid_request_error', 'charge_not_refundable', 'The charge failed.'));
      }
      if (charge.amountRefunded + amount > charge.amount) {
        return reply
          .code(400)
          .send(
            problem('invalid_request_error', 'charge_already_refunded', 'Nothing left to refund.'),
          );
      }
      const refund: Refund = {
        id: newId('re'),
        idempotencyKey: key,
        charge: charge.id,
        amount,
        status: 'succeeded',
        created: new Date().toISOString(),
      };
      ledger.append({ kind: 'refund', key, fingerprint, refund });
      request.log.info({ refundId: refund.id, chargeId: charge.id, key }, 'refund recorded');
      await sleep(settings.latencyMs);
      return reply.code(201).send(refund);
    },
  );

  // For tests and operators: how many charges the "bank" holds.
  app.get('/v1/stats', { config: { auth: 'public' } }, () => ledger.size);

  return app;
}
