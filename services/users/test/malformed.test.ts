import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  call,
  newAdmin,
  newCustomer,
  rowCounts,
  startUsers,
  uniqueEmail,
  type Account,
  type Problem,
  type RequestOptions,
} from './support/users.js';

// Every kind of bad input, on every route that writes: each is a 4xx problem+json and leaves
// every table (users, addresses, cards, audit log, outbox) exactly as it was.

let sut: TestService;
let customer: Account;
let admin: Account;

beforeAll(async () => {
  sut = await startUsers('users_malformed');
  customer = await newCustomer(sut);
  admin = await newAdmin(sut);
});

afterAll(async () => {
  await sut?.stop();
});

const register = {
  email: 'someone@example.com',
  password: PASSWORD,
  firstName: 'Some',
  lastName: 'One',
};
const address = {
  type: 'billing',
  line1: '1 Main St',
  city: 'Springfield',
  state: 'NY',
  country: 'US',
  postalCode: '12345',
};
const card = {
  providerPaymentMethodId: 'pm_card_mastercard',
  cardBrand: 'mastercard',
  cardLast4: '4444',
  expMonth: 1,
  expYear: new Date().getUTCFullYear() + 2,
};

const huge = JSON.stringify({ ...register, firstName: 'x'.repeat(1024 * 1024 + 10) });

type Method = 'POST' | 'PATCH';
interface Case {
  name: string;
  options: RequestOptions;
  status: number;
}

function cases(valid: Record<string, unknown>): Case[] {
  const [firstKey = 'x'] = Object.keys(valid);
  return [
    { name: 'broken JSON', options: { rawBody: '{"email": ' }, status: 400 },
    { name: 'a JSON array', options: { rawBody: '[]' }, status: 400 },
    { name: 'a JSON string', options: { rawBody: '"hello"' }, status: 400 },
    { name: 'null', options: { rawBody: 'null' }, status: 400 },
    { name: 'an unknown field', options: { body: { ...valid, isAdmin: true } }, status: 400 },
    { name: 'a number as a string', options: { body: { ...valid, [firstKey]: 42 } }, status: 400 },
    {
      name: 'a nested object',
      options: { body: { ...valid, [firstKey]: { $ne: '' } } },
      status: 400,
    },
    { name: 'over 1 MiB', options: { rawBody: huge }, status: 413 },
    {
      name: 'text/plain',
      options: { rawBody: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } },
      status: 415,
    },
    {
      name: 'prototype poisoning',
      options: { rawBody: `{"__proto__": {"role": "admin"}, ${JSON.stringify(valid).slice(1)}` },
      status: 400,
    },
  ];
}

function routes(): Array<{
  method: Method;
  url: string;
  token?: string;
  valid: Record<string, unknown>;
}> {
  return [
    { method: 'POST', url: '/v1/auth/register', valid: { ...register, email: uniqueEmail() } },
    { method: 'POST', url: '/v1/auth/login', valid: { email: customer.email, password: PASSWORD } },
    { method: 'PATCH', url: '/v1/users/me', token: customer.token, valid: { firstName: 'New' } },
    { method: 'POST', url: '/v1/users/me/addresses', token: customer.token, valid: address },
    { method: 'POST', url: '/v1/users/me/payment-methods', token: customer.token, valid: card },
    {
      method: 'PATCH',
      url: `/v1/users/${customer.user.id}/role`,
      token: admin.token,
      valid: { role: 'employee' },
    },
  ];
}

describe('malformed bodies', () => {
  it('are each refused with a 4xx problem and write nothing', async () => {
    const before = await rowCounts(sut);
    const failures: string[] = [];
    for (const route of routes()) {
      for (const { name, options, status } of cases(route.valid)) {
        const answer = await call<Problem>(sut, route.method, route.url, {
          ...options,
          ...(route.token ? { token: route.token } : {}),
        });
        const problemJson = String(answer.headers['content-type']).includes(
          'application/problem+json',
        );
        if (answer.status !== status || !problemJson || answer.body.status !== status)
          failures.push(`${route.method} ${route.url} ${name}: ${answer.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('field by field: bad emails, lengths and types on register', async () => {
    const before = await rowCounts(sut);
    const bodies = [
      { ...register, email: 'not-an-email' },
      { ...register, email: 'a@localhost' },
      { ...register, email: `${'a'.repeat(250)}@example.com` },
      { ...register, password: 'short' },
      { ...register, password: 'p'.repeat(129) },
      { ...register, firstName: '' },
      { ...register, lastName: 'l'.repeat(101) },
      { ...register, phone: '1'.repeat(21) },
      { ...register, phone: 5551234 },
      { email: register.email, password: PASSWORD, firstName: 'Only' },
    ];
    for (const body of bodies) {
      const answer = await call<Problem>(sut, 'POST', '/v1/auth/register', { body });
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.body.code).toBe('validation_failed');
      expect(answer.body.errors?.length).toBeGreaterThan(0);
    }
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('never echoes a submitted password in a refusal', async () => {
    const secret = 'my-very-secret-password';
    const answer = await call<Problem>(sut, 'POST', '/v1/auth/register', {
      body: { ...register, email: 'bad', password: secret },
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).not.toContain(secret);
  });
});
