import { resolveAuthSecrets, createAccessTokenSigner } from '@shop/service-kit';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  auditRows,
  call,
  login,
  newCustomer,
  outboxMessages,
  rowCounts,
  startUsers,
  uniqueEmail,
  type Problem,
  type UserBody,
} from './support/users.js';

let sut: TestService;

beforeAll(async () => {
  sut = await startUsers('users_accounts');
});

afterAll(async () => {
  await sut?.stop();
});

describe('register', () => {
  it('creates a customer and answers the user object, never a hash', async () => {
    const email = uniqueEmail();
    const answer = await call<UserBody>(sut, 'POST', '/v1/auth/register', {
      body: { email, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace', phone: '+1555' },
      headers: { 'user-agent': 'vitest-agent' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      id: expect.any(String),
      email,
      firstName: 'Ada',
      lastName: 'Lovelace',
      phone: '+1555',
      role: 'customer',
      emailVerified: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const stored = (await sut.infrastructure.dataSource.query(
      'SELECT password_hash FROM users WHERE id = $1',
      [answer.body.id],
    )) as Array<{ password_hash: string }>;
    expect(stored[0]?.password_hash).toMatch(/^\$argon2id\$/);

    const [audit] = await auditRows(sut, answer.body.id);
    expect(audit).toMatchObject({
      user_id: answer.body.id,
      entity_type: 'user',
      action: 'create',
      user_agent: 'vitest-agent',
    });
    expect(audit?.ip_address).toBeTruthy();
    expect(JSON.stringify(audit)).not.toContain('argon2');
    expect(JSON.stringify(audit)).not.toContain('passwordHash');

    const events = await outboxMessages(
      sut,
      'users.events.user.registered',
      'userId',
      answer.body.id,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.payload.data).toMatchObject({ email, role: 'customer' });
  });

  it('treats emails case-insensitively: a second account with another case is 409 email_taken', async () => {
    const email = uniqueEmail();
    await newCustomer(sut, email);
    const before = await rowCounts(sut);
    const answer = await call<Problem>(sut, 'POST', '/v1/auth/register', {
      body: { email: email.toUpperCase(), password: PASSWORD, firstName: 'B', lastName: 'C' },
    });
    expect(answer.status).toBe(409);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.body.code).toBe('email_taken');
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('refuses a role field with 400 and writes nothing', async () => {
    const before = await rowCounts(sut);
    const answer = await call<Problem>(sut, 'POST', '/v1/auth/register', {
      body: {
        email: uniqueEmail(),
        password: PASSWORD,
        firstName: 'Eve',
        lastName: 'Admin',
        role: 'admin',
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation_failed');
    expect(answer.body.errors).toContainEqual({ path: '/body/role', message: expect.any(String) });
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('lets concurrent registrations of one email create exactly one account', async () => {
    const email = uniqueEmail();
    const answers = await Promise.all(
      [email, email.toUpperCase(), email, email.toUpperCase()].map((variant) =>
        call(sut, 'POST', '/v1/auth/register', {
          body: { email: variant, password: PASSWORD, firstName: 'R', lastName: 'Ace' },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409]);
    const rows = (await sut.infrastructure.dataSource.query(
      'SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)',
      [email],
    )) as Array<{ n: number }>;
    expect(rows[0]?.n).toBe(1);
  });
});

describe('login', () => {
  it('answers a Bearer token that opens /v1/users/me', async () => {
    const { email, user } = await newCustomer(sut);
    const answer = await call<{ accessToken: string; tokenType: string; expiresIn: number }>(
      sut,
      'POST',
      '/v1/auth/login',
      { body: { email: email.toUpperCase(), password: PASSWORD } },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
    });
    const me = await call<UserBody>(sut, 'GET', '/v1/users/me', {
      token: answer.body.accessToken,
    });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(user);
    expect(JSON.stringify(me.body)).not.toMatch(/hash|password/i);
  });

  it('gives an unknown email and a wrong password the very same answer', async () => {
    const { email } = await newCustomer(sut);
    const wrongPassword = await call<Problem>(sut, 'POST', '/v1/auth/login', {
      body: { email, password: 'not the password' },
    });
    const unknownEmail = await call<Problem>(sut, 'POST', '/v1/auth/login', {
      body: { email: uniqueEmail('nobody'), password: 'not the password' },
    });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(unknownEmail.body).toEqual(wrongPassword.body);
    expect(unknownEmail.headers['content-type']).toBe(wrongPassword.headers['content-type']);
  });
});

describe('tokens', () => {
  it('refuses a missing, tampered, foreign or expired token with 401', async () => {
    const { token, user } = await newCustomer(sut);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const promoted = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString(
      'base64url',
    );
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const secrets = await resolveAuthSecrets();
    const expired = await createAccessTokenSigner({ privateKey: secrets.privateKey! }).sign(
      { userId: user.id, role: 'customer' },
      { now: new Date(Date.now() - 3_600_000) },
    );

    for (const bad of [undefined, `${header}.${promoted}.${signature}`, unsigned, expired]) {
      const answer = await call<Problem>(sut, 'GET', '/v1/users/me', { token: bad });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('unauthorized');
    }
  });
});

describe('me', () => {
  it('updates names and phone, recording only the changed fields in the audit log', async () => {
    const { token, user } = await newCustomer(sut);
    const answer = await call<UserBody>(sut, 'PATCH', '/v1/users/me', {
      token,
      body: { firstName: 'Augusta', phone: '+44 20 7946 0000' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      firstName: 'Augusta',
      lastName: 'Lovelace',
      phone: '+44 20 7946 0000',
    });
    const update = (await auditRows(sut, user.id)).find((row) => row.action === 'update');
    expect(update).toMatchObject({
      user_id: user.id,
      old_values: { firstName: 'Ada', phone: null },
      new_values: { firstName: 'Augusta', phone: '+44 20 7946 0000' },
    });

    const cleared = await call<UserBody>(sut, 'PATCH', '/v1/users/me', {
      token,
      body: { phone: null },
    });
    expect(cleared.body.phone).toBeNull();
  });

  it('refuses an empty patch, an unknown field and an email change', async () => {
    const { token } = await newCustomer(sut);
    const before = await rowCounts(sut);
    for (const body of [{}, { nickname: 'x' }, { email: uniqueEmail() }, { firstName: '' }]) {
      const answer = await call<Problem>(sut, 'PATCH', '/v1/users/me', { token, body });
      expect(answer.status).toBe(400);
    }
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('deletes the account softly: event and audit, no more login, token no longer works', async () => {
    const { token, user, email } = await newCustomer(sut);
    const answer = await call(sut, 'DELETE', '/v1/users/me', { token });
    expect(answer.status).toBe(204);

    const rows = (await sut.infrastructure.dataSource.query(
      'SELECT deleted_at FROM users WHERE id = $1',
      [user.id],
    )) as Array<{ deleted_at: Date | null }>;
    expect(rows[0]?.deleted_at).toBeInstanceOf(Date);
    expect(await outboxMessages(sut, 'users.events.user.deleted', 'userId', user.id)).toHaveLength(
      1,
    );
    expect((await auditRows(sut, user.id)).map((row) => row.action)).toContain('delete');

    const loginAgain = await call<Problem>(sut, 'POST', '/v1/auth/login', {
      body: { email, password: PASSWORD },
    });
    expect(loginAgain.status).toBe(401);
    expect((await call(sut, 'GET', '/v1/users/me', { token })).status).toBe(401);
    expect((await call(sut, 'DELETE', '/v1/users/me', { token })).status).toBe(401);

    // The email is free again for a new account.
    const again = await newCustomer(sut, email);
    expect(again.user.id).not.toBe(user.id);
    expect(await login(sut, email, PASSWORD)).toBeTruthy();
  });
});
