import { createLogger, openDataSource, pgErrorCode } from '@shop/service-kit';
import { waitFor, type TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  call,
  newCustomer,
  outboxMessages,
  rowCounts,
  startUsers,
  type Problem,
} from './support/users.js';

let sut: TestService;

beforeAll(async () => {
  sut = await startUsers('users_wallet');
});

afterAll(async () => {
  await sut?.stop();
});

const nextYear = new Date().getUTCFullYear() + 1;

const address = {
  type: 'shipping',
  line1: '1 Main St',
  city: 'Springfield',
  state: 'NY',
  country: 'US',
  postalCode: '12345',
};

const card = {
  providerPaymentMethodId: 'pm_card_visa',
  cardBrand: 'visa',
  cardLast4: '4242',
  expMonth: 12,
  expYear: nextYear,
};

interface AddressBody {
  id: string;
  type: string;
  line2: string | null;
  isDefault: boolean;
}

interface CardBody {
  id: string;
  isDefault: boolean;
}

describe('addresses', () => {
  it('adds, lists and removes the caller’s addresses with events and audit rows', async () => {
    const { token, user } = await newCustomer(sut);
    const added = await call<AddressBody>(sut, 'POST', '/v1/users/me/addresses', {
      token,
      body: { ...address, isDefault: true },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.any(String),
      ...address,
      line2: null,
      isDefault: true,
      createdAt: expect.any(String),
    });
    const [event] = await outboxMessages(
      sut,
      'users.events.address.added',
      'addressId',
      added.body.id,
    );
    expect(event?.payload.data).toMatchObject({ userId: user.id, ...address, isDefault: true });
    expect(event?.payload.data).not.toHaveProperty('line2');

    const list = await call<{ items: AddressBody[] }>(sut, 'GET', '/v1/users/me/addresses', {
      token,
    });
    expect(list.body.items.map((item) => item.id)).toEqual([added.body.id]);

    const removed = await call(sut, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, { token });
    expect(removed.status).toBe(204);
    expect(
      await outboxMessages(sut, 'users.events.address.removed', 'addressId', added.body.id),
    ).toHaveLength(1);
    expect((await auditRows(sut, added.body.id)).map((row) => row.action)).toEqual([
      'create',
      'delete',
    ]);
    const after = await call<{ items: AddressBody[] }>(sut, 'GET', '/v1/users/me/addresses', {
      token,
    });
    expect(after.body.items).toEqual([]);
    const again = await call(sut, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, { token });
    expect(again.status).toBe(404);
  });

  it('keeps one default per type: a new default replaces the old one', async () => {
    const { token } = await newCustomer(sut);
    const first = await call<AddressBody>(sut, 'POST', '/v1/users/me/addresses', {
      token,
      body: { ...address, isDefault: true },
    });
    const second = await call<AddressBody>(sut, 'POST', '/v1/users/me/addresses', {
      token,
      body: { ...address, line1: '2 Main St', line2: 'Apt 4', isDefault: true },
    });
    expect(second.status).toBe(201);
    const list = await call<{ items: AddressBody[] }>(sut, 'GET', '/v1/users/me/addresses', {
      token,
    });
    const defaults = list.body.items.filter((item) => item.isDefault).map((item) => item.id);
    expect(defaults).toEqual([second.body.id]);
    expect((await auditRows(sut, first.body.id)).map((row) => row.action)).toEqual([
      'create',
      'update',
    ]);
  });

  it('hides another customer’s address: not listed, and 404 to delete', async () => {
    const owner = await newCustomer(sut);
    const stranger = await newCustomer(sut);
    const added = await call<AddressBody>(sut, 'POST', '/v1/users/me/addresses', {
      token: owner.token,
      body: address,
    });
    const list = await call<{ items: AddressBody[] }>(sut, 'GET', '/v1/users/me/addresses', {
      token: stranger.token,
    });
    expect(list.body.items).toEqual([]);
    const before = await rowCounts(sut);
    const answer = await call<Problem>(sut, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, {
      token: stranger.token,
    });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('not_found');
    expect(await rowCounts(sut)).toEqual(before);
  });
});

