import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  Flag,
  LogLevel,
  Port,
  Url,
  loadConfig,
  parseConfig,
} from '../../src/config.js';

const Schema = Type.Object({
  PORT: Port(3001),
  DATABASE_URL: Url(),
  REDIS_URL: Url('redis://127.0.0.1:6379'),
  LOG_LEVEL: LogLevel(),
  PRETTY: Flag(false),
  TAX_RATES_BPS: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { default: {} }),
  INTERNAL_API_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
});

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/shop' };

function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(Schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('converts strings, applies defaults and ignores unrelated variables', () => {
    const config = parseConfig(Schema, {
      ...base,
      PORT: '8080',
      PRETTY: 'true',
      TAX_RATES_BPS: '{"NY":400,"CA":725}',
      HOME: '/root',
    });
    expect(config).toEqual({
      PORT: 8080,
      DATABASE_URL: base.DATABASE_URL,
      REDIS_URL: 'redis://127.0.0.1:6379',
      LOG_LEVEL: 'info',
      PRETTY: true,
      TAX_RATES_BPS: { NY: 400, CA: 725 },
    });
    // Types flow through: this line would not compile if PORT were a string.
    const port: number = config.PORT;
    expect(port).toBe(8080);
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig(Schema, { ...base, PORT: '' }).PORT).toBe(3001);
  });

  it('names a missing variable', () => {
    const error = configError({});
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).toBe('Invalid configuration: DATABASE_URL is required but not set');
  });

  it('names a variable of the wrong type or out of range, without echoing the value', () => {
    expect(configError({ ...base, PORT: 'eighty' }).message).toMatch(
      /^Invalid configuration: PORT /,
    );
    expect(configError({ ...base, PORT: '70000' }).variable).toBe('PORT');
    expect(configError({ ...base, LOG_LEVEL: 'loud' }).variable).toBe('LOG_LEVEL');
    expect(configError({ ...base, PRETTY: 'maybe' }).variable).toBe('PRETTY');
    const secret = configError({ ...base, INTERNAL_API_TOKEN: 'short-secret' });
    expect(secret.variable).toBe('INTERNAL_API_TOKEN');
    expect(secret.message).not.toContain('short-secret');
  });

  it('rejects a URL that is not absolute', () => {
    expect(configError({ DATABASE_URL: 'localhost:5432' }).variable).toBe('DATABASE_URL');
  });

  it('rejects JSON variables that do not parse or do not match', () => {
    expect(configError({ ...base, TAX_RATES_BPS: '{NY:400}' }).message).toBe(
      'Invalid configuration: TAX_RATES_BPS must be valid JSON',
    );
    const wrong = configError({ ...base, TAX_RATES_BPS: '{"NY":"four"}' });
    expect(wrong.variable).toBe('TAX_RATES_BPS');
    expect(wrong.message).toContain('/NY');
  });

  it('lists every bad variable on one line', () => {
    const error = configError({ PORT: 'x' });
    expect(error.issues.map((i) => i.variable).sort()).toEqual(['DATABASE_URL', 'PORT']);
    expect(error.message.split('\n')).toHaveLength(1);
  });
});

describe('loadConfig', () => {
  it('writes one stderr line and exits with code 1', () => {
    const written: string[] = [];
    let exitCode: number | undefined;
    expect(() =>
      loadConfig(
        Schema,
        { PORT: 'x', ...base },
        {
          stderr: { write: (line: string) => written.push(line) },
          exit: (code: number) => {
            exitCode = code;
            throw new Error('exited');
          },
        },
      ),
    ).toThrow('exited');
    expect(exitCode).toBe(1);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^Invalid configuration: PORT .*\n$/);
  });

  it('returns the typed config when the environment is good', () => {
    expect(loadConfig(Schema, base).PORT).toBe(3001);
  });
});
