import { describeDatabaseError } from '../db/pg-errors.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  AppError,
  NotFoundError,
  PROBLEM_CONTENT_TYPE,
  internalProblem,
  problemType,
  codeForStatus,
  statusTitle,
  type Problem,
  type ProblemFieldError,
} from '../errors.js';

/**
 * The one place an error becomes a response. Order matters: our own error classes first
 * (they know their code), then Fastify's validation errors, then anything carrying a 4xx
 * `statusCode` (Fastify's FST_* errors and plugins'), and everything else is a bug: logged in
 * full, answered with a bare 500 that says nothing about the internals.
 */

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const PART_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Ajv errors → `[{path, message}]` with JSON pointers such as `/body/items/0/quantity`. */
export function validationErrors(
  errors: readonly AjvLikeError[],
  context: string | undefined,
): ProblemFieldError[] {
  const prefix = `/${PART_NAMES[context ?? 'body'] ?? context ?? 'body'}`;
  const result: ProblemFieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    let path = `${prefix}${error.instancePath}`;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') {
      path = `${path}/${error.params.missingProperty}`;
      message = 'is required';
    } else if (
      error.keyword === 'additionalProperties' &&
      typeof error.params.additionalProperty === 'string'
    ) {
      path = `${path}/${error.params.additionalProperty}`;
      message = 'is not an allowed field';
    }
    // allErrors reports each branch of a failed anyOf; one line per path and message is enough.
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ path, message });
  }
  return result;
}

function fastifyProblem(error: FastifyError, status: number): Problem {
  let code = codeForStatus(status);
  let detail = error.message;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      code = 'invalid_json';
      break;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      detail = 'The request body is larger than the 1 MiB limit.';
      break;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      detail = 'The content type is not supported; send application/json.';
      break;
    default:
      // secure-json-parse's prototype-poisoning refusal is a SyntaxError with statusCode 400.
      if (error.name === 'SyntaxError') code = 'invalid_json';
  }
  return { type: problemType(code), title: statusTitle(status), status, detail, code };
}

export function problemFor(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof AppError) {
    // A 500 of ours may carry an internal detail for the log; the client gets the bare one.
    if (error.status >= 500 && error.status !== 503)
      return { problem: internalProblem(), headers: {} };
    return { problem: error.toProblem(), headers: error.headers };
  }

  const fastifyError = error as Partial<FastifyError> & { validation?: AjvLikeError[] };
  if (Array.isArray(fastifyError.validation)) {
    const errors = validationErrors(fastifyError.validation, fastifyError.validationContext);
    const part = PART_NAMES[fastifyError.validationContext ?? 'body'] ?? 'request';
    return {
      problem: {
        type: problemType('validation_failed'),
        title: statusTitle(400),
        status: 400,
        detail: `The request ${part} is invalid.`,
        code: 'validation_failed',
        errors,
      },
      headers: {},
    };
  }

  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { problem: fastifyProblem(fastifyError as FastifyError, status), headers: {} };

  // A proxy's or a plugin's 502/503/504 keeps its status (it tells the client to retry), with
  // a generic detail.
  if (status === 502 || status === 503 || status === 504) {
    const code = codeForStatus(status);
    return {
      problem: {
        type: problemType(code),
        title: statusTitle(status),
        status,
        detail: 'An upstream dependency failed; try again shortly.',
        code,
      },
      headers: {},
    };
  }

  return { problem: internalProblem(), headers: {} };
}

export function sendProblem(
  reply: FastifyReply,
  problem: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { problem, headers } = problemFor(error);
  if (problem.status >= 500) {
    // A database error is logged by its code alone: its parameters may hold secrets.
    const databaseError = describeDatabaseError(error);
    request.log.error(databaseError ? { databaseError } : { err: error }, 'request failed');
  } else request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
  return sendProblem(reply, problem, headers);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const problem = new NotFoundError(`No route ${request.method} ${request.url.split('?')[0]}.`);
  return sendProblem(reply, problem.toProblem());
}
