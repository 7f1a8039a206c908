import { randomUUID } from 'node:crypto';
import {
  AddressAdded,
  AddressRemoved,
  OrderCreated,
  PaymentMethodAdded,
  ProductCreated,
} from '@shop/contracts';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { ordersClient } from './orders-client.js';

let harness: Harness;
let client: ReturnType<typeof ordersClient>;

beforeAll(async () => {
  harness = await startHarness('orders-http');
  client = ordersClient(harness);
});
afterAll(() => harness.stop());

async function counts() {
  const { dataSource } = harness.service.infrastructure;
  const [row] = (await dataSource.query(
    `SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM order_sagas)::int AS sagas,
            (SELECT count(*) FROM idempotency_keys)::int AS keys, (SELECT count(*) FROM outbox)::int AS outbox`,
  )) as { orders: number; sagas: number; keys: number; outbox: number }[];
  return row!;
}

describe('POST /v1/orders idempotency', () => {
  it('replays the same order for the same key and body, 409 for another body', async () => {
    const customer = await harness.customer();
    const body = client.body(customer, harness.product(1000), 2);
    const key = randomUUID();
    const first = await client.place(customer.token, body, key);
    expect(first.statusCode).toBe(202);
    const again = await client.place(customer.token, body, key);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    const reused = await client.place(
      customer.token,
      { ...body, items: [{ ...body.items[0]!, quantity: 3 }] },
      key,
    );
    expect(reused.statusCode).toBe(409);
    expect(reused.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect(
      await harness.messages('ORDERS', OrderCreated, first.json<{ id: string }>().id),
    ).toHaveLength(1);
    // Keys are per customer: another customer's identical key is theirs.
    const other = await harness.customer();
    expect(
      (await client.place(other.token, client.body(other, body.items[0]!.productId), key))
        .statusCode,
    ).toBe(202);
  });

  it('binds a key only to an accepted order', async () => {
    const customer = await harness.customer();
    const key = randomUUID();
    const bad = await client.place(customer.token, client.body(customer, randomUUID()), key);
    expect(bad.statusCode).toBe(422);
    const fixed = await client.place(
      customer.token,
      client.body(customer, harness.product(900)),
      key,
    );
    expect(fixed.statusCode).toBe(202);
  });

  it('concurrent duplicates produce one order', async () => {
    const customer = await harness.customer();
    const body = client.body(customer, harness.product(1500));
    const key = randomUUID();
    const before = await counts();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => client.place(customer.token, body, key)),
    );
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 202,
    ]);
    expect(new Set(answers.map((answer) => answer.json<{ id: string }>().id)).size).toBe(1);
    const after = await counts();
    expect(after.orders - before.orders).toBe(1);
    expect(after.sagas - before.sagas).toBe(1);
  });
});

