/**
 * Errors a handler may throw on purpose. Each carries the HTTP status and the stable snake_case
 * `code` that API.md promises clients, so the one error handler can turn any of them into an
 * RFC 9457 problem without knowing the class. Anything that is not one of these is treated as a
 * bug and answered with a bare 500.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemFieldError {
  /** JSON pointer into the request, prefixed with its part: `/body/items/0/quantity`. */
  path: string;
  message: string;
}

/** The problem+json body, exactly API.md's shape. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: ProblemFieldError[];
}

/**
 * Problem `type` for a code. None of our problems has a documentation page yet, so RFC 9457's
 * `about:blank` (with the status phrase as title), as @shop/contracts' ProblemDetails says;
 * clients switch on `code`. One place to change when pages exist.
 */
export function problemType(_code: string): string {
  return 'about:blank';
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** A generic code for a status when nothing more specific is known (e.g. a plugin's error). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 406:
      return 'not_acceptable';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'unprocessable';
    case 429:
      return 'rate_limited';
    case 502:
      return 'bad_gateway';
    case 503:
      return 'service_unavailable';
    case 504:
      return 'gateway_timeout';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}

export interface AppErrorOptions {
  title?: string;
  errors?: ProblemFieldError[];
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly errors: ProblemFieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.title = options.title ?? statusTitle(status);
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  toProblem(): Problem {
    return {
      type: problemType(this.code),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export class BadRequestError extends AppError {
  constructor(
    detail = 'The request is invalid.',
    errors?: ProblemFieldError[],
    code = 'validation_failed',
  ) {
    super(400, code, detail, errors ? { errors } : {});
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'Authentication is required.', code = 'unauthorized') {
    // RFC 9110: a 401 names the scheme the client should use.
    super(401, code, detail, { headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'You are not allowed to do this.', code = 'forbidden') {
    super(403, code, detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'The resource was not found.', code = 'not_found') {
    super(404, code, detail);
  }
}

/** 409; the code says which conflict (`email_taken`, `invalid_state_transition`, ...). */
export class ConflictError extends AppError {
  constructor(code: string, detail: string) {
    super(409, code, detail);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(detail = 'The request body is larger than the limit.') {
    super(413, 'payload_too_large', detail);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(detail = 'The content type is not supported; send application/json.') {
    super(415, 'unsupported_media_type', detail);
  }
}

/** 422: the request is well formed but a business rule refuses it. */
export class UnprocessableError extends AppError {
  constructor(detail: string, code = 'unprocessable', errors?: ProblemFieldError[]) {
    super(422, code, detail, errors ? { errors } : {});
  }
}

export class TooManyRequestsError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, detail = 'Too many requests; slow down.') {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'rate_limited', detail, { headers: { 'retry-after': String(seconds) } });
    this.retryAfterSeconds = seconds;
  }
}

/** 503: a dependency is down or its circuit is open; the client may retry later. */
export class ServiceUnavailableError extends AppError {
  constructor(
    detail = 'A dependency is unavailable; try again shortly.',
    options: { code?: string; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(503, options.code ?? 'service_unavailable', detail, {
      cause: options.cause,
      ...(options.retryAfterSeconds
        ? { headers: { 'retry-after': String(Math.ceil(options.retryAfterSeconds)) } }
        : {}),
    });
  }
}

/** For code paths that know they are broken; the handler never shows `detail` to clients. */
export class InternalError extends AppError {
  constructor(detail = 'An unexpected error occurred.', cause?: unknown) {
    super(500, 'internal_error', detail, { cause });
  }
}

/** The body every unknown error gets: nothing from the error itself leaks out. */
export function internalProblem(): Problem {
  return {
    type: problemType('internal_error'),
    title: statusTitle(500),
    status: 500,
    detail: 'An unexpected error occurred.',
    code: 'internal_error',
  };
}
