import type { TestService } from '@shop/service-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditRows,
  PASSWORD,
  call,
  login,
  newAdmin,
  newCustomer,
  outboxMessages,
  rowCounts,
  startUsers,
  type Account,
  type Problem,
  type UserBody,
} from './support/users.js';

let sut: TestService;
let admin: Account;

beforeAll(async () => {
  sut = await startUsers('users_admin');
  admin = await newAdmin(sut);
});

afterAll(async () => {
  await sut?.stop();
});

interface UserPage {
  items: UserBody[];
  nextCursor: string | null;
}

describe('admin-only routes', () => {
  it('answer 401 without a token and 403 to a customer, even with a bad body', async () => {
    const { token, user } = await newCustomer(sut);
    const before = await rowCounts(sut);
    expect((await call<Problem>(sut, 'GET', '/v1/users')).status).toBe(401);
    const forbidden = await call<Problem>(sut, 'GET', '/v1/users', { token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');

    const url = `/v1/users/${user.id}/role`;
    expect((await call(sut, 'PATCH', url, { body: { role: 'admin' } })).status).toBe(401);
    expect((await call(sut, 'PATCH', url, { token, body: { role: 'admin' } })).status).toBe(403);
    expect((await call(sut, 'PATCH', url, { token, rawBody: '{broken' })).status).toBe(403);
    expect(await rowCounts(sut)).toEqual(before);
  });
});

describe('PATCH /v1/users/:id/role', () => {
  it('changes the role, with an audit row naming the admin and both values', async () => {
    const { user, email } = await newCustomer(sut);
    const answer = await call<UserBody>(sut, 'PATCH', `/v1/users/${user.id}/role`, {
      token: admin.token,
      body: { role: 'manager' },
      headers: { 'user-agent': 'admin-console' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: user.id, email, role: 'manager' });

    const change = (await auditRows(sut, user.id)).find((row) => row.action === 'update');
    expect(change).toMatchObject({
      user_id: admin.user.id,
      entity_type: 'user',
      old_values: { role: 'customer' },
      new_values: { role: 'manager' },
      user_agent: 'admin-console',
    });
    // Other systems learn it from the event, written in the same transaction.
    const events = await outboxMessages(sut, 'users.events.user.role-changed', 'userId', user.id);
    expect(events.map((event) => event.payload.data)).toEqual([
      {
        userId: user.id,
        previousRole: 'customer',
        role: 'manager',
        changedBy: admin.user.id,
        changedAt: expect.any(String),
      },
    ]);
  });

  it('answers 404 for an unknown account and 400 for a bad id or role', async () => {
    const { user } = await newCustomer(sut);
    const before = await rowCounts(sut);
    const unknown = await call<Problem>(
      sut,
      'PATCH',
      '/v1/users/00000000-0000-4000-8000-000000000000/role',
      { token: admin.token, body: { role: 'manager' } },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not_found');
    for (const [url, body] of [
      ['/v1/users/not-a-uuid/role', { role: 'manager' }],
      [`/v1/users/${user.id}/role`, { role: 'owner' }],
      [`/v1/users/${user.id}/role`, { role: 'manager', extra: true }],
      [`/v1/users/${user.id}/role`, {}],
    ] as const) {
      expect((await call(sut, 'PATCH', url, { token: admin.token, body })).status).toBe(400);
    }
    expect(await rowCounts(sut)).toEqual(before);
  });

  it('never leaves the shop without an admin', async () => {
    const other = await newAdmin(sut);
    // Two admins demoting each other at once: one must win, one must be refused.
    const answers = await Promise.all([
      call(sut, 'PATCH', `/v1/users/${other.user.id}/role`, {
        token: admin.token,
        body: { role: 'customer' },
      }),
      call(sut, 'PATCH', `/v1/users/${admin.user.id}/role`, {
        token: other.token,
        body: { role: 'customer' },
      }),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const admins = (await sut.infrastructure.dataSource.query(
      `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND deleted_at IS NULL`,
    )) as Array<{ n: number }>;
    expect(admins[0]?.n).toBe(1);
    // Restore the shared admin for the other tests, whichever request won: the role, and a
    // fresh token, since a demotion revoked the one it had.
    await sut.infrastructure.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [
      admin.user.id,
    ]);
    admin = { ...admin, token: await login(sut, admin.email, PASSWORD) };
  });

  it('refuses the last admin deleting their own account', async () => {
    const fresh = await startUsers('users_admin_last');
    try {
      const only = await newAdmin(fresh);
      const answer = await call<Problem>(fresh, 'DELETE', '/v1/users/me', { token: only.token });
      expect(answer.status).toBe(409);
      expect(answer.body.code).toBe('last_admin');
      const demote = await call<Problem>(fresh, 'PATCH', `/v1/users/${only.user.id}/role`, {
        token: only.token,
        body: { role: 'customer' },
      });
      expect(demote.status).toBe(409);
    } finally {
      await fresh.stop();
    }
  });
});

describe('GET /v1/users', () => {
  it('pages newest first with an opaque cursor, filtered by role and email', async () => {
    const created: Account[] = [];
    for (let index = 0; index < 5; index += 1) created.push(await newCustomer(sut));
    const wanted = new Set(created.map((account) => account.user.id));

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page: { status: number; body: UserPage } = await call<UserPage>(
        sut,
        'GET',
        `/v1/users?role=customer&limit=2${query}`,
        { token: admin.token },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      for (const item of page.body.items) {
        expect(item.role).toBe('customer');
        expect(item).not.toHaveProperty('passwordHash');
        seen.push(item.id);
      }
      cursor = page.body.nextCursor;
    } while (cursor);

    expect(new Set(seen).size).toBe(seen.length);
    const ours = seen.filter((id) => wanted.has(id));
    expect(ours).toEqual(created.map((account) => account.user.id).reverse());

    const target = created[2]!;
    const byEmail = await call<UserPage>(
      sut,
      'GET',
      `/v1/users?email=${encodeURIComponent(target.email.toUpperCase())}`,
      { token: admin.token },
    );
    expect(byEmail.body.items.map((item) => item.id)).toEqual([target.user.id]);
    expect(byEmail.body.nextCursor).toBeNull();
  });

  it('answers 400 for a forged cursor, a bad limit or an unknown role', async () => {
    for (const query of ['cursor=not-ours', 'limit=0', 'limit=101', 'limit=abc', 'role=owner']) {
      const answer = await call<Problem>(sut, 'GET', `/v1/users?${query}`, { token: admin.token });
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
  });
});
