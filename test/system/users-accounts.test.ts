import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createAccessTokenSigner, resolveAuthSecrets } from '@shop/service-kit';
import { waitFor } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  call,
  describeAnswer,
  isProblem,
  login,
  query,
  registerAndLogin,
  rowCounts,
  send,
  tokenClaims,
  uniqueEmail,
  type Answer,
  type Problem,
  type UserBody,
} from '../support/accounts.js';
import { startSystem, type SystemUnderTest } from '../support/system.js';

// Accounts, addresses, cards, roles and tokens, driven only through the gateway in front of
// every real process; the database is read only to prove what was (not) written.

let system: SystemUnderTest;
const adminEmail = `admin-${randomUUID()}@example.com`;
const adminPassword = `admin-${randomUUID()}`;

beforeAll(async () => {
  system = await startSystem('users_accounts', {
    BOOTSTRAP_ADMIN_EMAIL: adminEmail,
    BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    AUTH_RATE_LIMIT_PER_MINUTE: '0',
    // Request lines are how the tampering test proves the users service never saw a request.
    LOG_LEVEL: 'info',
    UPSTREAM_TIMEOUT_MS: '2000',
    UPSTREAM_BREAKER_RESET_MS: '500',
  });
});

afterAll(async () => {
  await system?.stop();
});

function expectProblem(answer: Answer, status: number, code?: string) {
  expect(isProblem(answer, status, code), describeAnswer(answer)).toBe(true);
}

const thisYear = new Date().getUTCFullYear();

const shipping = {
  type: 'shipping',
  line1: '1 Main St',
  city: 'Springfield',
  state: 'NY',
  country: 'US',
  postalCode: '12345',
};

const visa = {
  providerPaymentMethodId: 'pm_card_visa',
  cardBrand: 'visa',
  cardLast4: '4242',
  expMonth: 12,
  expYear: thisYear + 1,
};

interface AddressBody {
  id: string;
  type: string;
  line1: string;
  line2: string | null;
  isDefault: boolean;
}

interface CardBody {
  id: string;
  cardBrand: string;
  cardLast4: string;
  expMonth: number;
  expYear: number;
  isDefault: boolean;
}

