import net from 'node:net';
import { Writable } from 'node:stream';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { defineMessage } from '@shop/contracts';
import pg from 'pg';
import type { Registry } from 'prom-client';
import Type from 'typebox';
import { DataSource } from 'typeorm';
import { createLogger, type Logger } from '../../src/logger.js';
import { messagingMigrations } from '../../src/messaging/index.js';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A logger whose JSON lines are kept in memory, so tests can assert on what was logged. */
export function captureLogger(level = 'info'): {
  logger: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: createLogger({ service: 'test', level, destination }), lines };
}

/**
 * A DataSource on `schema` of the test database, selected through search_path as services do,
 * with the outbox and inbox migrated.
 */
export async function openDataSource(
  url: string,
  schema: string,
  poolSize = 10,
): Promise<DataSource> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  await admin.end();
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    extra: { options: `-c search_path=${schema}`, max: poolSize },
    migrations: messagingMigrations,
    // As services run them: each migration in its own transaction, so one that builds an index
    // CONCURRENTLY can opt out.
    migrationsTransactionMode: 'each',
    logging: false,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

export async function deleteStreams(nc: NatsConnection, namespacePrefix: string): Promise<void> {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) {
    if (name.startsWith(`${namespacePrefix}_`)) await jsm.streams.delete(name);
  }
}

export async function streamMessageCount(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

/** Contracts used by the tests: a command whose handler may enqueue an event. */
export const WorkCommand = defineMessage(
  'demo.commands.work',
  1,
  Type.Object({ n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
);
export const WorkDone = defineMessage(
  'demo.events.work.done',
  1,
  Type.Object({ n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
);

/**
 * A TCP proxy in front of NATS that can be brought down and up: lets a test show what
 * happens while NATS is unreachable without stopping the shared server.
 */
export function natsProxy(target = { host: '127.0.0.1', port: 4222 }) {
  let server: net.Server | undefined;
  const sockets = new Set<net.Socket>();
  let port = 0;
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    /** Reserves a free port without listening, so connections to it are refused. */
    async reservePort(): Promise<number> {
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      return port;
    },
    async up(): Promise<void> {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    },
    async down(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      const current = server;
      server = undefined;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}

/** Current value of a counter or gauge for the given labels (0 when never set). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([key, value]) => v.labels[key] === value),
  );
  return match?.value ?? 0;
}
