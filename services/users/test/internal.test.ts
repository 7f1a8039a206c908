import { randomUUID } from 'node:crypto';
import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newCustomer, startUsers, type Account, type Problem } from './support/users.js';

let sut: TestService;
let owner: Account;
let addressId: string;
let paymentMethodId: string;

beforeAll(async () => {
  sut = await startUsers('users_internal');
  owner = await newCustomer(sut);
  const address = await call<{ id: string }>(sut, 'POST', '/v1/users/me/addresses', {
    token: owner.token,
    body: {
      type: 'shipping',
      line1: '9 Elm St',
      line2: 'Unit 2',
      city: 'Albany',
      state: 'NY',
      country: 'US',
      postalCode: '12207',
      isDefault: true,
    },
  });
  addressId = address.body.id;
  const method = await call<{ id: string }>(sut, 'POST', '/v1/users/me/payment-methods', {
    token: owner.token,
    body: {
      providerPaymentMethodId: 'pm_card_amex',
      cardBrand: 'amex',
      cardLast4: '0005',
      expMonth: 6,
      expYear: new Date().getUTCFullYear() + 3,
    },
  });
  paymentMethodId = method.body.id;
});

afterAll(async () => {
  await sut?.stop();
});

function internal<T>(url: string, credential?: string) {
  return call<T>(sut, 'GET', url, {
    ...(credential === undefined ? {} : { headers: { 'x-internal-token': credential } }),
  });
}

describe('internal routes', () => {
  it('answer the address snapshot of its owner', async () => {
    const answer = await internal(
      `/internal/v1/users/${owner.user.id}/addresses/${addressId}`,
      sut.internalToken,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: addressId,
      userId: owner.user.id,
      type: 'shipping',
      line1: '9 Elm St',
      line2: 'Unit 2',
      city: 'Albany',
      state: 'NY',
      country: 'US',
      postalCode: '12207',
      isDefault: true,
    });
  });

  it('answer the payment method with the provider token for its owner', async () => {
    const answer = await internal(
      `/internal/v1/users/${owner.user.id}/payment-methods/${paymentMethodId}`,
      sut.internalToken,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      id: paymentMethodId,
      userId: owner.user.id,
      providerPaymentMethodId: 'pm_card_amex',
      cardBrand: 'amex',
      cardLast4: '0005',
      expMonth: 6,
      expYear: new Date().getUTCFullYear() + 3,
      isDefault: false,
    });
  });

  it('answer 401 without the service credential, or with a user’s token instead', async () => {
    const url = `/internal/v1/users/${owner.user.id}/addresses/${addressId}`;
    for (const credential of [undefined, 'wrong', owner.token]) {
      const answer = await internal<Problem>(url, credential);
      expect(answer.status).toBe(401);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
    const bearer = await call(sut, 'GET', url, { token: owner.token });
    expect(bearer.status).toBe(401);
  });

  it('answer 404 for another user, an unknown id, or a removed record', async () => {
    const stranger = await newCustomer(sut);
    const urls = [
      `/internal/v1/users/${stranger.user.id}/addresses/${addressId}`,
      `/internal/v1/users/${owner.user.id}/addresses/${randomUUID()}`,
      `/internal/v1/users/${stranger.user.id}/payment-methods/${paymentMethodId}`,
      `/internal/v1/users/${owner.user.id}/payment-methods/${randomUUID()}`,
    ];
    for (const url of urls) {
      const answer = await internal<Problem>(url, sut.internalToken);
      expect(answer.status, url).toBe(404);
      expect(answer.body.code).toBe('not_found');
    }

    const other = await newCustomer(sut);
    const address = await call<{ id: string }>(sut, 'POST', '/v1/users/me/addresses', {
      token: other.token,
      body: {
        type: 'billing',
        line1: '1 A St',
        city: 'B',
        state: 'C',
        country: 'US',
        postalCode: '1',
      },
    });
    const url = `/internal/v1/users/${other.user.id}/addresses/${address.body.id}`;
    expect((await internal(url, sut.internalToken)).status).toBe(200);
    await call(sut, 'DELETE', `/v1/users/me/addresses/${address.body.id}`, { token: other.token });
    expect((await internal(url, sut.internalToken)).status).toBe(404);
  });

  it('answer 404 once the owner deleted their account', async () => {
    const leaving = await newCustomer(sut);
    const address = await call<{ id: string }>(sut, 'POST', '/v1/users/me/addresses', {
      token: leaving.token,
      body: {
        type: 'shipping',
        line1: '1 A St',
        city: 'B',
        state: 'C',
        country: 'US',
        postalCode: '1',
      },
    });
    await call(sut, 'DELETE', '/v1/users/me', { token: leaving.token });
    const answer = await internal(
      `/internal/v1/users/${leaving.user.id}/addresses/${address.body.id}`,
      sut.internalToken,
    );
    expect(answer.status).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('documents every users route with who may call it', async () => {
    const answer = await call<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(
      sut,
      'GET',
      '/docs/json',
    );
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/auth/register',
        '/v1/auth/login',
        '/v1/users/me',
        '/v1/users',
        '/v1/users/{id}/role',
        '/v1/users/me/addresses',
        '/v1/users/me/addresses/{id}',
        '/v1/users/me/payment-methods',
        '/v1/users/me/payment-methods/{id}',
        '/internal/v1/users/{userId}/addresses/{addressId}',
        '/internal/v1/users/{userId}/payment-methods/{paymentMethodId}',
      ]),
    );
    const internalRoute =
      answer.body.paths['/internal/v1/users/{userId}/addresses/{addressId}']?.get;
    expect(internalRoute?.security).toEqual([{ internalToken: [] }]);
  });
});
