import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * A service's environment, described once as a TypeBox object and checked at start, so a typo
 * in a variable fails the boot with a clear line instead of a confusing error an hour later.
 * Only the variables the schema names are read; everything else in the environment is ignored.
 */

export interface ConfigIssue {
  variable: string;
  reason: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    // One line on purpose: it is what an operator sees when the process refuses to start.
    super(`Invalid configuration: ${issues.map((i) => `${i.variable} ${i.reason}`).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }

  /** The first variable at fault, for tests and callers that want one name. */
  get variable(): string {
    return this.issues[0]?.variable ?? '';
  }
}

type Env = Record<string, string | undefined>;

function schemaType(schema: TSchema | undefined): unknown {
  return (schema as { type?: unknown } | undefined)?.type;
}

/**
 * Pure: reads the variables `schema` names from `env`, converts strings to the declared
 * numbers, booleans and JSON objects, applies defaults and returns the typed value; throws a
 * ConfigError listing every bad variable. Never puts a value in the message (it may be a secret).
 */
export function parseConfig<S extends TObject>(schema: S, env: Env = process.env): Static<S> {
  const issues: ConfigIssue[] = [];
  const raw: Record<string, unknown> = {};
  const properties = schema.properties as Record<string, TSchema>;

  for (const [name, property] of Object.entries(properties)) {
    const value = env[name];
    // `FOO=` in a .env file means "not set": let the default (or the required check) apply.
    if (value === undefined || value === '') continue;
    const type = schemaType(property);
    if ((type === 'object' || type === 'array') && typeof value === 'string') {
      try {
        raw[name] = JSON.parse(value);
      } catch {
        issues.push({ variable: name, reason: 'must be valid JSON' });
      }
      continue;
    }
    raw[name] = value;
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const value = Value.Default(schema, Value.Convert(schema, raw));
  if (Value.Check(schema, value)) return value;

  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const variable of missing) {
        if (!seen.has(variable)) issues.push({ variable, reason: 'is required but not set' });
        seen.add(variable);
      }
      continue;
    }
    // instancePath is `/NAME` or `/NAME/inner/path` for JSON values.
    const [, variable = '(unknown)', ...rest] = error.instancePath.split('/');
    if (seen.has(variable)) continue;
    seen.add(variable);
    const where = rest.length > 0 ? ` (at /${rest.join('/')})` : '';
    issues.push({ variable, reason: `${error.message}${where}` });
  }
  if (issues.length === 0) issues.push({ variable: '(environment)', reason: 'is invalid' });
  throw new ConfigError(issues);
}

export interface LoadConfigOptions {
  /** Injected by tests; the real thing prints one line and exits with code 1. */
  exit?: (code: number) => never;
  stderr?: { write(line: string): unknown };
}

/**
 * parseConfig for a process: on a bad environment writes ONE line to stderr naming each bad
 * variable and why, then exits with code 1. A logger is not used because config decides the
 * log level, and a half-configured process should not start anything.
 */
export function loadConfig<S extends TObject>(
  schema: S,
  env: Env = process.env,
  options: LoadConfigOptions = {},
): Static<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    (options.stderr ?? process.stderr).write(`${error.message}\n`);
    return (options.exit ?? ((code: number) => process.exit(code)))(1);
  }
}

// Reusable pieces for services' schemas.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const LogLevel = (fallback: (typeof LOG_LEVELS)[number] = 'info') =>
  Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    { default: fallback, description: 'pino log level' },
  );

// 0 asks the system for a free port: tests start services side by side with it.
export const Port = (fallback?: number) =>
  Type.Integer({
    minimum: 0,
    maximum: 65535,
    ...(fallback === undefined ? {} : { default: fallback }),
  });

/** An absolute URL of any scheme (`postgres://`, `nats://`, `redis://`, `http://`). */
export const Url = (fallback?: string) =>
  Type.String({
    format: 'uri',
    pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*://',
    ...(fallback === undefined ? {} : { default: fallback }),
  });

export const Flag = (fallback: boolean) => Type.Boolean({ default: fallback });

export const PositiveInteger = (fallback?: number) =>
  Type.Integer({ minimum: 1, ...(fallback === undefined ? {} : { default: fallback }) });

export const NodeEnv = () =>
  Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  });

/** A secret that must be long enough to be worth having (e.g. INTERNAL_API_TOKEN). */
export const Secret = (minLength = 16) => Type.String({ minLength });
