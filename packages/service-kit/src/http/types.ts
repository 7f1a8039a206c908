import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { TraceContext } from '../context.js';
import type { AuthPolicy, Identity } from '../auth/roles.js';
import type { ReadinessCheck } from './health.js';

/** The Fastify instance every service gets: TypeBox-typed routes. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; see AuthPolicy. Required unless the server has a default. */
    auth?: AuthPolicy;
  }
  interface FastifyRequest {
    /** The verified caller on 'authenticated' and role routes; null elsewhere. */
    identity: Identity | null;
    /** The ids this request's logs and messages carry. */
    trace: TraceContext;
  }
  interface FastifyInstance {
    /** Adds a check to GET /health/ready (e.g. from a database plugin). */
    addReadinessCheck(check: ReadinessCheck): void;
    /** The service's prom-client registry; add your own metrics to it. */
    metricsRegistry: Registry;
  }
}
