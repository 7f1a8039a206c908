import './types.js';

export type { HttpApp } from './types.js';
export {
  createHttpServer,
  requestIdFrom,
  REQUEST_ID_HEADER,
  DEFAULT_BODY_LIMIT,
  type HttpServerOptions,
} from './server.js';
export { createAuthenticator, type AuthSettings } from './authenticate.js';
export {
  checkReadiness,
  type ReadinessCheck,
  type ReadinessReport,
  type CheckResult,
} from './health.js';
export {
  errorHandler,
  notFoundHandler,
  problemFor,
  sendProblem,
  validationErrors,
} from './error-handler.js';
export { createValidatorCompiler } from './validation.js';
