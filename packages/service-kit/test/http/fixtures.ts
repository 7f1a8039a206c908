import { generateKeyPairSync } from 'node:crypto';
import { PassThrough } from 'node:stream';
import Type from 'typebox';
import {
  createAccessTokenSigner,
  createAccessTokenVerifier,
  STAFF_ROLES,
} from '../../src/auth/index.js';
import { currentContext } from '../../src/context.js';
import { ConflictError, ServiceUnavailableError } from '../../src/errors.js';
import { createHttpServer, type ReadinessCheck } from '../../src/http/index.js';
import { createLogger } from '../../src/logger.js';

export const INTERNAL_TOKEN = 'test-internal-token-0123456789';

export function newKeyPair() {
  return generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

/** Log lines the app wrote, parsed, for assertions on ids. */
export function captureLogs() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines };
}

export const Item = Type.Object(
  { name: Type.String({ minLength: 1 }), price: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** The app under test (`sut`): a few routes covering each policy and each input part. */
export async function buildApp(options: { checks?: ReadinessCheck[] } = {}) {
  const keys = newKeyPair();
  const signer = createAccessTokenSigner({ privateKey: keys.privateKey });
  const logs = captureLogs();
  const logger = createLogger({ service: 'test', level: 'info', destination: logs.stream });
  const app = await createHttpServer({
    service: 'test',
    logger,
    auth: {
      verifier: createAccessTokenVerifier({ publicKey: keys.publicKey }),
      internalToken: INTERNAL_TOKEN,
    },
    readinessChecks: options.checks ?? [],
  });

  app.post(
    '/items',
    { config: { auth: 'public' }, schema: { body: Item, response: { 201: Item } } },
    async (request, reply) => reply.code(201).send(request.body),
  );
  app.post(
    '/admin/items',
    { config: { auth: { roles: ['admin'] } }, schema: { body: Item } },
    async (request) => ({ ...request.body, by: request.identity?.userId }),
  );
  app.get('/staff', { config: { auth: { roles: STAFF_ROLES } } }, async (request) => ({
    identity: request.identity,
  }));
  app.get('/me', { config: { auth: 'authenticated' } }, async (request) => ({
    identity: request.identity,
  }));
  app.get('/internal/v1/ping', { config: { auth: 'internal' } }, async () => ({ ok: true }));
  app.get(
    '/search',
    {
      config: { auth: 'public' },
      schema: {
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => request.query,
  );
  // An action that takes no body and no query (like cancelling an order).
  app.post(
    '/things/:id/cancel',
    {
      config: { auth: 'public' },
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) },
    },
    async (request, reply) => reply.code(202).send({ cancelled: request.params.id }),
  );
  app.get(
    '/things/:id',
    {
      config: { auth: 'public' },
      schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) },
    },
    async (request) => ({ id: request.params.id }),
  );
  app.post('/context', { config: { auth: 'public' }, schema: { body: Item } }, async (request) => {
    // Cross an await and a timer: the context must survive both.
    await new Promise((resolve) => setTimeout(resolve, 5));
    request.log.info('inside handler');
    return { context: currentContext() ?? null };
  });
  app.get('/boom', { config: { auth: 'public' } }, async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/conflict', { config: { auth: 'public' } }, async () => {
    throw new ConflictError('email_taken', 'That email is already registered.');
  });

  app.get('/unavailable', { config: { auth: 'public' } }, async () => {
    throw new ServiceUnavailableError('users is unavailable (circuit open).', {
      retryAfterSeconds: 10,
    });
  });
  app.get('/proxy-failure', { config: { auth: 'public' } }, async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:3001'), { statusCode: 502 });
  });

  await app.ready();
  return { app, signer, keys, logs };
}
