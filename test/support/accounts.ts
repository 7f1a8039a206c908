import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ProblemDetails } from '@shop/contracts';
import pg from 'pg';
import type { SystemUnderTest } from './system.js';

/**
 * Accounts through the gateway only, for whole-system tests: a small HTTP client, account
 * helpers and the row counts that prove a refused request wrote nothing.
 */

export const PASSWORD = 'correct horse battery';

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

export interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or undefined when there is none (204) or it is not JSON. */
  body: T;
  text: string;
  elapsedMs: number;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (broken JSON, huge bodies, text/plain). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * One HTTP request on node:http. A server may answer (413) and close before the whole body is
 * sent; like any careful client, this one then reads the answer and ignores the failed write,
 * where fetch would throw EPIPE. With `chunks` the body goes chunked, without a length.
 */
export async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string | Buffer[],
): Promise<{ status: number; headers: Headers; text: string }> {
  const outgoing: Record<string, string> = { ...headers };
  if (typeof body === 'string') outgoing['content-length'] = String(Buffer.byteLength(body));
  const request = httpRequest(url, { method, headers: outgoing });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    let failure: Error | undefined;
    request.on('response', resolve);
    request.on('error', (error) => (failure = error));
    request.on('close', () => reject(failure ?? new Error(`${method} ${url}: no response`)));
    void (async () => {
      try {
        if (Array.isArray(body)) {
          for (const chunk of body) {
            if (request.destroyed) return;
            if (!request.write(chunk)) await once(request, 'drain');
          }
          request.end();
        } else request.end(body);
      } catch {
        // The answer (or the failure) comes through the listeners above.
      }
    })();
  });
  let text = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (text += chunk));
  await once(response, 'end');
  const answerHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined)
      answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  return { status: response.statusCode ?? 0, headers: answerHeaders, text };
}

/**
 * `send` for an upload the server refuses before it has read it all (413). The server answers
 * and ends the connection while the client is still writing; Node's client then sometimes
 * reports the broken write (EPIPE/ECONNRESET) and drops the answer it had not parsed yet, where
 * a client that reads while it writes (curl) sees it. A lost answer is asked for again.
 */
export async function sendRefusedUpload(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Buffer[],
  attempts = 5,
): Promise<{ status: number; headers: Headers; text: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send(url, method, headers, body);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (attempt >= attempts || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw error;
    }
  }
}

/** One HTTP call to the gateway; JSON in, JSON (or problem+json) out. */
export async function call<T = unknown>(
  system: SystemUnderTest,
  method: Method,
  path: string,
  options: RequestOptions = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  const started = Date.now();
  const answer = await send(`${system.gatewayUrl}${path}`, method, headers, payload);
  const elapsedMs = Date.now() - started;
  let body: unknown;
  try {
    body = answer.text ? JSON.parse(answer.text) : undefined;
  } catch {
    body = undefined;
  }
  return { ...answer, body: body as T, elapsedMs };
}

/** Whether an answer is problem+json with the given status, and a stable snake_case code. */
export function isProblem(answer: Answer, status: number, code?: string): boolean {
  const problem = answer.body as Partial<Problem> | undefined;
  return (
    answer.status === status &&
    (answer.headers.get('content-type') ?? '').includes('application/problem+json') &&
    problem?.status === status &&
    typeof problem.code === 'string' &&
    /^[a-z][a-z0-9_]*$/.test(problem.code) &&
    (code === undefined || problem.code === code)
  );
}

/** A one-line description of an answer, for failure messages. */
export function describeAnswer(answer: Answer): string {
  return `${answer.status} ${answer.headers.get('content-type') ?? '-'} ${answer.text.slice(0, 200)}`;
}

export function uniqueEmail(prefix = 'customer'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

export interface Account {
  user: UserBody;
  email: string;
  password: string;
  token: string;
}

export async function login(
  system: SystemUnderTest,
  email: string,
  password: string,
): Promise<string> {
  const answer = await call<{ accessToken: string }>(system, 'POST', '/v1/auth/login', {
    body: { email, password },
  });
  if (answer.status !== 200) throw new Error(`login answered ${describeAnswer(answer)}`);
  return answer.body.accessToken;
}

/** Registers a customer through the gateway and logs them in. */
export async function registerAndLogin(
  system: SystemUnderTest,
  fields: { email?: string; firstName?: string; lastName?: string; phone?: string } = {},
): Promise<Account> {
  const email = fields.email ?? uniqueEmail();
  const registered = await call<UserBody>(system, 'POST', '/v1/auth/register', {
    body: { firstName: 'Ada', lastName: 'Lovelace', ...fields, email, password: PASSWORD },
  });
  if (registered.status !== 201) throw new Error(`register answered ${describeAnswer(registered)}`);
  return {
    user: registered.body,
    email,
    password: PASSWORD,
    token: await login(system, email, PASSWORD),
  };
}

/** The claims of a JWT, read without verifying it (what the client can see). */
export function tokenClaims(token: string): Record<string, unknown> {
  const [, payload = ''] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Runs one query against the system's database. */
export async function query<T = Record<string, unknown>>(
  system: SystemUnderTest,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: system.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row counts of every users table a request could write. */
export async function rowCounts(system: SystemUnderTest): Promise<Record<string, number>> {
  const [row] = await query<Record<string, number>>(
    system,
    `SELECT (SELECT count(*)::int FROM users.users) AS users,
            (SELECT count(*)::int FROM users.user_addresses) AS addresses,
            (SELECT count(*)::int FROM users.user_payment_methods) AS payment_methods,
            (SELECT count(*)::int FROM users.audit_logs) AS audit_logs,
            (SELECT count(*)::int FROM users.outbox) AS outbox`,
  );
  return row ?? {};
}
