// Public API of reliable messaging; the service-kit barrel re-exports this file.
export { computeBackoff, sleep, type BackoffPolicy } from './backoff.js';
export { connectNats, type NatsConnectSettings } from './connection.js';
export {
  defineHandler,
  definePreparedHandler,
  startConsumer,
  type ConsumerRunner,
  type ConsumerRunnerSettings,
  type MessageHandler,
  type MessageHandlerContext,
  type PrepareContext,
} from './consumer.js';
export { deadLetterSubject, type DeadLetter } from './dead-letter.js';
export {
  buildEnvelope,
  describeErrors,
  InvalidMessageError,
  parseEnvelope,
  type EnvelopeOptions,
  type ParsedEnvelope,
} from './envelope.js';
export {
  messagingMetrics,
  registerOutboxGauges,
  type MessagingMetrics,
  type OutboxBacklog,
} from './metrics.js';
export {
  CreateOutboxAndInbox1767225600000,
  messagingMigrations,
  OutboxDueIndex1795635700001,
  OutboxNextAttemptAt1795635700000,
} from './migrations.js';
export {
  createNamespace,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_SUBJECT_ROOT,
  type Namespace,
} from './namespace.js';
export { enqueueMessage, outboxChannel } from './outbox.js';
export {
  DEFAULT_DEAD_LETTER_MAX_AGE_MS,
  DEFAULT_MAX_DELIVER,
  DEFAULT_STREAM_MAX_AGE_MS,
  deliveryLimitOf,
  ensureConsumer,
  ensureDeadLetterStream,
  ensureStream,
  type ConsumerSpec,
  type ResolvedConsumer,
  type StreamSpec,
} from './provisioning.js';
export {
  DEFAULT_INBOX_RETENTION_MS,
  DEFAULT_STUCK_AFTER_ATTEMPTS,
  pruneInbox,
  pruneOutbox,
  readOutboxBacklog,
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelaySettings,
} from './relay.js';