describe('register, login and me', () => {
  it('registers a customer, logs in with a 15-minute Bearer token and reads /v1/users/me', async () => {
    const email = uniqueEmail('Reg');
    const before = await rowCounts(system);
    const registered = await call<UserBody>(system, 'POST', '/v1/auth/register', {
      body: {
        email,
        password: PASSWORD,
        firstName: 'Ada',
        lastName: 'Lovelace',
        phone: '555-0100',
      },
    });
    expect(registered.status, describeAnswer(registered)).toBe(201);
    expect(registered.body).toEqual({
      id: expect.any(String),
      email: expect.stringMatching(new RegExp(`^${email}$`, 'i')),
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: '555-0100',
      role: 'customer',
      emailVerified: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(registered.text).not.toMatch(/hash|argon|password/i);
    expect((await rowCounts(system)).users).toBe((before.users ?? 0) + 1);

    const loggedIn = await call<{ accessToken: string; tokenType: string; expiresIn: number }>(
      system,
      'POST',
      '/v1/auth/login',
      { body: { email, password: PASSWORD } },
    );
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    const claims = tokenClaims(loggedIn.body.accessToken);
    expect(claims).toMatchObject({ sub: registered.body.id, role: 'customer' });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);

    const me = await call<UserBody>(system, 'GET', '/v1/users/me', {
      token: loggedIn.body.accessToken,
    });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(registered.body);
  });

  it('refuses a second account for the same email in another case with 409 email_taken', async () => {
    const { email } = await registerAndLogin(system);
    const before = await rowCounts(system);
    const again = await call(system, 'POST', '/v1/auth/register', {
      body: { email: email.toUpperCase(), password: PASSWORD, firstName: 'Bo', lastName: 'Bo' },
    });
    expectProblem(again, 409, 'email_taken');
    expect(await rowCounts(system)).toEqual(before);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const { email } = await registerAndLogin(system);
    const wrong = await call<Problem>(system, 'POST', '/v1/auth/login', {
      body: { email, password: 'not the password' },
    });
    const unknown = await call<Problem>(system, 'POST', '/v1/auth/login', {
      body: { email: uniqueEmail('nobody'), password: PASSWORD },
    });
    expectProblem(wrong, 401, 'unauthorized');
    expectProblem(unknown, 401, 'unauthorized');
    expect({ ...wrong.body, instance: undefined }).toEqual({
      ...unknown.body,
      instance: undefined,
    });
  });

  it('updates names and clears the phone with PATCH /v1/users/me', async () => {
    const { token, user } = await registerAndLogin(system, { phone: '555-0101' });
    const patched = await call<UserBody>(system, 'PATCH', '/v1/users/me', {
      token,
      body: { firstName: 'Grace', lastName: 'Hopper', phone: null },
    });
    expect(patched.status, describeAnswer(patched)).toBe(200);
    expect(patched.body).toMatchObject({
      id: user.id,
      email: user.email,
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: null,
      role: 'customer',
    });
    const me = await call<UserBody>(system, 'GET', '/v1/users/me', { token });
    expect(me.body).toEqual(patched.body);
    expect(Date.parse(me.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(user.updatedAt));
  });

  it('answers /v1/users/me without a token with 401 problem+json', async () => {
    expectProblem(await call(system, 'GET', '/v1/users/me'), 401, 'unauthorized');
  });
});

describe('addresses', () => {
  it('adds, lists and deletes the caller’s own addresses', async () => {
    const { token } = await registerAndLogin(system);
    const added = await call<AddressBody>(system, 'POST', '/v1/users/me/addresses', {
      token,
      body: { ...shipping, isDefault: true },
    });
    expect(added.status, describeAnswer(added)).toBe(201);
    expect(added.body).toMatchObject({ ...shipping, line2: null, isDefault: true });
    const billing = await call<AddressBody>(system, 'POST', '/v1/users/me/addresses', {
      token,
      body: { ...shipping, type: 'billing', line2: 'Suite 5' },
    });
    expect(billing.status).toBe(201);

    const list = await call<{ items: AddressBody[] }>(system, 'GET', '/v1/users/me/addresses', {
      token,
    });
    expect(list.status).toBe(200);
    expect(list.body.items.map((item) => item.id).sort()).toEqual(
      [added.body.id, billing.body.id].sort(),
    );

    const removed = await call(system, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, {
      token,
    });
    expect(removed.status).toBe(204);
    const after = await call<{ items: AddressBody[] }>(system, 'GET', '/v1/users/me/addresses', {
      token,
    });
    expect(after.body.items.map((item) => item.id)).toEqual([billing.body.id]);
    expectProblem(
      await call(system, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, { token }),
      404,
      'not_found',
    );
  });

  it('hides another customer’s address: not listed, 404 to delete, nothing changed', async () => {
    const owner = await registerAndLogin(system);
    const stranger = await registerAndLogin(system);
    const added = await call<AddressBody>(system, 'POST', '/v1/users/me/addresses', {
      token: owner.token,
      body: shipping,
    });
    expect(added.status).toBe(201);
    const strangers = await call<{ items: AddressBody[] }>(
      system,
      'GET',
      '/v1/users/me/addresses',
      { token: stranger.token },
    );
    expect(strangers.body.items).toEqual([]);

    const before = await rowCounts(system);
    const answer = await call(system, 'DELETE', `/v1/users/me/addresses/${added.body.id}`, {
      token: stranger.token,
    });
    expectProblem(answer, 404, 'not_found');
    expectProblem(
      await call(system, 'DELETE', `/v1/users/me/addresses/${randomUUID()}`, {
        token: stranger.token,
      }),
      404,
      'not_found',
    );
    expect(await rowCounts(system)).toEqual(before);
    const owners = await call<{ items: AddressBody[] }>(system, 'GET', '/v1/users/me/addresses', {
      token: owner.token,
    });
    expect(owners.body.items.map((item) => item.id)).toEqual([added.body.id]);
  });
});

describe('payment methods', () => {
  it('adds, lists and deletes a card token, answering only display fields', async () => {
    const { token } = await registerAndLogin(system);
    const added = await call<CardBody>(system, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: { ...visa, isDefault: true },
    });
    expect(added.status, describeAnswer(added)).toBe(201);
    expect(added.body).toEqual({
      id: expect.any(String),
      cardBrand: 'visa',
      cardLast4: '4242',
      expMonth: 12,
      expYear: thisYear + 1,
      isDefault: true,
    });
    const list = await call<{ items: CardBody[] }>(system, 'GET', '/v1/users/me/payment-methods', {
      token,
    });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([added.body]);
    expect(list.text).not.toContain('pm_card_visa');

    const duplicate = await call(system, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: visa,
    });
    expectProblem(duplicate, 409, 'payment_method_exists');

    const removed = await call(system, 'DELETE', `/v1/users/me/payment-methods/${added.body.id}`, {
      token,
    });
    expect(removed.status).toBe(204);
    const after = await call<{ items: CardBody[] }>(system, 'GET', '/v1/users/me/payment-methods', {
      token,
    });
    expect(after.body.items).toEqual([]);
    // Removed, the same provider token may be saved again.
    const readded = await call(system, 'POST', '/v1/users/me/payment-methods', {
      token,
      body: visa,
    });
    expect(readded.status).toBe(201);
  });

  it('refuses a card number and an expired card with 400, writing nothing', async () => {
    const { token } = await registerAndLogin(system);
    const before = await rowCounts(system);
    const pans = [
      { ...visa, providerPaymentMethodId: '4242424242424242' },
      { ...visa, cardBrand: '4242 4242 4242 4242' },
      { ...visa, cardNumber: '4242424242424242' },
    ];
    for (const body of pans) {
      const answer = await call(system, 'POST', '/v1/users/me/payment-methods', { token, body });
      expectProblem(answer, 400);
      expect(answer.text).not.toContain('4242424242424242');
      expect(answer.text).not.toContain('4242 4242 4242 4242');
    }
    expectProblem(
      await call(system, 'POST', '/v1/users/me/payment-methods', { token, body: pans[1] }),
      400,
      'card_number_refused',
    );

    const now = new Date();
    const lastMonth =
      now.getUTCMonth() === 0
        ? { expMonth: 12, expYear: now.getUTCFullYear() - 1 }
        : { expMonth: now.getUTCMonth(), expYear: now.getUTCFullYear() };
    for (const expiry of [{ expMonth: 12, expYear: thisYear - 1 }, lastMonth]) {
      const answer = await call(system, 'POST', '/v1/users/me/payment-methods', {
        token,
        body: { ...visa, ...expiry },
      });
      expectProblem(answer, 400, 'card_expired');
    }
    expect(await rowCounts(system)).toEqual(before);
  });

  it('hides another customer’s card: not listed, 404 to delete, nothing changed', async () => {
    const owner = await registerAndLogin(system);
    const stranger = await registerAndLogin(system);
    const added = await call<CardBody>(system, 'POST', '/v1/users/me/payment-methods', {
      token: owner.token,
      body: visa,
    });
    expect(added.status).toBe(201);
    const strangers = await call<{ items: CardBody[] }>(
      system,
      'GET',
      '/v1/users/me/payment-methods',
      { token: stranger.token },
    );
    expect(strangers.body.items).toEqual([]);
    const before = await rowCounts(system);
    expectProblem(
      await call(system, 'DELETE', `/v1/users/me/payment-methods/${added.body.id}`, {
        token: stranger.token,
      }),
      404,
      'not_found',
    );
    expect(await rowCounts(system)).toEqual(before);
    const owners = await call<{ items: CardBody[] }>(
      system,
      'GET',
      '/v1/users/me/payment-methods',
      { token: owner.token },
    );
    expect(owners.body.items.map((item) => item.id)).toEqual([added.body.id]);
  });
});

