import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What ties one order's story together across processes: the request id that started it
 * (carried as the correlation id of every message it causes) and the message that caused the
 * current work. HTTP requests and message handlers run inside `runWithContext`, so the logger
 * and the outbox pick these up without threading them through every call.
 */
export interface TraceContext {
  requestId?: string;
  correlationId: string;
  causationId?: string;
}

const storage = new AsyncLocalStorage<TraceContext>();

export function runWithContext<T>(context: TraceContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentContext(): TraceContext | undefined {
  return storage.getStore();
}