describe('bad input changes nothing', () => {
  it('answers 4xx problem+json for every kind of bad request and writes nothing', async () => {
    const customer = await harness.customer();
    const stranger = await harness.customer();
    const productId = harness.product(1000);
    const inactive = harness.product(1000, false);
    const good = client.body(customer, productId);
    const before = await counts();
    const cases: [string, number, unknown, Record<string, string>?][] = [
      ['string quantity', 400, { ...good, items: [{ productId, quantity: '1' }] }],
      ['zero quantity', 400, { ...good, items: [{ productId, quantity: 0 }] }],
      ['too many', 400, { ...good, items: [{ productId, quantity: 1001 }] }],
      ['no items', 400, { ...good, items: [] }],
      [
        '51 items',
        400,
        {
          ...good,
          items: Array.from({ length: 51 }, () => ({ productId: randomUUID(), quantity: 1 })),
        },
      ],
      [
        'duplicate product',
        400,
        {
          ...good,
          items: [
            { productId, quantity: 1 },
            { productId, quantity: 2 },
          ],
        },
      ],
      ['unknown field', 400, { ...good, discount: 100 }],
      ['unknown item field', 400, { ...good, items: [{ productId, quantity: 1, price: 1 }] }],
      ['not a uuid', 400, { ...good, shippingAddressId: 'home' }],
      [
        'missing payment method',
        400,
        { items: good.items, shippingAddressId: good.shippingAddressId },
      ],
      ['unknown product', 422, client.body(customer, randomUUID())],
      ['inactive product', 422, client.body(customer, inactive)],
      ["someone else's address", 422, { ...good, shippingAddressId: stranger.addressId }],
      ["someone else's billing address", 422, { ...good, billingAddressId: stranger.addressId }],
      ["someone else's card", 422, { ...good, paymentMethodId: stranger.paymentMethodId }],
      ['customer ordering for another', 403, { ...good, customerId: stranger.id }],
      ['empty idempotency key', 400, good, { 'idempotency-key': '' }],
      ['long idempotency key', 400, good, { 'idempotency-key': 'k'.repeat(256) }],
    ];
    for (const [name, status, payload, headers] of cases) {
      const answer = await client.request({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...client.auth(customer.token), ...headers },
        payload: payload as Record<string, unknown>,
      });
      expect(answer.statusCode, name).toBe(status);
      expect(answer.headers['content-type'], name).toContain('application/problem+json');
      expect(typeof answer.json<{ code: string }>().code, name).toBe('string');
    }
    const raw = async (payload: string, contentType = 'application/json') =>
      client.request({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...client.auth(customer.token), 'content-type': contentType },
        payload,
      });
    expect((await raw('{"items": [')).statusCode).toBe(400);
    expect(
      (await raw(JSON.stringify({ ...good, pad: 'x'.repeat(1024 * 1024 + 10) }))).statusCode,
    ).toBe(413);
    expect((await raw('items=1', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    expect(
      (await client.request({ method: 'POST', url: '/v1/orders', payload: good })).statusCode,
    ).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('refuses what a route does not take (a body on cancel, an unknown filter), changing nothing', async () => {
    const customer = await harness.customer();
    const order = (
      await client.place(customer.token, client.body(customer, harness.product(1000)))
    ).json<{ id: string }>();
    const { dataSource } = harness.service.infrastructure;
    const sagaOf = async () =>
      (
        (await dataSource.query('SELECT state, version FROM order_sagas WHERE order_id = $1', [
          order.id,
        ])) as unknown[]
      )[0];
    const before = { saga: await sagaOf(), counts: await counts() };

    const cancel = await client.request({
      method: 'POST',
      url: `/v1/orders/${order.id}/cancel`,
      headers: client.auth(customer.token),
      payload: { reason: 'changed my mind' },
    });
    expect(cancel.statusCode).toBe(400);
    expect(cancel.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: '/body/reason', message: 'is not an allowed field' }],
    });
    const list = await client.request({
      method: 'GET',
      url: '/v1/orders?stauts=cancelled',
      headers: client.auth(customer.token),
    });
    expect(list.statusCode).toBe(400);
    expect(list.json()).toMatchObject({
      errors: [{ path: '/query/stauts', message: 'is not an allowed field' }],
    });
    expect({ saga: await sagaOf(), counts: await counts() }).toEqual(before);
    expect((await client.get(customer.token, order.id)).status).toBe('pending');
  });

  it('tells staff paying for a customer 403 before looking at the body (403 wins over 400)', async () => {
    const customer = await harness.customer();
    const stranger = await harness.customer();
    const staff = await harness.token(randomUUID(), 'employee');
    const order = (
      await client.place(customer.token, client.body(customer, harness.product(1000)))
    ).json<{ id: string }>();
    const pay = (token: string, payload: unknown) =>
      client.request({
        method: 'POST',
        url: `/v1/orders/${order.id}/pay`,
        headers: client.auth(token),
        payload: payload as Record<string, unknown>,
      });
    for (const payload of [{ paymentMethodId: 5 }, { x: 1 }, {}]) {
      expect((await pay(staff, payload)).statusCode, JSON.stringify(payload)).toBe(403);
      // Another customer cannot see the order at all: 404, whatever the body.
      expect((await pay(stranger.token, payload)).statusCode, JSON.stringify(payload)).toBe(404);
    }
    expect((await pay(staff, { paymentMethodId: customer.paymentMethodId })).statusCode).toBe(403);
    // The owner with a bad body is told about the body.
    expect((await pay(customer.token, { paymentMethodId: 5 })).statusCode).toBe(400);
  });

  it('answers 503 quickly when an owner is down on a read-model miss, and writes nothing', async () => {
    const customer = await harness.customer();
    const before = await counts();
    harness.owners.setDown(true);
    try {
      const answer = await client.place(
        customer.token,
        client.body(customer, harness.product(1000)),
      );
      expect(answer.statusCode).toBe(503);
    } finally {
      harness.owners.setDown(false);
    }
    expect(await counts()).toEqual(before);
  });
});

