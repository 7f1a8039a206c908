import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { PinoTypeormLogger, connectionStartupOptions } from '../../src/db/index.js';

function capture(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return {
    lines,
    logger: new PinoTypeormLogger(createLogger({ service: 'db-test', level, destination })),
  };
}

describe('PinoTypeormLogger', () => {
  it('logs slow queries at warn, without parameters', () => {
    const { lines, logger } = capture();
    logger.logQuery('SELECT 1', ['secret']);
    logger.logQuerySlow(812, 'SELECT *\n  FROM accounts WHERE email = $1', ['ann@example.com']);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'db slow query',
        durationMs: 812,
        sql: 'SELECT * FROM accounts WHERE email = $1',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('ann@example.com');
  });

  it('logs failures at warn with their SQLSTATE, duplicates at debug only', () => {
    const { lines, logger } = capture();
    logger.logQueryError(Object.assign(new Error('boom'), { code: '42501' }), 'SELECT 1', [
      'secret',
    ]);
    logger.logQueryError(Object.assign(new Error('dup'), { code: '23505' }), 'INSERT', []);
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, code: '42501', err: 'boom', msg: 'db query failed' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});

describe('connectionStartupOptions', () => {
  it('sets search_path and timeouts, keeping options from the URL', () => {
    expect(
      connectionStartupOptions({
        schema: 'orders',
        statementTimeoutMs: 5000,
        extra: '-c lock_timeout=1000',
      }),
    ).toBe(
      '-c search_path=orders -c statement_timeout=5000 -c idle_in_transaction_session_timeout=60000 -c lock_timeout=1000',
    );
    expect(() => connectionStartupOptions({ schema: 'orders,public' })).toThrow(/identifier/);
  });
});
