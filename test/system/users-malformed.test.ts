import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  call,
  describeAnswer,
  isProblem,
  login,
  registerAndLogin,
  rowCounts,
  sendRefusedUpload,
  uniqueEmail,
  type Account,
  type Method,
  type RequestOptions,
} from '../support/accounts.js';
import { startSystem, type SystemUnderTest } from '../support/system.js';

// Every kind of bad body on every users route that writes, sent through the gateway to the
// real services: each is a 4xx problem+json with a code, and no users table gains a row.

let system: SystemUnderTest;
let customer: Account;
let adminToken: string;
const adminEmail = `admin-${randomUUID()}@example.com`;
const adminPassword = `admin-${randomUUID()}`;

beforeAll(async () => {
  system = await startSystem('users_malformed', {
    BOOTSTRAP_ADMIN_EMAIL: adminEmail,
    BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    AUTH_RATE_LIMIT_PER_MINUTE: '0',
  });
  customer = await registerAndLogin(system);
  adminToken = await login(system, adminEmail, adminPassword);
});

afterAll(async () => {
  await system?.stop();
});

const MIB = 1024 * 1024;
const thisYear = new Date().getUTCFullYear();

interface Case {
  name: string;
  options: RequestOptions;
  status: number;
  code?: string;
}

interface Route {
  method: Method;
  path: string;
  token?: string;
  valid: Record<string, unknown>;
  /** Bad values particular to this route: wrong types, `"1"` for a number, rules. */
  specific: Array<{ name: string; body: unknown; code?: string }>;
}

function routes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/auth/register',
      valid: { email: uniqueEmail(), password: PASSWORD, firstName: 'Some', lastName: 'One' },
      specific: [
        { name: 'a role field', body: { role: 'admin' } },
        { name: 'a number for the phone', body: { phone: 5551234 } },
        { name: 'not an email', body: { email: 'not-an-email' } },
        { name: 'a short password', body: { password: 'short' } },
        { name: 'an empty first name', body: { firstName: '' } },
        { name: 'true for a name', body: { lastName: true } },
      ],
    },
    {
      method: 'POST',
      path: '/v1/auth/login',
      valid: { email: customer.email, password: PASSWORD },
      specific: [
        { name: 'a number for the password', body: { password: 12345678 } },
        { name: 'an array for the email', body: { email: [customer.email] } },
        { name: 'a missing password', body: { password: undefined } },
      ],
    },
    {
      method: 'PATCH',
      path: '/v1/users/me',
      token: customer.token,
      valid: { firstName: 'New' },
      specific: [
        { name: 'an empty patch', body: { firstName: undefined } },
        { name: 'an email change', body: { email: uniqueEmail() } },
        { name: 'a role change', body: { role: 'admin' } },
        { name: 'an empty first name', body: { firstName: '' } },
        { name: 'a number for the phone', body: { phone: 1 } },
      ],
    },
    {
      method: 'POST',
      path: '/v1/users/me/addresses',
      token: customer.token,
      valid: {
        type: 'billing',
        line1: '1 Main St',
        city: 'Springfield',
        state: 'NY',
        country: 'US',
        postalCode: '12345',
      },
      specific: [
        { name: '"true" for a boolean', body: { isDefault: 'true' } },
        { name: '1 for a boolean', body: { isDefault: 1 } },
        { name: 'an unknown type', body: { type: 'home' } },
        { name: 'an empty first line', body: { line1: '' } },
        { name: 'a number for the postal code', body: { postalCode: 12345 } },
        { name: 'a missing city', body: { city: undefined } },
      ],
    },
    {
      method: 'POST',
      path: '/v1/users/me/payment-methods',
      token: customer.token,
      valid: {
        providerPaymentMethodId: 'pm_card_mastercard',
        cardBrand: 'mastercard',
        cardLast4: '4444',
        expMonth: 1,
        expYear: thisYear + 2,
      },
      specific: [
        { name: '"1" for the month', body: { expMonth: '1' } },
        { name: 'a string for the year', body: { expYear: String(thisYear + 2) } },
        { name: 'a fraction for the month', body: { expMonth: 1.5 } },
        { name: 'month 13', body: { expMonth: 13 } },
        { name: 'month 0', body: { expMonth: 0 } },
        { name: 'a number for the last four', body: { cardLast4: 4444 } },
        {
          name: 'a card number as the token',
          body: { providerPaymentMethodId: '5555555555554444' },
        },
        {
          name: 'a card number as the brand',
          body: { cardBrand: '5555 5555 5555 4444' },
          code: 'card_number_refused',
        },
        { name: 'a cardNumber field', body: { cardNumber: '5555555555554444' } },
        { name: 'an expired card', body: { expYear: thisYear - 1 }, code: 'card_expired' },
      ],
    },
    {
      method: 'PATCH',
      path: `/v1/users/${customer.user.id}/role`,
      token: adminToken,
      valid: { role: 'employee' },
      specific: [
        { name: 'an unknown role', body: { role: 'superuser' } },
        { name: 'a number for the role', body: { role: 1 } },
        { name: 'an uppercase role', body: { role: 'ADMIN' } },
        { name: 'a missing role', body: { role: undefined } },
      ],
    },
  ];
}

