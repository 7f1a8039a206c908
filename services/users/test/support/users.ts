import { randomUUID } from 'node:crypto';
import type { ProblemDetails } from '@shop/contracts';
import { parseConfig } from '@shop/service-kit';
import { startTestService, type TestService } from '@shop/service-kit/testing';
import { UsersConfig } from '../../src/config.js';
import { usersService } from '../../src/service.js';

/** The real users service, in-process, on its own database and NATS namespace. */
export function startUsers(label: string, env: Record<string, string> = {}): Promise<TestService> {
  // Port 0 (any free port) is set on the definition: the config schema refuses it, rightly.
  return startTestService(label, (base) => ({
    ...usersService(parseConfig(UsersConfig, { ...base, ...env })),
    port: 0,
  }));
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

/** A problem+json body, as packages/contracts defines it. */
export type Problem = ProblemDetails;

export interface UserBody {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  phone: string | null;
  role: string;
  emailVerified: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (broken JSON, huge bodies). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One HTTP call through `app.inject()`, JSON in and out. */
export async function call<T = unknown>(
  sut: TestService,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  options: RequestOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  const response = await sut.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  const text = response.body;
  return {
    status: response.statusCode,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

export function uniqueEmail(prefix = 'customer'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

export const PASSWORD = 'correct horse battery';

export interface Account {
  user: UserBody;
  email: string;
  token: string;
}

/** Registers a customer through the API and logs them in. */
export async function newCustomer(sut: TestService, email = uniqueEmail()): Promise<Account> {
  const registered = await call<UserBody>(sut, 'POST', '/v1/auth/register', {
    body: { email, password: PASSWORD, firstName: 'Ada', lastName: 'Lovelace' },
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
  const token = await login(sut, email, PASSWORD);
  return { user: registered.body, email, token };
}

export async function login(sut: TestService, email: string, password: string): Promise<string> {
  const answer = await call<{ accessToken: string }>(sut, 'POST', '/v1/auth/login', {
    body: { email, password },
  });
  if (answer.status !== 200) throw new Error(`login answered ${answer.status}`);
  return answer.body.accessToken;
}

/** Row counts of every table a request could write, to prove a refused one wrote nothing. */
export async function rowCounts(sut: TestService): Promise<Record<string, number>> {
  const rows = (await sut.infrastructure.dataSource.query(
    `SELECT (SELECT count(*)::int FROM users) AS users,
            (SELECT count(*)::int FROM user_addresses) AS addresses,
            (SELECT count(*)::int FROM user_payment_methods) AS payment_methods,
            (SELECT count(*)::int FROM audit_logs) AS audit_logs,
            (SELECT count(*)::int FROM outbox) AS outbox`,
  )) as Array<Record<string, number>>;
  return rows[0] ?? {};
}

export interface OutboxMessage {
  type: string;
  payload: { id: string; data: Record<string, unknown> };
}

/** Outbox rows of one type whose data names `key` = `value`. */
export async function outboxMessages(
  sut: TestService,
  type: string,
  key: string,
  value: string,
): Promise<OutboxMessage[]> {
  return (await sut.infrastructure.dataSource.query(
    `SELECT type, payload FROM outbox WHERE type = $1 AND payload -> 'data' ->> $2 = $3
     ORDER BY created_at`,
    [type, key, value],
  )) as OutboxMessage[];
}

export interface AuditRow {
  user_id: string | null;
  entity_type: string;
  entity_id: string;
  action: string;
  old_values: Record<string, unknown> | null;
  new_values: Record<string, unknown> | null;
  ip_address: string | null;
  user_agent: string | null;
}

export async function auditRows(sut: TestService, entityId: string): Promise<AuditRow[]> {
  return (await sut.infrastructure.dataSource.query(
    `SELECT user_id, entity_type, entity_id, action, old_values, new_values, ip_address, user_agent
     FROM audit_logs WHERE entity_id = $1 ORDER BY created_at`,
    [entityId],
  )) as AuditRow[];
}

/** Makes an existing account an admin directly in the database, and logs it in. */
export async function newAdmin(sut: TestService): Promise<Account> {
  const account = await newCustomer(sut, uniqueEmail('admin'));
  await sut.infrastructure.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [
    account.user.id,
  ]);
  return { ...account, token: await login(sut, account.email, PASSWORD) };
}
