import { createLogger } from '@shop/service-kit';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordHasher } from '../src/auth/passwords.js';
import { ensureBootstrapAdmin } from '../src/bootstrap-admin.js';
import { DEMO_CUSTOMER, seedUsers } from '../src/db/seed.js';
import { call, login, rowCounts, startUsers } from './support/users.js';

const ADMIN_EMAIL = 'root@shop.example.com';
const ADMIN_PASSWORD = 'bootstrap-admin-password';

let sut: TestService;

beforeAll(async () => {
  sut = await startUsers('users_bootstrap', {
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
});

afterAll(async () => {
  await sut?.stop();
});

async function countAdmins(service: TestService): Promise<number> {
  const rows = (await service.infrastructure.dataSource.query(
    `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND deleted_at IS NULL`,
  )) as Array<{ n: number }>;
  return rows[0]?.n ?? 0;
}

const quiet = createLogger({ service: 'users-test', level: 'silent' });

describe('bootstrap admin', () => {
  it('exists after start and can use the admin routes', async () => {
    expect(await countAdmins(sut)).toBe(1);
    const token = await login(sut, ADMIN_EMAIL, ADMIN_PASSWORD);
    const list = await call<{ items: Array<{ email: string; role: string }> }>(
      sut,
      'GET',
      '/v1/users?role=admin',
      { token },
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ email: ADMIN_EMAIL, role: 'admin' }),
    ]);
  });

  it('is not created again by more starts, even several at once', async () => {
    const before = await rowCounts(sut);
    const passwords = await createPasswordHasher();
    const settings = { email: ADMIN_EMAIL, password: ADMIN_PASSWORD };
    const outcomes = await Promise.all(
      [1, 2, 3].map(() =>
        ensureBootstrapAdmin(sut.infrastructure.dataSource, passwords, settings, quiet),
      ),
    );
    expect(outcomes).toEqual(['admin_exists', 'admin_exists', 'admin_exists']);
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('creates exactly one admin when replicas race on an empty shop', async () => {
    const empty = await startUsers('users_bootstrap_race');
    try {
      const passwords = await createPasswordHasher();
      const settings = { email: 'first@shop.example.com', password: ADMIN_PASSWORD };
      const outcomes = await Promise.all(
        [1, 2, 3].map(() =>
          ensureBootstrapAdmin(empty.infrastructure.dataSource, passwords, settings, quiet),
        ),
      );
      expect(outcomes.sort()).toEqual(['admin_exists', 'admin_exists', 'created']);
      expect(await countAdmins(empty)).toBe(1);
      const events = (await empty.infrastructure.dataSource.query(
        `SELECT count(*)::int AS n FROM outbox WHERE type = 'users.events.user.registered'`,
      )) as Array<{ n: number }>;
      expect(events[0]?.n).toBe(1);
    } finally {
      await empty.stop();
    }
  });

  it('refuses half a configuration', async () => {
    const passwords = await createPasswordHasher();
    await expect(
      ensureBootstrapAdmin(sut.infrastructure.dataSource, passwords, { email: ADMIN_EMAIL }, quiet),
    ).rejects.toThrow(/must be set together/);
  });
});

describe('seedUsers', () => {
  it('creates the demo customer with an address and a card once, however often it runs', async () => {
    const first = await seedUsers(sut.infrastructure.dataSource);
    expect(first.created).toEqual({ user: true, address: true, paymentMethod: true });
    const afterFirst = await rowCounts(sut);

    const again = await Promise.all([
      seedUsers(sut.infrastructure.dataSource),
      seedUsers(sut.infrastructure.dataSource),
    ]);
    for (const result of again) {
      expect(result).toEqual({
        userId: first.userId,
        email: DEMO_CUSTOMER.email,
        created: { user: false, address: false, paymentMethod: false },
      });
    }
    expect(await rowCounts(sut)).toEqual(afterFirst);

    const token = await login(sut, DEMO_CUSTOMER.email, DEMO_CUSTOMER.password);
    const addresses = await call<{ items: Array<{ type: string }> }>(
      sut,
      'GET',
      '/v1/users/me/addresses',
      { token },
    );
    expect(addresses.body.items).toEqual([expect.objectContaining({ type: 'shipping' })]);
    const card = (await sut.infrastructure.dataSource.query(
      `SELECT provider_payment_method_id FROM user_payment_methods WHERE user_id = $1`,
      [first.userId],
    )) as Array<{ provider_payment_method_id: string }>;
    expect(card).toEqual([{ provider_payment_method_id: 'pm_card_visa' }]);
  });
});
