import type { CancellationReason } from '@shop/contracts';
import type {
  Decision,
  OrderPatch,
  Outgoing,
  Saga,
  SagaContext,
  SagaData,
  SagaState,
  TimelineEntry,
} from './types.js';

/**
 * A working copy of a saga while one event is decided: the machine records what changes and
 * what to send, and `decision()` hands it all back at once. Nothing here touches the input.
 */
export interface Draft {
  readonly context: SagaContext;
  readonly data: SagaData;
  readonly state: SagaState;
  /** ISO time of the decision, for events and timestamps. */
  readonly at: string;
  moveTo(state: SagaState): void;
  /** Deadline `ms` from now for the step just started; resets the resend count. */
  startStep(ms?: number): void;
  /** Same step, one more resend, deadline renewed. */
  resendStep(): void;
  deadlineAt(at: Date | null): void;
  send(message: Outgoing): void;
  order(patch: OrderPatch): void;
  step(step: string, outcome: string, detail?: string | null): void;
  flagNeedsAttention(error: string): void;
  stepResends(): number;
  decision(): Decision;
}

export function createDraft(saga: Saga, context: SagaContext): Draft {
  const data: SagaData = structuredClone(saga.data);
  let state = saga.state;
  let deadline = saga.deadlineAt;
  let resends = saga.stepResends;
  let needsAttention = false;
  const messages: Outgoing[] = [];
  const timeline: TimelineEntry[] = [];
  let patch: OrderPatch = {};

  return {
    context,
    data,
    get state() {
      return state;
    },
    at: context.now.toISOString(),
    moveTo(next) {
      state = next;
    },
    startStep(ms = context.settings.stepTimeoutMs) {
      deadline = new Date(context.now.getTime() + ms);
      resends = 0;
    },
    resendStep() {
      deadline = new Date(context.now.getTime() + context.settings.stepTimeoutMs);
      resends += 1;
    },
    deadlineAt(at) {
      deadline = at;
    },
    send(message) {
      messages.push(message);
    },
    order(change) {
      patch = { ...patch, ...change };
    },
    step(step, outcome, detail = null) {
      timeline.push({ step, outcome, detail });
    },
    flagNeedsAttention(error) {
      data.stuckIn = state;
      data.lastError = error;
      state = 'needs_attention';
      deadline = null;
      needsAttention = true;
    },
    stepResends: () => resends,
    decision: () => ({
      outcome: 'applied',
      saga: { state, deadlineAt: deadline, stepResends: resends, data },
      messages,
      order: patch,
      timeline,
      needsAttention,
    }),
  };
}

export function ignored(reason: string): Decision {
  return { outcome: 'ignored', reason };
}

export type CompensationReason = CancellationReason;
