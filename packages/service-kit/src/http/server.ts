import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { runWithContext, type TraceContext } from '../context.js';
import type { Logger } from '../logger.js';
import { createMetricsRegistry } from '../metrics.js';
import { INTERNAL_TOKEN_HEADER } from '../auth/internal.js';
import { createAuthenticator, type AuthSettings } from './authenticate.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { registerHealthRoutes, type ReadinessCheck } from './health.js';
import { registerMetrics } from './observability.js';
import { createValidatorCompiler, enforceDeclaredInputs } from './validation.js';
import type { HttpApp } from './types.js';

export const REQUEST_ID_HEADER = 'x-request-id';
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A client-sent id is echoed only if it cannot smuggle anything into logs or headers. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(raw: IncomingMessage): string {
  const header = raw.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

export interface HttpServerOptions {
  /** Service name: OpenAPI title and the metrics' `service` label. */
  service: string;
  logger: Logger;
  /** Defaults to a fresh createMetricsRegistry(service). */
  registry?: Registry;
  auth?: AuthSettings;
  readinessChecks?: ReadinessCheck[];
  /** Bytes; default 1 MiB (API.md). */
  bodyLimit?: number;
  openapi?: { title?: string; version?: string; description?: string };
  /** Behind the gateway or a load balancer, so `request.ip` is the client's. */
  trustProxy?: boolean;
  /** What GET /docs/json serves; default this server's own document (the gateway merges). */
  docs?: () => Promise<unknown>;
}

function describeSecurity(auth: unknown): Record<string, string[]>[] | undefined {
  if (auth === undefined || auth === 'public') return undefined;
  if (auth === 'internal') return [{ internalToken: [] }];
  return [{ bearerAuth: [] }];
}

/**
 * A Fastify instance with everything API.md's conventions need, in the order they must run:
 * request id and trace context, then authentication (onRequest, before the body is read), then
 * parsing (1 MiB, JSON only), then strict validation, then the handler; one error handler and
 * a 404 handler answer problem+json. Register your routes on the returned instance, each with
 * `config: { auth }`.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const registry = options.registry ?? createMetricsRegistry(options.service);
  const checks: ReadinessCheck[] = [...(options.readinessChecks ?? [])];
  const auth = options.auth ?? {};

  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: requestIdFrom,
    // The logger's mixin stamps requestId from the trace context; a reqId binding would repeat it.
    childLoggerFactory: (logger, _bindings, childOptions) => logger.child({}, childOptions),
    // Our own onRequest/onResponse lines replace Fastify's, so they carry the trace ids.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('metricsRegistry', registry);
  app.decorate('addReadinessCheck', (check: ReadinessCheck) => {
    checks.push(check);
  });
  app.decorateRequest('identity', null);
  app.decorateRequest('trace', null as unknown as TraceContext);

  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // JSON is the only body API.md accepts: a text/plain body is 415, not a string that then
  // fails validation with a confusing message.
  app.removeContentTypeParser('text/plain');

  // Every route must say who may call it, and what it says must be serviceable; both are
  // checked when the route is added, as is a strict query (validation.ts), so a mistake stops the start rather than a request.
  app.addHook('onRoute', (route) => {
    const policy = route.config?.auth ?? auth.defaultPolicy;
    if (policy === undefined)
      throw new Error(`Route ${String(route.method)} ${route.url} declares no config.auth`);
    if (policy === 'internal' && !auth.internalToken)
      throw new Error(`Route ${route.url} is internal but no internal token is configured`);
    if (policy !== 'public' && policy !== 'internal' && !auth.verifier)
      throw new Error(`Route ${route.url} needs a token verifier (options.auth.verifier)`);
    enforceDeclaredInputs(route);
  });

  app.addHook('onRequest', (request, reply, done) => {
    const trace: TraceContext = { requestId: request.id, correlationId: request.id };
    request.trace = trace;
    reply.header(REQUEST_ID_HEADER, request.id);
    runWithContext(trace, () => {
      request.log.info({ method: request.method, url: request.url }, 'request received');
      done();
    });
  });
  app.addHook('onRequest', createAuthenticator(auth));
  // The body arrives through stream events, which run outside the context entered above;
  // re-enter it so validation hooks, handlers and everything they call see the request's ids.
  app.addHook('preValidation', (request, _reply, done) => runWithContext(request.trace, done));
  app.addHook('preHandler', (request, _reply, done) => runWithContext(request.trace, done));
  app.addHook('onResponse', (request, reply, done) => {
    runWithContext(request.trace ?? { correlationId: request.id }, () =>
      request.log.info(
        {
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime),
        },
        'request completed',
      ),
    );
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.openapi?.title ?? options.service,
        version: options.openapi?.version ?? '1.0.0',
        ...(options.openapi?.description ? { description: options.openapi.description } : {}),
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          internalToken: { type: 'apiKey', in: 'header', name: INTERNAL_TOKEN_HEADER },
        },
      },
    },
    // Say in the document which credential each route wants, from its config.auth.
    transform: ({ schema, url, route }) => {
      const security = describeSecurity(route.config?.auth ?? auth.defaultPolicy);
      return { schema: security ? { ...schema, security } : schema, url };
    },
  });

  registerHealthRoutes(app, checks);
  registerMetrics(app, registry);
  const docs = options.docs;
  app.get('/docs/json', { config: { auth: 'public' }, schema: { hide: true } }, async () =>
    docs ? docs() : app.swagger(),
  );

  return app;
}
