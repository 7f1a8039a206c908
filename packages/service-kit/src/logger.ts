import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context.js';

export type { Logger } from 'pino';

export interface LoggerSettings {
  service: string;
  level?: string;
  /** Where lines go; tests pass a stream to read them back. Defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * JSON lines, one per event, each stamped with the service and, when there is one, the
 * request and correlation ids of the work in progress.
 */
export function createLogger({ service, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Secrets must never reach a log line, whatever object a caller hands in.
    redact: {
      paths: [
        'password',
        'passwordHash',
        '*.password',
        '*.passwordHash',
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
      ],
      censor: '[redacted]',
    },
    mixin() {
      const context = currentContext();
      if (!context) return {};
      return {
        correlationId: context.correlationId,
        ...(context.requestId ? { requestId: context.requestId } : {}),
        ...(context.causationId ? { causationId: context.causationId } : {}),
      };
    },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