function cases(route: Route): Case[] {
  const { valid } = route;
  const [firstKey = 'x'] = Object.keys(valid);
  const json = JSON.stringify(valid);
  return [
    { name: 'broken JSON', options: { rawBody: '{"email": ' }, status: 400 },
    { name: 'a trailing comma', options: { rawBody: `${json.slice(0, -1)},}` }, status: 400 },
    { name: 'an empty body', options: { rawBody: '' }, status: 400 },
    { name: 'a JSON array', options: { rawBody: '[]' }, status: 400 },
    { name: 'a JSON string', options: { rawBody: '"hello"' }, status: 400 },
    { name: 'null', options: { rawBody: 'null' }, status: 400 },
    { name: 'an unknown field', options: { body: { ...valid, isAdmin: true } }, status: 400 },
    { name: 'a number for a string', options: { body: { ...valid, [firstKey]: 42 } }, status: 400 },
    {
      name: 'an operator object',
      options: { body: { ...valid, [firstKey]: { $ne: '' } } },
      status: 400,
    },
    {
      name: 'prototype poisoning',
      options: { rawBody: `{"__proto__": {"role": "admin"}, ${json.slice(1)}` },
      status: 400,
    },
    {
      name: 'over 1 MiB',
      options: { rawBody: JSON.stringify({ ...valid, padding: 'x'.repeat(MIB + 10) }) },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'text/plain',
      options: { rawBody: json, headers: { 'content-type': 'text/plain' } },
      status: 415,
    },
    {
      name: 'form-encoded',
      options: {
        rawBody: new URLSearchParams(valid as Record<string, string>).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      status: 415,
    },
    ...route.specific.map(({ name, body, code }) => ({
      name,
      options: { body: { ...valid, ...(body as Record<string, unknown>) } },
      status: 400,
      ...(code ? { code } : {}),
    })),
  ];
}

describe('malformed bodies through the gateway', () => {
  it('are each a 4xx problem+json with a code, and no users table gains a row', async () => {
    const before = await rowCounts(system);
    const failures: string[] = [];
    let tried = 0;
    for (const route of routes()) {
      for (const { name, options, status, code } of cases(route)) {
        const answer = await call(system, route.method, route.path, {
          ...options,
          ...(route.token ? { token: route.token } : {}),
        });
        tried += 1;
        if (!isProblem(answer, status, code))
          failures.push(
            `${route.method} ${route.path} ${name}: wanted ${status}${code ? ` ${code}` : ''}, got ${describeAnswer(answer)}`,
          );
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(failures).toEqual([]);
    expect(await rowCounts(system)).toEqual(before);
  });

  it('refuses a chunked body over 1 MiB with 413 problem+json while it streams', async () => {
    const before = await rowCounts(system);
    // No Content-Length: only counting while reading can catch it.
    const chunks = [
      Buffer.from('{"firstName": "'),
      ...Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 'x')),
      Buffer.from('"}'),
    ];
    const answer = await sendRefusedUpload(
      `${system.gatewayUrl}/v1/users/me`,
      'PATCH',
      { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
      chunks,
    );
    expect(answer.status, answer.text).toBe(413);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.parse(answer.text)).toMatchObject({ status: 413, code: 'payload_too_large' });
    const me = await call<{ firstName: string }>(system, 'GET', '/v1/users/me', {
      token: customer.token,
    });
    expect(me.body.firstName).toBe(customer.user.firstName);
    expect(await rowCounts(system)).toEqual(before);
  });

  it('refuses a body or a query parameter on a route that takes none, and acts on nothing', async () => {
    const before = await rowCounts(system);
    const deleteMe = await call(system, 'DELETE', '/v1/users/me', {
      token: customer.token,
      body: { reason: 'leaving' },
    });
    expect(isProblem(deleteMe, 400, 'validation_failed'), describeAnswer(deleteMe)).toBe(true);
    const filtered = await call(system, 'GET', '/v1/users/me?fields=all', {
      token: customer.token,
    });
    expect(isProblem(filtered, 400, 'validation_failed'), describeAnswer(filtered)).toBe(true);
    // The account is still there.
    expect((await call(system, 'GET', '/v1/users/me', { token: customer.token })).status).toBe(200);
    expect(await rowCounts(system)).toEqual(before);
  });

  it('the same routes accept their valid bodies (the refusals above were about the body)', async () => {
    for (const route of routes()) {
      const answer = await call(system, route.method, route.path, {
        body: route.valid,
        ...(route.token ? { token: route.token } : {}),
      });
      expect(
        answer.status,
        `${route.method} ${route.path}: ${describeAnswer(answer)}`,
      ).toBeLessThan(300);
    }
  });
});