describe('payment methods', () => {
  it('saves a card token and answers only its display fields', async () => {
    const { token, user } = await newCustomer(sut);
    const added = await call<CardBody>(sut, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: { ...card, isDefault: true },
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.any(String),
      cardBrand: 'visa',
      cardLast4: '4242',
      expMonth: 12,
      expYear: nextYear,
      isDefault: true,
    });
    const [event] = await outboxMessages(
      sut,
      'users.events.payment-method.added',
      'paymentMethodId',
      added.body.id,
    );
    expect(event?.payload.data).toMatchObject({
      userId: user.id,
      providerPaymentMethodId: 'pm_card_visa',
    });
    const audits = await auditRows(sut, added.body.id);
    expect(JSON.stringify(audits)).not.toContain('pm_card_visa');

    const list = await call<{ items: CardBody[] }>(sut, 'GET', '/v1/users/me/payment-methods', {
      token,
    });
    expect(list.body.items).toEqual([added.body]);
    expect(JSON.stringify(list.body)).not.toContain('pm_');
  });

  it('lets two customers hold the same sandbox token, but one customer only once', async () => {
    const first = await newCustomer(sut);
    const second = await newCustomer(sut);
    for (const { token } of [first, second]) {
      const answer = await call(sut, 'POST', '/v1/users/me/payment-methods', { token, body: card });
      expect(answer.status).toBe(201);
    }
    const before = await rowCounts(sut);
    const duplicate = await call<Problem>(sut, 'POST', '/v1/users/me/payment-methods', {
      token: first.token,
      body: card,
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('payment_method_exists');
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('refuses anything that looks like a card number, and an expired card, writing nothing', async () => {
    const { token } = await newCustomer(sut);
    const before = await rowCounts(sut);
    const bodies = [
      { ...card, providerPaymentMethodId: '4242424242424242' },
      { ...card, providerPaymentMethodId: 'pm_4242424242424242' },
      { ...card, cardBrand: '4242 4242 4242 4242' },
      { ...card, cardNumber: '4242424242424242' },
    ];
    for (const body of bodies) {
      const answer = await call<Problem>(sut, 'POST', '/v1/users/me/payment-methods', {
        token,
        body,
      });
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(answer.body)).not.toContain('4242424242424242');
    }
    const panInBrand = await call<Problem>(sut, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: { ...card, cardBrand: '4242 4242 4242 4242' },
    });
    expect(panInBrand.body.code).toBe('card_number_refused');

    const lastYear = new Date().getUTCFullYear() - 1;
    const expired = await call<Problem>(sut, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: { ...card, expYear: lastYear },
    });
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('card_expired');
    for (const expMonth of [0, 13]) {
      const answer = await call(sut, 'POST', '/v1/users/me/payment-methods', {
        token,
        body: { ...card, expMonth },
      });
      expect(answer.status).toBe(400);
    }
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('hides another customer’s card and removes the caller’s own', async () => {
    const owner = await newCustomer(sut);
    const stranger = await newCustomer(sut);
    const added = await call<CardBody>(sut, 'POST', '/v1/users/me/payment-methods', {
      token: owner.token,
      body: card,
    });
    const url = `/v1/users/me/payment-methods/${added.body.id}`;
    expect((await call(sut, 'DELETE', url, { token: stranger.token })).status).toBe(404);
    expect((await call(sut, 'DELETE', url, { token: owner.token })).status).toBe(204);
    expect(
      await outboxMessages(
        sut,
        'users.events.payment-method.removed',
        'paymentMethodId',
        added.body.id,
      ),
    ).toHaveLength(1);
    expect((await call(sut, 'DELETE', url, { token: owner.token })).status).toBe(404);
    // Removed, the token may be saved again.
    const again = await call(sut, 'POST', '/v1/users/me/payment-methods', {
      token: owner.token,
      body: card,
    });
    expect(again.status).toBe(201);
  });
});

describe('one transaction per change', () => {
  it('rolls the address and its audit row back when its event cannot be written', async () => {
    const { token } = await newCustomer(sut);
    // As the migration role, make the outbox refuse this one event type, so the failure comes
    // after the address and its audit row were written in the same transaction.
    const admin = await openDataSource({
      url: sut.database.url,
      schema: 'users',
      logger: createLogger({ service: 'users-test', level: 'silent' }),
    });
    try {
      await admin.query(`
        CREATE FUNCTION refuse_address_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.type = 'users.events.address.added' THEN
            RAISE EXCEPTION 'outbox unavailable (test)';
          END IF;
          RETURN NEW;
        END $$`);
      await admin.query(`CREATE TRIGGER refuse_address_events BEFORE INSERT ON outbox
        FOR EACH ROW EXECUTE FUNCTION refuse_address_events()`);
      const before = await rowCounts(sut);
      const answer = await call<Problem>(sut, 'POST', '/v1/users/me/addresses', {
        token,
        body: { ...address, isDefault: true },
      });
      expect(answer.status).toBe(500);
      expect(answer.body.code).toBe('internal_error');
      expect(await rowCounts(sut)).toEqual(before);
    } finally {
      await admin.query('DROP TRIGGER IF EXISTS refuse_address_events ON outbox');
      await admin.query('DROP FUNCTION IF EXISTS refuse_address_events()');
      await admin.destroy();
    }
    const retried = await call(sut, 'POST', '/v1/users/me/addresses', { token, body: address });
    expect(retried.status).toBe(201);
  });

  it('publishes the outbox rows to NATS (the relay marks them sent)', async () => {
    const { user } = await newCustomer(sut);
    await waitFor(
      async () => {
        const rows = (await sut.infrastructure.dataSource.query(
          `SELECT published_at FROM outbox
           WHERE type = 'users.events.user.registered' AND payload -> 'data' ->> 'userId' = $1`,
          [user.id],
        )) as Array<{ published_at: Date | null }>;
        return rows[0]?.published_at;
      },
      'the relay to publish the event',
      { timeoutMs: 15_000 },
    );
  });
});

describe('concurrent changes', () => {
  it('leaves exactly one default address when several defaults arrive at once', async () => {
    const { token } = await newCustomer(sut);
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        call(sut, 'POST', '/v1/users/me/addresses', {
          token,
          body: { ...address, line1: `${n} Main St`, isDefault: true },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201]);
    const list = await call<{ items: AddressBody[] }>(sut, 'GET', '/v1/users/me/addresses', {
      token,
    });
    expect(list.body.items).toHaveLength(5);
    expect(list.body.items.filter((item) => item.isDefault)).toHaveLength(1);
  });
});

describe('the database itself', () => {
  it('refuses what the API refuses, even from code that skips the checks', async () => {
    const { user } = await newCustomer(sut);
    const db = sut.infrastructure.dataSource;
    const hash = `$argon2id$${'x'.repeat(80)}`;
    const refused = [
      [
        `INSERT INTO users (email, password_hash, first_name, last_name, role)
        VALUES ('x@example.com', $1, 'A', 'B', 'owner')`,
        [hash],
      ],
      [
        `INSERT INTO users (email, password_hash, first_name, last_name)
        VALUES ('x@example.com', 'plaintext', 'A', 'B')`,
        [],
      ],
      [
        `INSERT INTO users (email, password_hash, first_name, last_name)
        VALUES ('x@example.com', $1, '', 'B')`,
        [hash],
      ],
      [
        `INSERT INTO users (email, password_hash, first_name, last_name)
        VALUES (upper($2), $1, 'A', 'B')`,
        [hash, user.email],
      ],
      [
        `INSERT INTO user_payment_methods
          (user_id, provider_payment_method_id, card_brand, card_last4, exp_month, exp_year)
        VALUES ($1, 'pm_x', 'visa', '42a2', 1, 2030)`,
        [user.id],
      ],
      [
        `INSERT INTO user_payment_methods
          (user_id, provider_payment_method_id, card_brand, card_last4, exp_month, exp_year)
        VALUES ($1, 'pm_x', 'visa', '4242', 13, 2030)`,
        [user.id],
      ],
      [
        `INSERT INTO user_addresses (user_id, type, line1, city, state, country, postal_code)
        VALUES ($1, 'home', 'l', 'c', 's', 'US', '1')`,
        [user.id],
      ],
    ] as const;
    for (const [sql, parameters] of refused) {
      await expect(db.query(sql, [...parameters]), sql).rejects.toThrow();
    }
  });
});

describe('the account rows in the database', () => {
  it('a physical delete (an erasure) takes the addresses and cards with it', async () => {
    const customer = await newCustomer(sut);
    for (const [path, body] of [
      ['/v1/users/me/addresses', address],
      ['/v1/users/me/payment-methods', card],
    ] as const) {
      expect((await call(sut, 'POST', path, { token: customer.token, body })).status).toBe(201);
    }
    // As the migration owner: the service's own role may not delete accounts.
    const admin = await openDataSource({
      url: sut.database.url,
      schema: 'users',
      logger: createLogger({ service: 'wallet-test', level: 'silent' }),
    });
    try {
      await admin.query('DELETE FROM users WHERE id = $1', [customer.user.id]);
      const [left] = (await admin.query(
        `SELECT (SELECT count(*)::int FROM user_addresses WHERE user_id = $1) AS addresses,
                (SELECT count(*)::int FROM user_payment_methods WHERE user_id = $1) AS cards`,
        [customer.user.id],
      )) as { addresses: number; cards: number }[];
      expect(left).toEqual({ addresses: 0, cards: 0 });

      // And no account is ever dated in the future.
      const future = await admin
        .query(`UPDATE users SET created_at = now() + interval '1 day' WHERE id <> $1`, [
          customer.user.id,
        ])
        .then(
          () => 'accepted',
          (error: unknown) => pgErrorCode(error),
        );
      expect(future).toBe('23514');
    } finally {
      await admin.destroy();
    }
  });
});
