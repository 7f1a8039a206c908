import proxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ServiceUnavailableError,
  createBreaker,
  isAppError,
  type HttpApp,
  type Logger,
} from '@shop/service-kit';
import type { AccessControl } from './access.js';
import type { Upstream } from './upstreams.js';

/**
 * One upstream behind @fastify/http-proxy and an opossum breaker. The breaker's call lasts
 * until the upstream's response head arrives (the body then streams through): a refused
 * connection, a reset or no answer within UPSTREAM_TIMEOUT_MS is a failure, answered 503
 * `service_unavailable`; enough failures open the circuit and the next calls get 503 at once.
 * Any HTTP answer, 5xx included, is the upstream's own verdict and passes through unchanged.
 */

type ReplyOptions = Parameters<NonNullable<FastifyHttpProxyOptions['handler']>>[3];

/** API.md has no OPTIONS routes; leaving it out lets @fastify/cors answer preflights. */
const METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'];

export interface ProxySettings {
  access: AccessControl;
  timeoutMs: number;
  resetTimeoutMs: number;
  logger: Logger;
}

/** The query string exactly as the client sent it (no re-encoding, no reordering). */
function rawQuery(_search: string | undefined, url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index + 1);
}

/** Resolves once the upstream's response head is here and streaming to the client. */
function forward(
  signal: AbortSignal,
  request: FastifyRequest,
  reply: FastifyReply,
  dest: string,
  options: ReplyOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // The breaker timed out: the 503 is on its way; whatever the upstream says later is dropped.
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    // The body was read in full by the gateway (1 MiB limit): send those bytes as they came.
    const body = Buffer.isBuffer(request.body)
      ? {
          body: request.body,
          contentType: request.headers['content-type'] ?? 'application/octet-stream',
        }
      : {};
    reply.from(dest, {
      ...options,
      ...body,
      onResponse: (_request, upstreamReply, response) => {
        if (signal.aborted) {
          response.stream.destroy();
          return;
        }
        resolve();
        upstreamReply.send(response.stream);
      },
      onError: (_reply, { error }) => reject(error),
    });
  });
}

export async function registerUpstreamProxy(
  app: HttpApp,
  upstream: Upstream,
  settings: ProxySettings,
): Promise<void> {
  const breaker = createBreaker(forward, {
    name: upstream.name,
    timeoutMs: settings.timeoutMs,
    resetTimeoutMs: settings.resetTimeoutMs,
    registry: app.metricsRegistry,
    logger: settings.logger,
    // Only transport failures reach the breaker (HTTP answers resolve), and they all count.
    isClientError: () => false,
  });
  app.addHook('onClose', async () => breaker.shutdown());

  for (const prefix of upstream.prefixes)
    await app.register(proxy, {
      upstream: upstream.url,
      prefix,
      // The services serve the same public paths: nothing is stripped or rewritten.
      rewritePrefix: prefix,
      httpMethods: METHODS,
      // The edge's access control (access.ts) guards these routes, not a route policy.
      config: { auth: 'public' },
      // Bodies are parsed (buffered) by the gateway's own parser, under its size limit.
      proxyPayloads: false,
      // A retried GET after an upstream 503 only delays the client's answer.
      retryMethods: [],
      disableRequestLogging: true,
      replyOptions: {
        timeout: settings.timeoutMs,
        queryString: rawQuery,
        rewriteRequestHeaders: (request, headers) =>
          settings.access.upstreamHeaders(request, headers),
      },
      handler: async (request, reply, dest, options) => {
        try {
          await breaker.fire(request, reply, dest, options);
        } catch (error) {
          // Open circuit or timeout: already a 503 with its detail.
          if (isAppError(error)) throw error;
          request.log.warn({ err: error, upstream: upstream.name }, 'upstream call failed');
          throw new ServiceUnavailableError(
            `The ${upstream.name} service is unavailable; try again shortly.`,
          );
        }
        // The response streams on; Fastify waits for it to end.
        return reply;
      },
    });
}