describe('role changes', () => {
  it('are for admins only: 401 without a token, 403 to a customer, even with a broken body', async () => {
    const target = await registerAndLogin(system);
    const customer = await registerAndLogin(system);
    const url = `/v1/users/${target.user.id}/role`;
    const before = await rowCounts(system);
    expectProblem(
      await call(system, 'PATCH', url, { body: { role: 'admin' } }),
      401,
      'unauthorized',
    );
    expectProblem(await call(system, 'PATCH', url, { rawBody: '{broken' }), 401, 'unauthorized');
    expectProblem(
      await call(system, 'PATCH', url, { token: customer.token, body: { role: 'admin' } }),
      403,
      'forbidden',
    );
    expectProblem(
      await call(system, 'PATCH', url, { token: customer.token, rawBody: '{broken' }),
      403,
      'forbidden',
    );
    // A customer cannot promote themself either.
    expectProblem(
      await call(system, 'PATCH', `/v1/users/${customer.user.id}/role`, {
        token: customer.token,
        body: { role: 'admin' },
      }),
      403,
      'forbidden',
    );
    expectProblem(
      await call(system, 'GET', '/v1/users', { token: customer.token }),
      403,
      'forbidden',
    );
    expect(await rowCounts(system)).toEqual(before);
    const me = await call<UserBody>(system, 'GET', '/v1/users/me', { token: target.token });
    expect(me.body.role).toBe('customer');
  });

  it('an admin changes a role; the user’s next token carries it, and other services honour it', async () => {
    const adminToken = await login(system, adminEmail, adminPassword);
    expect(tokenClaims(adminToken).role).toBe('admin');
    const target = await registerAndLogin(system);
    expectProblem(
      await call(system, 'GET', '/v1/inventory/low-stock', { token: target.token }),
      403,
      'forbidden',
    );

    const changed = await call<UserBody>(system, 'PATCH', `/v1/users/${target.user.id}/role`, {
      token: adminToken,
      body: { role: 'employee' },
    });
    expect(changed.status, describeAnswer(changed)).toBe(200);
    expect(changed.body).toMatchObject({ id: target.user.id, role: 'employee' });

    const adminId = tokenClaims(adminToken).sub;
    const audits = await query<{ user_id: string; old_values: unknown; new_values: unknown }>(
      system,
      `SELECT user_id, old_values, new_values FROM users.audit_logs
       WHERE entity_id = $1 AND new_values ->> 'role' = 'employee'`,
      [target.user.id],
    );
    expect(audits).toEqual([
      { user_id: adminId, old_values: { role: 'customer' }, new_values: { role: 'employee' } },
    ]);

    const nextToken = await login(system, target.email, PASSWORD);
    expect(tokenClaims(nextToken)).toMatchObject({ sub: target.user.id, role: 'employee' });
    const me = await call<UserBody>(system, 'GET', '/v1/users/me', { token: nextToken });
    expect(me.body.role).toBe('employee');
    // Staff now, for the inventory service too, which only reads the verified token.
    const staffOnly = await call(system, 'GET', '/v1/inventory/low-stock', { token: nextToken });
    expect(staffOnly.status, describeAnswer(staffOnly)).toBe(200);

    const listed = await call<{ items: UserBody[] }>(
      system,
      'GET',
      `/v1/users?email=${encodeURIComponent(target.email)}`,
      { token: adminToken },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((user) => [user.id, user.role])).toEqual([
      [target.user.id, 'employee'],
    ]);
  });

  it('a demotion ends the old token at once, at the gateway and in each service; a new login works', async () => {
    const adminToken = await login(system, adminEmail, adminPassword);
    const target = await registerAndLogin(system);
    const setRole = (role: string) =>
      call(system, 'PATCH', `/v1/users/${target.user.id}/role`, {
        token: adminToken,
        body: { role },
      });
    expect((await setRole('manager')).status).toBe(200);
    const managerToken = await login(system, target.email, PASSWORD);
    const lowStock = '/v1/inventory/low-stock';
    expect((await call(system, 'GET', lowStock, { token: managerToken })).status).toBe(200);

    expect((await setRole('customer')).status).toBe(200);
    // No wait: the gateway refuses it, and so does a service called directly.
    expectProblem(
      await call(system, 'GET', lowStock, { token: managerToken }),
      401,
      'unauthorized',
    );
    const direct = await send(`${system.url('inventory')}${lowStock}`, 'GET', {
      authorization: `Bearer ${managerToken}`,
    });
    expect(direct.status, direct.text).toBe(401);
    expect(JSON.parse(direct.text)).toMatchObject({ code: 'unauthorized' });

    const customerToken = await login(system, target.email, PASSWORD);
    expect(tokenClaims(customerToken).role).toBe('customer');
    expectProblem(await call(system, 'GET', lowStock, { token: customerToken }), 403, 'forbidden');
    expect((await call(system, 'GET', '/v1/orders', { token: customerToken })).status).toBe(200);
  });
});

