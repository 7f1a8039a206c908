import { defineMessage } from '@shop/contracts';
import Type from 'typebox';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineHandler,
  enqueueMessage,
  messagingMigrations,
  parseConfig,
  ServiceEnvironment,
} from '../../src/index.js';
import { startTestService, waitFor, type TestService } from '../../src/testing/index.js';

// A one-route service: POST /things records an event; its own consumer stores what it heard,
// so the test sees an HTTP request travel through the outbox, NATS and the inbox.
const ThingHappened = defineMessage(
  'demo.events.thing.happened',
  1,
  Type.Object({ name: Type.String() }),
);

class CreateHeard1767225600001 implements MigrationInterface {
  name = 'CreateHeard1767225600001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE heard (name text PRIMARY KEY, correlation_id text NOT NULL, causation_id text)`,
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE heard');
  }
}

const DemoConfig = Type.Object({ ...ServiceEnvironment });

let sut: TestService;

beforeAll(async () => {
  sut = await startTestService('service_kit_runtime', (env) => ({
    name: 'demo',
    port: 0,
    environment: parseConfig(DemoConfig, env),
    database: {
      schema: 'demo',
      role: 'demo_svc',
      entities: [],
      migrations: [...messagingMigrations, CreateHeard1767225600001],
    },
    streams: [{ name: 'DEMO', subjects: ['demo.>'] }],
    consumers: [
      {
        stream: 'DEMO',
        durable: 'demo-self',
        filterSubject: 'demo.events.>',
        handlers: [
          defineHandler(ThingHappened, async (data, { manager, envelope }) => {
            await manager.query(
              'INSERT INTO heard (name, correlation_id, causation_id) VALUES ($1, $2, $3)',
              [data.name, envelope.correlationId, envelope.causationId],
            );
          }),
        ],
      },
    ],
    register(app, { dataSource }) {
      app.post(
        '/things',
        {
          config: { auth: 'authenticated' },
          schema: { body: Type.Object({ name: Type.String() }, { additionalProperties: false }) },
        },
        async (request, reply) => {
          await dataSource.transaction((manager) =>
            enqueueMessage(manager, ThingHappened, { name: request.body.name }),
          );
          return reply.code(202).send();
        },
      );
    },
  }));
});

afterAll(async () => {
  await sut?.stop();
});

describe('startService', () => {
  it('is ready once Postgres and NATS answer, with Redis reported too', async () => {
    const response = await fetch(`${sut.url}/health/ready`);
    const body = (await response.json()) as { status: string; checks: { name: string }[] };
    expect(response.status).toBe(200);
    expect(body.checks.map((check) => check.name).sort()).toEqual(['nats', 'postgres', 'redis']);
  });

  it('carries the request id from HTTP through the outbox and NATS into the handler', async () => {
    const token = await sut.tokenFor({
      userId: '00000000-0000-4000-8000-000000000001',
      role: 'customer',
    });
    const response = await fetch(`${sut.url}/things`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': 'req-runtime-1',
      },
      body: JSON.stringify({ name: 'first' }),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe('req-runtime-1');

    const row = await waitFor(
      async () => {
        const rows = (await sut.infrastructure.dataSource.query(
          `SELECT correlation_id, causation_id FROM heard WHERE name = 'first'`,
        )) as { correlation_id: string; causation_id: string | null }[];
        return rows[0];
      },
      'the handler to hear the message',
      { timeoutMs: 10_000 },
    );
    expect(row.correlation_id).toBe('req-runtime-1');
    expect(row.causation_id).toBe('req-runtime-1');
  });

  it('refuses a request without a token before reading its body', async () => {
    const response = await fetch(`${sut.url}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{broken',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
