import type { Registry } from 'prom-client';
import { INTERNAL_TOKEN_HEADER } from './auth/internal.js';
import { createBreaker, type Breaker, type BreakerOptions } from './breaker.js';
import { currentContext } from './context.js';
import { AppError, ServiceUnavailableError, type Problem } from './errors.js';
import type { Logger } from './logger.js';

/**
 * JSON over HTTP between services, behind one circuit breaker per target service. The service
 * credential and the caller's request id travel on every call, so the callee's logs line up
 * with ours. A 4xx answer is the callee's verdict on our request, not a sign it is down: it
 * comes back as UpstreamHttpError and does not trip the breaker. 5xx, network errors and
 * timeouts do; they, and an open breaker, surface as ServiceUnavailableError (503).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ServiceRequest {
  method: HttpMethod;
  /** Path under the base URL, e.g. `/internal/v1/products/prices`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the client's timeout for this call (can only shorten the breaker's). */
  timeoutMs?: number;
}

export interface ServiceResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** The callee answered 4xx. `problem` is its problem+json body when it sent one. */
export class UpstreamHttpError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;
  readonly body: unknown;
  constructor(service: string, status: number, body: unknown) {
    const problem = isProblem(body) ? body : undefined;
    super(`${service} answered ${status}${problem ? ` ${problem.code}` : ''}`);
    this.name = 'UpstreamHttpError';
    this.status = status;
    this.problem = problem;
    this.body = body;
  }
}

/** The callee answered 5xx; counted as a failure by the breaker. */
class UpstreamServerError extends Error {
  constructor(
    service: string,
    readonly upstreamStatus: number,
  ) {
    super(`${service} answered ${upstreamStatus}`);
    this.name = 'UpstreamServerError';
  }
}

function isProblem(body: unknown): body is Problem {
  const b = body as Partial<Problem> | null;
  return typeof b?.code === 'string' && typeof b.status === 'number';
}

export interface ServiceClientOptions {
  /** Target service name, for the breaker and errors. */
  name: string;
  baseUrl: string;
  /** Per call; default 3000. */
  timeoutMs?: number;
  /** Sent as x-internal-token. */
  internalToken?: string;
  registry?: Registry;
  logger?: Logger;
  breaker?: Omit<BreakerOptions, 'name' | 'timeoutMs' | 'registry' | 'logger'>;
  /** Injected by tests; defaults to global fetch. */
  fetch?: typeof fetch;
}

export interface ServiceClient {
  request<T = unknown>(request: ServiceRequest): Promise<ServiceResponse<T>>;
  get<T = unknown>(path: string, options?: Partial<ServiceRequest>): Promise<T>;
  post<T = unknown>(path: string, body?: unknown, options?: Partial<ServiceRequest>): Promise<T>;
  put<T = unknown>(path: string, body?: unknown, options?: Partial<ServiceRequest>): Promise<T>;
  patch<T = unknown>(path: string, body?: unknown, options?: Partial<ServiceRequest>): Promise<T>;
  delete<T = unknown>(path: string, options?: Partial<ServiceRequest>): Promise<T>;
  readonly breaker: Breaker<[ServiceRequest], ServiceResponse<unknown>>;
}

function buildUrl(baseUrl: string, path: string, query: ServiceRequest['query']): string {
  const url = new URL(path.replace(/^\/*/, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined) url.searchParams.set(key, String(value));
  return url.toString();
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (text.length === 0) return undefined;
  const type = response.headers.get('content-type') ?? '';
  return type.includes('json') ? (JSON.parse(text) as unknown) : text;
}

export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 3000;

  const breaker = createBreaker(
    async (signal: AbortSignal, request: ServiceRequest): Promise<ServiceResponse<unknown>> => {
      const context = currentContext();
      const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
      const requestId = context?.requestId ?? context?.correlationId;
      if (requestId) headers['x-request-id'] = requestId;
      if (options.internalToken) headers[INTERNAL_TOKEN_HEADER] = options.internalToken;
      if (request.body !== undefined) headers['content-type'] = 'application/json';

      const signals = [signal];
      if (request.timeoutMs !== undefined) signals.push(AbortSignal.timeout(request.timeoutMs));
      const response = await doFetch(buildUrl(options.baseUrl, request.path, request.query), {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.any(signals),
      });
      const body = await readBody(response);
      if (response.status >= 500) throw new UpstreamServerError(options.name, response.status);
      if (response.status >= 400) throw new UpstreamHttpError(options.name, response.status, body);
      return { status: response.status, headers: response.headers, body };
    },
    {
      ...options.breaker,
      name: options.name,
      timeoutMs,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    },
  );

  async function request<T>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    try {
      return (await breaker.fire(req)) as ServiceResponse<T>;
    } catch (error) {
      if (error instanceof UpstreamHttpError || error instanceof AppError) throw error;
      // 5xx, refused connection, DNS, per-call timeout: from the caller's side all mean "down".
      options.logger?.warn(
        { err: error, service: options.name, path: req.path },
        'service call failed',
      );
      throw new ServiceUnavailableError(`${options.name} is unavailable.`, { cause: error });
    }
  }

  const call =
    (method: HttpMethod) =>
    async <T>(path: string, body?: unknown, extra: Partial<ServiceRequest> = {}) =>
      (await request<T>({ ...extra, method, path, ...(body === undefined ? {} : { body }) })).body;

  return {
    request,
    get: (path, extra) => call('GET')(path, undefined, extra),
    post: (path, body, extra) => call('POST')(path, body, extra),
    put: (path, body, extra) => call('PUT')(path, body, extra),
    patch: (path, body, extra) => call('PATCH')(path, body, extra),
    delete: (path, extra) => call('DELETE')(path, undefined, extra),
    breaker,
  };
}
