import { currentContext, type TraceContext } from '@shop/service-kit';

/** What a saga step takes its trace from: the saga row. */
export interface SagaTraceSource {
  orderId: string;
  /** The placing request's id; null on sagas stored before it was kept. */
  correlationId: string | null;
}

/**
 * The trace one step of an order's saga runs under, whoever drives it (a reply, the deadline
 * timer, a customer's or staff's request): the order's correlation id, so every message, log
 * line and audit row of the order shares it (sagas from before it was kept use the order id,
 * which every step of theirs then shares); and as cause `causationId` when the caller names
 * one (the timer's marker), else the message being handled, else the request being served.
 * The current request id stays, so a log line still names the request that acted.
 */
export function sagaTrace(saga: SagaTraceSource, causationId?: string): TraceContext {
  const current = currentContext();
  const cause = causationId ?? current?.causationId ?? current?.requestId;
  return {
    ...(current?.requestId ? { requestId: current.requestId } : {}),
    correlationId: saga.correlationId ?? saga.orderId,
    ...(cause ? { causationId: cause } : {}),
  };
}

/**
 * The cause recorded for what the deadline timer does: no message or request causes it, so
 * a marker naming the saga and the deadline that fell due.
 */
export function deadlineCause(orderId: string, deadlineAt: Date | null): string {
  return `saga-deadline:${orderId}:${deadlineAt ? deadlineAt.toISOString() : 'none'}`;
}
