import type { AddressInfo } from 'node:net';
import { SERVICE_NAMES, streamSubjects } from '@shop/contracts';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import Type, { type Static } from 'typebox';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { Registry } from 'prom-client';
import { createAccessTokenVerifier } from './auth/jwt.js';
import { resolveAuthSecrets, type AuthSecrets } from './auth/dev-keys.js';
import { createTokenRevocationCheck, type TokenVersionLookup } from './auth/revocation.js';
import { LogLevel, NodeEnv, Url } from './config.js';
import { startAuditPartitionMaintenance } from './db/audit/audit-log-partitions.js';
import { openDataSource } from './db/data-source.js';
import { prepareDatabase } from './db/prepare.js';
import { createHttpServer } from './http/server.js';
import type { HttpApp } from './http/types.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { connectNats } from './messaging/connection.js';
import { startConsumer, type ConsumerRunner, type MessageHandler } from './messaging/consumer.js';
import { createNamespace, type Namespace } from './messaging/namespace.js';
import {
  ensureConsumer,
  ensureDeadLetterStream,
  ensureStream,
  type ConsumerSpec,
  type StreamSpec,
} from './messaging/provisioning.js';
import { startOutboxRelay, type OutboxRelay } from './messaging/relay.js';
import { createRedis, type RedisHandle } from './redis.js';
import { createShutdown, type Shutdown } from './shutdown.js';

/**
 * The environment every domain service reads, besides its own port and settings. Spread it
 * into the service's config schema: `Type.Object({ ...ServiceEnvironment, ORDERS_PORT: Port(3002) })`.
 */
export const ServiceEnvironment = {
  NODE_ENV: NodeEnv(),
  LOG_LEVEL: LogLevel('info'),
  /** Admin/migration connection; at runtime the service logs in as its own role. */
  DATABASE_URL: Url('postgres://postgres@127.0.0.1:5432/shop'),
  DATABASE_ROLE_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  NATS_URL: Url('nats://127.0.0.1:4222'),
  /** Prefix of every stream and subject: lets several systems (tests) share one NATS. */
  NATS_NAMESPACE: Type.String({ default: '', pattern: '^[A-Za-z0-9_-]*$' }),
  REDIS_URL: Url('redis://127.0.0.1:6379'),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 15_000 }),
};
export type ServiceEnvironment = Static<ReturnType<typeof Type.Object<typeof ServiceEnvironment>>>;

export interface ConsumerDefinition extends ConsumerSpec {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers of different contracts
  handlers: MessageHandler<any>[];
  concurrency?: number;
}

/** What one domain service is: everything else about starting it is the same for all. */
export interface ServiceDefinition {
  name: string;
  port: number;
  host?: string;
  environment: ServiceEnvironment;
  database: {
    schema: string;
    role: string;
    entities: NonNullable<DataSourceOptions['entities']>;
    migrations: NonNullable<DataSourceOptions['migrations']>;
  };
  /**
   * Where a user's token version is read when Redis cannot tell whether a token was revoked:
   * only the service that owns the accounts has one. Without it, such tokens are accepted.
   */
  tokenVersions?: (dataSource: DataSource) => TokenVersionLookup;
  /** The streams this service owns: its events and the commands it receives. */
  streams: StreamSpec[];
  consumers: ConsumerDefinition[];
  /** Registers the service's routes and background work on the ready infrastructure. */
  register(app: HttpApp, infrastructure: ServiceInfrastructure): Promise<void> | void;
}

export interface ServiceInfrastructure {
  logger: Logger;
  registry: Registry;
  dataSource: DataSource;
  nats: NatsConnection;
  js: JetStreamClient;
  namespace: Namespace;
  redis: RedisHandle;
  secrets: AuthSecrets;
  /** Called at shutdown before the database closes (timers, sweepers a service started). */
  onStop(step: () => Promise<void> | void): void;
}

export interface RunningService {
  app: HttpApp;
  infrastructure: ServiceInfrastructure;
  /** The base URL it listens on. */
  url: string;
  shutdown: Shutdown;
}

/** The stream a service owns: its name upper-cased, carrying its events and commands. */
export function serviceStream(name: string): StreamSpec {
  const service = SERVICE_NAMES.find((candidate) => candidate.toUpperCase() === name);
  if (!service) throw new Error(`no service owns a stream named ${name}`);
  return { name, subjects: [...streamSubjects[service]] };
}

/**
 * Starts a domain service in the order its dependencies need: database (created and migrated),
 * NATS (waited for), streams and consumers (provisioned idempotently), the outbox relay, Redis
 * (optional at runtime), then HTTP. Shutdown runs the reverse: stop HTTP and finish in-flight
 * requests, stop consumers and the relay, drain NATS, then close Redis and the database.
 */
