import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settleCharge } from '../src/application/settle-charge.js';
import { classifyCallFailure } from '../src/domain/charge-outcome.js';
import { guardProvider } from '../src/payment-provider/guarded.js';
import { createStripeProvider } from '../src/payment-provider/stripe.js';
import type { PaymentProvider } from '../src/payment-provider/types.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'stripe');

interface Recorded {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  form: URLSearchParams;
}

/**
 * A stand-in for api.stripe.com that replays recorded answers: the real SDK talks HTTP to it,
 * so the adapter is tested down to the request it sends and the answer it parses.
 */
function replayServer() {
  const requests: Recorded[] = [];
  const charges = new Map<string, { attemptId: string; orderId: string }>();
  /** Stripe's idempotency: the first answer under a key, replayed. */
  const answered = new Map<string, { status: number; body: string }>();
  /** PaymentIntents actually created (a replayed key creates none). */
  const created: string[] = [];
  /** Create requests open right now, per key, and the most ever open at once. */
  const open = new Map<string, number>();
  let mostOpenAtOnce = 0;
  let failNext = false;
  let searchLags = false;
  let holdNextCreateMs = 0;
  const fixture = (name: string, values: Record<string, string>) =>
    Object.entries(values).reduce(
      (text, [key, value]) => text.replaceAll(`{{${key}}}`, value),
      readFileSync(path.join(FIXTURES, name), 'utf8'),
    );
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const form = new URLSearchParams(raw);
      const key = request.headers['idempotency-key'];
      requests.push({
        method: request.method ?? '',
        path: url.pathname,
        idempotencyKey: typeof key === 'string' ? key : undefined,
        form,
      });
      const send = (status: number, body: string) => {
        response.writeHead(status, {
          'content-type': 'application/json',
          'request-id': 'req_test',
        });
        response.end(body);
      };
      if (failNext) {
        failNext = false;
        return send(500, fixture('api_error.json', {}));
      }
      if (request.method === 'POST' && url.pathname === '/v1/payment_intents') {
        const idempotencyKey = typeof key === 'string' ? key : '';
        mostOpenAtOnce = Math.max(mostOpenAtOnce, (open.get(idempotencyKey) ?? 0) + 1);
        const previous = answered.get(idempotencyKey);
        if (previous) {
          response.setHeader('idempotent-replayed', 'true');
          return send(previous.status, previous.body);
        }
        const values = {
          attempt_id: form.get('metadata[attempt_id]') ?? '',
          order_id: form.get('metadata[order_id]') ?? '',
        };
        let answer: { status: number; body: string };
        if (form.get('payment_method') === 'pm_card_visa') {
          charges.set(values.attempt_id, {
            attemptId: values.attempt_id,
            orderId: values.order_id,
          });
          created.push(idempotencyKey);
          answer = { status: 200, body: fixture('payment_intent.succeeded.json', values) };
        } else {
          answer = { status: 402, body: fixture('payment_intent.declined.json', values) };
        }
        // Done and remembered before the answer leaves, as Stripe does: an answer lost on the
        // way is replayed to the same key.
        answered.set(idempotencyKey, answer);
        const hold = holdNextCreateMs;
        holdNextCreateMs = 0;
        if (hold > 0) {
          open.set(idempotencyKey, (open.get(idempotencyKey) ?? 0) + 1);
          const timer = setTimeout(() => send(answer.status, answer.body), hold);
          response.on('close', () => {
            clearTimeout(timer);
            open.set(idempotencyKey, (open.get(idempotencyKey) ?? 1) - 1);
          });
          return;
        }
        return send(answer.status, answer.body);
      }
      if (request.method === 'GET' && url.pathname === '/v1/payment_intents/search') {
        const attemptId =
          /metadata\['attempt_id'\]:'([^']+)'/.exec(url.searchParams.get('query') ?? '')?.[1] ?? '';
        // Stripe's search is not read-after-write: a fresh intent may be missing for a while.
        const known = searchLags ? undefined : charges.get(attemptId);
        const data = known
          ? [
              JSON.parse(
                fixture('payment_intent.succeeded.json', {
                  attempt_id: known.attemptId,
                  order_id: known.orderId,
                }),
              ) as unknown,
            ]
          : [];
        return send(
          200,
          JSON.stringify({
            object: 'search_result',
            data,
            has_more: false,
            next_page: null,
            url: '/v1/payment_intents/search',
          }),
        );
      }
      if (request.method === 'POST' && url.pathname === '/v1/refunds') {
        const already =
          requests.filter((r) => r.path === '/v1/refunds' && r.idempotencyKey !== key).length > 0;
        return already
          ? send(400, fixture('refund.already_refunded.json', {}))
          : send(200, fixture('refund.succeeded.json', {}));
      }
      send(
        404,
        JSON.stringify({
          error: { type: 'invalid_request_error', message: 'Unrecognized request URL' },
        }),
      );
    });
  });
  return {
    server,
    requests,
    created,
    mostOpenAtOnce: () => mostOpenAtOnce,
    failOnce: () => (failNext = true),
    lagSearch: (lagging: boolean) => (searchLags = lagging),
    holdNextCreate: (ms: number) => (holdNextCreateMs = ms),
  };
}

