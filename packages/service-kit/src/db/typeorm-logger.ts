import type { Logger as TypeormLogger } from 'typeorm';
import type { Logger } from '../logger.js';
import { PgErrorCode, pgErrorCode } from './pg-errors.js';

/**
 * Error codes that callers routinely provoke on purpose and handle (an inbox insert of a
 * duplicate message id, an idempotent create): logged at debug so they do not look like faults.
 * The error still reaches the caller, which decides whether it is one.
 */
const EXPECTED_ERROR_CODES = new Set<string>([PgErrorCode.uniqueViolation]);

/** SQL in log lines is trimmed: a bulk insert can be megabytes long. */
function clip(sql: string, max = 2_000): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * TypeORM's Logger interface on top of pino. Parameters are logged only at trace level: they
 * carry e-mail addresses, password hashes and card tokens, which must not reach normal logs.
 * Every query is logged at trace (off unless LOG_LEVEL=trace); slow queries (above
 * `maxQueryExecutionTime`, which TypeORM measures) at warn; failures at warn, since the caller
 * gets the error and logs it with its own context.
 */
export class PinoTypeormLogger implements TypeormLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string, parameters?: unknown): void {
    if (!this.logger.isLevelEnabled('trace')) return;
    this.logger.trace({ sql: clip(query), parameters }, 'db query');
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown): void {
    const code = pgErrorCode(error);
    const message = typeof error === 'string' ? error : error.message;
    const fields = { sql: clip(query), code, err: message };
    if (code && EXPECTED_ERROR_CODES.has(code)) {
      this.logger.debug(fields, 'db query failed (expected kind)');
      return;
    }
    this.logger.warn(
      this.logger.isLevelEnabled('trace') ? { ...fields, parameters } : fields,
      'db query failed',
    );
  }

  // Parameters are deliberately not logged here (see above).
  logQuerySlow(time: number, query: string, _parameters?: unknown): void {
    this.logger.warn({ sql: clip(query), durationMs: time }, 'db slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug({ component: 'typeorm' }, message);
  }

  logMigration(message: string): void {
    this.logger.info({ component: 'migrations' }, message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    if (level === 'warn') this.logger.warn({ component: 'typeorm' }, text);
    else this.logger.debug({ component: 'typeorm' }, text);
  }
}