describe('read models', () => {
  it('orders from read models fed by events, without asking the owners', async () => {
    const userId = randomUUID();
    const productId = randomUUID();
    const addressId = randomUUID();
    const paymentMethodId = randomUUID();
    const at = new Date().toISOString();
    await harness.publish(ProductCreated, {
      productId,
      sku: 'EVT-1',
      name: 'Evented',
      description: null,
      category: 'misc',
      price: 2500,
      imageUrl: null,
      isActive: true,
      updatedAt: at,
      createdAt: at,
    });
    await harness.publish(AddressAdded, {
      addressId,
      userId,
      type: 'shipping',
      line1: '2 Side St',
      city: 'Albany',
      state: 'CA',
      country: 'US',
      postalCode: '90001',
      isDefault: true,
      addedAt: at,
    });
    await harness.publish(PaymentMethodAdded, {
      paymentMethodId,
      userId,
      providerPaymentMethodId: 'pm_card_visa',
      cardBrand: 'visa',
      cardLast4: '4242',
      expMonth: 1,
      expYear: 2099,
      isDefault: true,
      addedAt: at,
    });
    const { dataSource } = harness.service.infrastructure;
    await waitFor(async () => {
      const [row] = (await dataSource.query(
        `SELECT (SELECT count(*) FROM customer_payment_methods WHERE payment_method_id = $1)::int + (SELECT count(*) FROM customer_addresses WHERE address_id = $2)::int + (SELECT count(*) FROM product_prices WHERE product_id = $3)::int AS n`,
        [paymentMethodId, addressId, productId],
      )) as { n: number }[];
      return row!.n === 3;
    }, 'read models');
    const token = await harness.token(userId);
    const calls = harness.owners.calls;
    const placed = await client.place(token, {
      items: [{ productId, quantity: 2 }],
      shippingAddressId: addressId,
      paymentMethodId,
    });
    expect(placed.statusCode).toBe(202);
    expect(harness.owners.calls).toBe(calls);
    // CA at 725 bps: 5000 × 0.0725 = 362.5 → 363 (half up); free shipping from 5000.
    expect(placed.json()).toMatchObject({
      subtotal: 5000,
      shippingCost: 0,
      tax: 363,
      total: 5363,
      items: [{ sku: 'EVT-1', unitPrice: 2500, lineTotal: 5000 }],
    });

    // A removed address is refused, even though the owner's route would still answer.
    await harness.publish(AddressRemoved, {
      addressId,
      userId,
      removedAt: new Date().toISOString(),
    });
    await waitFor(async () => {
      const [row] = (await dataSource.query(
        `SELECT removed_at FROM customer_addresses WHERE address_id = $1`,
        [addressId],
      )) as { removed_at: Date | null }[];
      return row?.removed_at;
    }, 'address removed');
    expect(
      (
        await client.place(token, {
          items: [{ productId, quantity: 1 }],
          shippingAddressId: addressId,
          paymentMethodId,
        })
      ).statusCode,
    ).toBe(422);
  });

  it('falls back to the owners on a miss (a card added a moment ago works)', async () => {
    const customer = await harness.customer();
    const calls = harness.owners.calls;
    expect(
      (await client.place(customer.token, client.body(customer, harness.product(1000)))).statusCode,
    ).toBe(202);
    expect(harness.owners.calls).toBeGreaterThan(calls);
  });
});

