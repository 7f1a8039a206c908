import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  createLogger,
  createRedis,
  loadOrCreateDevKeyPair,
  parseConfig,
  type HttpApp,
  type Identity,
  type RedisHandle,
} from '@shop/service-kit';
import { waitFor } from '@shop/service-kit/testing';
import { buildGatewayApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';

/** What an upstream saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeUpstream {
  name: string;
  url: string;
  seen: SeenRequest[];
  /** Replaces the answer to `path` (exact, without query). */
  answer(path: string, status: number, body: unknown): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for a service: it records every request and answers with an
 * echo of it, or with what `answer` set for a path. `hang: true` makes it accept requests and
 * never answer (a wedged service).
 */
export async function startUpstream(name: string, { hang = false } = {}): Promise<FakeUpstream> {
  const seen: SeenRequest[] = [];
  const answers = new Map<string, { status: number; body: unknown }>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const record: SeenRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(record);
      if (hang) return;
      const fixed = answers.get(record.url.split('?')[0] ?? '');
      response.writeHead(fixed?.status ?? 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(fixed?.body ?? { upstream: name, ...record }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    seen,
    answer: (path, status, body) => answers.set(path, { status, body }),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A port nothing listens on: a dead service. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}

export interface TestGateway {
  app: HttpApp;
  /** Base URL of the listening gateway, for tests that need a real socket. */
  url: string;
  redis: RedisHandle;
  tokenFor(identity: Identity, options?: { ttlSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * The gateway in process, listening on a free port, in front of the given upstream URLs, with
 * its own Redis key prefix so test files never share rate-limit counters.
 */
export async function startGateway(
  label: string,
  env: Record<string, string>,
  { awaitRedis = true } = {},
): Promise<TestGateway> {
  const config = parseConfig(GatewayConfig, {
    GATEWAY_PORT: '1',
    RATE_LIMIT_KEY_PREFIX: `test:gateway:${label}:${randomUUID()}:`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const keys = await loadOrCreateDevKeyPair();
  const redis = createRedis(config.REDIS_URL, logger);
  const app = await buildGatewayApp({
    config,
    logger,
    redis,
    verifier: createAccessTokenVerifier({ publicKey: keys.publicKey }),
  });
  // Limits fail open until Redis is connected; tests of the limits want them on from the start.
  if (awaitRedis) {
    await waitFor(() => redis.isHealthy(), 'Redis to be healthy', {
      timeoutMs: 10_000,
      intervalMs: 25,
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const signer = createAccessTokenSigner({ privateKey: keys.privateKey });
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    redis,
    tokenFor: (identity, options) => signer.sign(identity, options),
    async close() {
      await app.close();
      await redis.close();
    },
  };
}