describe('tokens', () => {
  function base64url(value: unknown): string {
    return Buffer.from(JSON.stringify(value)).toString('base64url');
  }

  it('refuses tampered, foreign, alg-none and expired tokens with 401 at the gateway', async () => {
    const { token, user } = await registerAndLogin(system);
    const [header = '', payload = '', signature = ''] = token.split('.');
    const claims = tokenClaims(token);

    // Flip one character in the middle of the signature (the last one may carry only padding bits).
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    const secrets = await resolveAuthSecrets(system.env);
    if (!secrets.privateKey) throw new Error('the system has no signing key to test with');
    const devSigner = createAccessTokenSigner({ privateKey: secrets.privateKey });
    const foreignKey = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const foreignSigner = createAccessTokenSigner({ privateKey: foreignKey });
    const hsHeader = base64url({ alg: 'HS256', typ: 'JWT' });
    const hsSignature = createHmac('sha256', secrets.publicKey)
      .update(`${hsHeader}.${payload}`)
      .digest('base64url');
    const identity = { userId: user.id, role: 'customer' as const };

    const forged: Record<string, string> = {
      'flipped signature': `${header}.${payload}.${flipped}`,
      'no signature': `${header}.${payload}.`,
      'alg none': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'role raised to admin in the payload': `${header}.${base64url({ ...claims, role: 'admin' })}.${signature}`,
      'HS256 keyed with the public key': `${hsHeader}.${payload}.${hsSignature}`,
      'signed by a foreign key': await foreignSigner.sign(identity),
      'expired an hour ago': await devSigner.sign(identity, {
        ttlSeconds: 60,
        now: new Date(Date.now() - 3_600_000),
      }),
      garbage: 'not-a-jwt',
    };

    // The control: the same key, not backdated, is accepted; the key really is the system's.
    const fresh = await devSigner.sign(identity);
    expect((await call(system, 'GET', '/v1/users/me', { token: fresh })).status).toBe(200);

    const marker = `tamper-${randomUUID()}`;
    const failures: string[] = [];
    for (const [name, forgedToken] of Object.entries(forged)) {
      for (const [method, path] of [
        ['GET', '/v1/users/me'],
        ['DELETE', '/v1/users/me'],
        ['GET', '/v1/orders'],
      ] as const) {
        const answer = await call(system, method, path, {
          token: forgedToken,
          headers: { 'x-request-id': `${marker}-${failures.length}-${name.replaceAll(' ', '-')}` },
        });
        if (!isProblem(answer, 401, 'unauthorized'))
          failures.push(`${name} ${method} ${path}: ${describeAnswer(answer)}`);
      }
    }
    expect(failures).toEqual([]);

    // The gateway refused them itself: a later request's line reaches the users service's log,
    // while no line there names any refused request's id.
    const after = `after-${randomUUID()}`;
    const control = await call(system, 'GET', '/v1/users/me', {
      token,
      headers: { 'x-request-id': after },
    });
    expect(control.status).toBe(200);
    await waitFor(
      () => system.logs('users').some((line) => line.includes(after)),
      'the control request in the users log',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(system.logs('users').filter((line) => line.includes(marker))).toEqual([]);
    // And the account is untouched (DELETE /v1/users/me was among the refused calls).
    expect((await call(system, 'GET', '/v1/users/me', { token })).status).toBe(200);
  });
});

describe('deleting an account', () => {
  it('soft-deletes: no more login, the old token is refused, the email is free again', async () => {
    const account = await registerAndLogin(system);
    const removed = await call(system, 'DELETE', '/v1/users/me', { token: account.token });
    expect(removed.status, describeAnswer(removed)).toBe(204);

    const [row] = await query<{ deleted_at: Date | null }>(
      system,
      'SELECT deleted_at FROM users.users WHERE id = $1',
      [account.user.id],
    );
    expect(row?.deleted_at).toBeInstanceOf(Date);

    const again = await call(system, 'POST', '/v1/auth/login', {
      body: { email: account.email, password: PASSWORD },
    });
    expectProblem(again, 401, 'unauthorized');
    // Refused at once by every service, not only by the users service that knows the account.
    expectProblem(
      await call(system, 'GET', '/v1/users/me', { token: account.token }),
      401,
      'unauthorized',
    );
    expectProblem(
      await call(system, 'GET', '/v1/orders', { token: account.token }),
      401,
      'unauthorized',
    );
    const reregistered = await call<UserBody>(system, 'POST', '/v1/auth/register', {
      body: { email: account.email, password: PASSWORD, firstName: 'New', lastName: 'Start' },
    });
    expect(reregistered.status, describeAnswer(reregistered)).toBe(201);
    expect(reregistered.body.id).not.toBe(account.user.id);
  });
});

// Last: it kills the users service.
describe('a dead users service', () => {
  it('gives 503 problem+json fast on login while products still answer, and recovers', async () => {
    const account = await registerAndLogin(system);
    await system.kill('users');

    const down = await call(system, 'POST', '/v1/auth/login', {
      body: { email: account.email, password: PASSWORD },
    });
    expectProblem(down, 503, 'service_unavailable');
    expect(down.elapsedMs).toBeLessThan(2000);
    const me = await call(system, 'GET', '/v1/users/me', { token: account.token });
    expectProblem(me, 503, 'service_unavailable');
    expect(me.elapsedMs).toBeLessThan(2000);

    const products = await call<{ items: unknown[] }>(system, 'GET', '/v1/products');
    expect(products.status, describeAnswer(products)).toBe(200);
    expect(Array.isArray(products.body.items)).toBe(true);

    await system.restart('users');
    await waitFor(
      async () =>
        (
          await call(system, 'POST', '/v1/auth/login', {
            body: { email: account.email, password: PASSWORD },
          })
        ).status === 200,
      'login answering 200 again',
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const token = await login(system, account.email, PASSWORD);
    const back = await call<UserBody>(system, 'GET', '/v1/users/me', { token });
    expect(back.status).toBe(200);
    expect(back.body.id).toBe(account.user.id);
  });
});