export interface StartOptions {
  /** What shutdown calls when done; tests pass a no-op instead of process.exit. */
  exit?: (code: number) => void;
}

export async function startService(
  definition: ServiceDefinition,
  options: StartOptions = {},
): Promise<RunningService> {
  const { name, environment: env } = definition;
  const logger = createLogger({ service: name, level: env.LOG_LEVEL });
  const registry = createMetricsRegistry(name);
  const secrets = await resolveAuthSecrets();

  const prepared = await prepareDatabase({
    adminUrl: env.DATABASE_URL,
    schema: definition.database.schema,
    role: definition.database.role,
    ...(env.DATABASE_ROLE_PASSWORD ? { rolePassword: env.DATABASE_ROLE_PASSWORD } : {}),
    migrations: definition.database.migrations,
    logger,
  });
  const dataSource = await openDataSource({
    url: prepared.runtimeUrl,
    schema: definition.database.schema,
    entities: definition.database.entities,
    logger,
    applicationName: name,
  });

  const nats = await connectNats({ servers: env.NATS_URL, name, logger });
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  const namespace = createNamespace(env.NATS_NAMESPACE);
  await ensureDeadLetterStream(jsm, namespace);
  for (const stream of definition.streams) await ensureStream(jsm, namespace, stream);
  // A consumer may start before the service owning its stream (everything boots at once). The
  // owner's stream spec is known from the contracts, so the reader creates the same stream
  // idempotently instead of failing or waiting.
  for (const consumer of definition.consumers) {
    if (definition.streams.some((stream) => stream.name === consumer.stream)) continue;
    await ensureStream(jsm, namespace, serviceStream(consumer.stream));
  }

  const relay: OutboxRelay = await startOutboxRelay({
    dataSource,
    js,
    namespace,
    logger,
    registry,
  });
  const consumers: ConsumerRunner[] = [];
  for (const { handlers, concurrency, ...spec } of definition.consumers) {
    await ensureConsumer(jsm, namespace, spec);
    consumers.push(
      await startConsumer({
        js,
        dataSource,
        namespace,
        logger,
        registry,
        stream: spec.stream,
        durable: spec.durable,
        handlers,
        ...(concurrency ? { concurrency } : {}),
      }),
    );
  }

  const redis = createRedis(env.REDIS_URL, logger);
  const stopSteps: Array<() => Promise<void> | void> = [];
  // Every service's audit log needs next month's partition before the month begins: wired here
  // once for all of them. It never blocks or fails the start (the DEFAULT partition catches
  // rows meanwhile).
  const auditPartitions = startAuditPartitionMaintenance({ dataSource, logger });
  stopSteps.push(() => auditPartitions.stop());
  const infrastructure: ServiceInfrastructure = {
    logger,
    registry,
    dataSource,
    nats,
    js,
    namespace,
    redis,
    secrets,
    onStop: (step) => stopSteps.push(step),
  };

  const app = await createHttpServer({
    service: name,
    logger,
    registry,
    trustProxy: true,
    auth: {
      verifier: createAccessTokenVerifier({ publicKey: secrets.publicKey }),
      revocations: createTokenRevocationCheck({
        redis,
        logger,
        registry,
        ...(definition.tokenVersions ? { fallback: definition.tokenVersions(dataSource) } : {}),
      }),
      internalToken: secrets.internalToken,
    },
    readinessChecks: [
      { name: 'postgres', critical: true, check: () => dataSource.query('SELECT 1') },
      { name: 'nats', critical: true, check: () => nats.flush() },
      { name: 'redis', critical: false, check: () => redis.ping() },
    ],
  });
  await definition.register(app, infrastructure);
  await app.listen({ port: definition.port, host: definition.host ?? '0.0.0.0' });
  // The bound port, not the requested one: tests ask for port 0.
  const { port } = app.server.address() as AddressInfo;
  const address = `http://127.0.0.1:${port}`;

  const shutdown = createShutdown({
    logger,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    ...(options.exit ? { exit: options.exit } : {}),
    steps: [
      { name: 'http', run: () => app.close() },
      {
        name: 'background work',
        run: () => Promise.all(stopSteps.map(async (step) => step())),
      },
      { name: 'consumers', run: () => Promise.all(consumers.map((consumer) => consumer.stop())) },
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'nats', run: () => nats.drain() },
      { name: 'redis', run: () => redis.close() },
      { name: 'database', run: () => dataSource.destroy() },
    ],
  });
  logger.info({ address, schema: definition.database.schema }, `${name} service started`);
  return { app, infrastructure, url: address, shutdown };
}