describe('Stripe adapter against recorded answers', () => {
  const replay = replayServer();
  let stripe: PaymentProvider;
  const signal = () => new AbortController().signal;

  beforeAll(async () => {
    await new Promise<void>((resolve) => replay.server.listen(0, '127.0.0.1', resolve));
    const { port } = replay.server.address() as AddressInfo;
    stripe = createStripeProvider({
      secretKey: 'sk_test_redacted',
      timeoutMs: 3000,
      host: '127.0.0.1',
      port,
      protocol: 'http',
    });
  });
  afterAll(() => new Promise<void>((resolve) => replay.server.close(() => resolve())));

  const request = (providerPaymentMethodId: string) => {
    const attemptId = randomUUID();
    return {
      idempotencyKey: attemptId,
      attemptId,
      orderId: randomUUID(),
      amount: 2599,
      currency: 'USD',
      providerPaymentMethodId,
    };
  };

  it('creates and confirms one PaymentIntent with the attempt id as idempotency key', async () => {
    const charge = request('pm_card_visa');
    const result = await stripe.charge(charge, signal());
    expect(result).toEqual({ status: 'succeeded', chargeId: 'pi_3QfRkZ2eZvKYlo2C0n6sQx1b' });
    const sent = replay.requests.at(-1)!;
    expect(sent.idempotencyKey).toBe(charge.attemptId);
    expect(sent.form.get('confirm')).toBe('true');
    expect(sent.form.get('amount')).toBe('2599');
    expect(sent.form.get('currency')).toBe('usd');
    expect(sent.form.get('metadata[attempt_id]')).toBe(charge.attemptId);
  });

  it('turns a card error into a decline with the decline code', async () => {
    const result = await stripe.charge(
      request('pm_card_chargeDeclinedInsufficientFunds'),
      signal(),
    );
    expect(result).toMatchObject({
      status: 'failed',
      code: 'insufficient_funds',
      chargeId: 'pi_3QfRlB2eZvKYlo2C1xYpR7aa',
    });
  });

  it('finds a charge by idempotency key through search, and nothing for an unknown key', async () => {
    const charge = request('pm_card_visa');
    await stripe.charge(charge, signal());
    expect(await stripe.findCharge(charge.attemptId, signal())).toMatchObject({
      status: 'succeeded',
    });
    expect(await stripe.findCharge(randomUUID(), signal())).toBeNull();
  });

  it('refunds with an idempotency key; a second refund is refused', async () => {
    const key = randomUUID();
    expect(
      await stripe.refund({ idempotencyKey: key, chargeId: 'pi_x', amount: 2599 }, signal()),
    ).toEqual({
      status: 'succeeded',
      refundId: 're_3QfRkZ2eZvKYlo2C0bY2rT4f',
    });
    expect(replay.requests.at(-1)?.idempotencyKey).toBe(key);
    expect(replay.requests.at(-1)?.form.get('payment_intent')).toBe('pi_x');
    expect(
      await stripe.refund(
        { idempotencyKey: randomUUID(), chargeId: 'pi_x', amount: 2599 },
        signal(),
      ),
    ).toMatchObject({
      status: 'refused',
      code: 'charge_already_refunded',
    });
  });

  it('declares its search not authoritative, and keeps keys less than a day', () => {
    expect(stripe.lookupIsAuthoritative).toBe(false);
    expect(stripe.idempotencyKeyTtlMs).toBeLessThan(24 * 60 * 60 * 1000);
  });

  it('a timed-out create that search cannot find yet is settled by replaying it under the same key: one charge', async () => {
    // The breaker gives up long before the SDK would (3 s): its abort must end the request.
    const guarded = guardProvider(stripe, { timeoutMs: 300, resetTimeoutMs: 1000 });
    const attemptId = randomUUID();
    const payment = {
      id: randomUUID(),
      attemptId,
      attempt: 1,
      orderId: randomUUID(),
      orderNumber: 'ORD-2026-000001',
      customerId: randomUUID(),
      paymentMethodId: randomUUID(),
      providerPaymentMethodId: 'pm_card_visa',
      amount: 2599,
      currency: 'USD',
      status: 'pending' as const,
      failureReason: null,
      failureMessage: null,
      provider: 'stripe',
      providerChargeId: null,
      attemptedAt: new Date().toISOString(),
      settledAt: null,
      createdAt: new Date().toISOString(),
    };
    const before = replay.requests.length;
    replay.holdNextCreate(2000);
    replay.lagSearch(true);
    try {
      const settled = await settleCharge(guarded, payment, 'fresh');
      // Not "failed": the first create did charge, and the replay says so.
      expect(settled).toEqual({
        kind: 'settled',
        outcome: { kind: 'succeeded', chargeId: 'pi_3QfRkZ2eZvKYlo2C0n6sQx1b' },
      });
    } finally {
      replay.lagSearch(false);
      guarded.shutdown();
    }
    const sent = replay.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(sent).toEqual([
      'POST /v1/payment_intents',
      'GET /v1/payment_intents/search',
      'POST /v1/payment_intents',
    ]);
    expect(
      replay.requests
        .slice(before)
        .filter((r) => r.method === 'POST')
        .map((r) => r.idempotencyKey),
    ).toEqual([attemptId, attemptId]);
    expect(replay.created.filter((key) => key === attemptId)).toHaveLength(1);
    // The timed-out request was closed before the replay was sent: never two in flight.
    expect(replay.mostOpenAtOnce()).toBe(1);
  });

  it('a 500 from Stripe is an unknown outcome (settled by lookup), through the breaker', async () => {
    const guarded = guardProvider(stripe, { timeoutMs: 3000, resetTimeoutMs: 1000 });
    replay.failOnce();
    const error = await guarded.charge(request('pm_card_visa')).catch((e: unknown) => e);
    expect(classifyCallFailure(error).certainty).toBe('unknown');
    guarded.shutdown();
  });
});