describe('reading orders', () => {
  it('customers see only their own (404 otherwise); staff see all; lists page newest first', async () => {
    const customer = await harness.customer();
    const other = await harness.customer();
    const staff = await harness.token(randomUUID(), 'manager');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(
        (
          await client.place(customer.token, client.body(customer, harness.product(1000 + i)))
        ).json<{ id: string }>().id,
      );
    }
    const order = await client.get(customer.token, ids[0]!);
    expect(
      (
        await client.request({
          method: 'GET',
          url: `/v1/orders/${ids[0]}`,
          headers: client.auth(other.token),
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await client.request({
          method: 'GET',
          url: `/v1/orders/${ids[0]}/timeline`,
          headers: client.auth(other.token),
        })
      ).statusCode,
    ).toBe(404);
    expect((await client.cancel(other.token, ids[0]!)).statusCode).toBe(404);
    expect(
      (
        await client.request({
          method: 'GET',
          url: `/v1/orders/${ids[0]}`,
          headers: client.auth(staff),
        })
      ).statusCode,
    ).toBe(200);
    const byNumber = await client.request({
      method: 'GET',
      url: `/v1/orders/by-number/${order.orderNumber}`,
      headers: client.auth(customer.token),
    });
    expect(byNumber.json<{ id: string }>().id).toBe(ids[0]);
    expect(
      (
        await client.request({
          method: 'GET',
          url: `/v1/orders/by-number/${order.orderNumber}`,
          headers: client.auth(other.token),
        })
      ).statusCode,
    ).toBe(404);

    const first = (
      await client.request({
        method: 'GET',
        url: '/v1/orders?limit=2',
        headers: client.auth(customer.token),
      })
    ).json<{ items: { id: string }[]; nextCursor: string }>();
    expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
    const second = (
      await client.request({
        method: 'GET',
        url: `/v1/orders?limit=2&cursor=${first.nextCursor}`,
        headers: client.auth(customer.token),
      })
    ).json<{ items: { id: string }[]; nextCursor: string | null }>();
    expect(second.items.map((item) => item.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
    const foreign = (
      await client.request({
        method: 'GET',
        url: `/v1/orders?customerId=${customer.id}`,
        headers: client.auth(other.token),
      })
    ).json<{ items: unknown[] }>();
    expect(foreign.items).toEqual([]);
    const staffView = (
      await client.request({
        method: 'GET',
        url: `/v1/orders?customerId=${customer.id}&status=pending`,
        headers: client.auth(staff),
      })
    ).json<{ items: unknown[] }>();
    expect(staffView.items).toHaveLength(3);
    expect(
      (
        await client.request({
          method: 'GET',
          url: '/v1/orders?cursor=bogus',
          headers: client.auth(staff),
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (
        await client.request({
          method: 'GET',
          url: '/v1/orders?limit=101',
          headers: client.auth(staff),
        })
      ).statusCode,
    ).toBe(400);
  });

  it('staff may order for a customer', async () => {
    const customer = await harness.customer();
    const staff = await harness.token(randomUUID(), 'employee');
    const placed = await client.place(staff, {
      ...client.body(customer, harness.product(1000)),
      customerId: customer.id,
    });
    expect(placed.statusCode).toBe(202);
    expect(placed.json()).toMatchObject({ customerId: customer.id });
  });
});
