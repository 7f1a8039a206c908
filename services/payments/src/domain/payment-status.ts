/**
 * A payment attempt's life (database-design 3.1.5): pending → succeeded | failed, and
 * succeeded → refunded. One more edge, pending → refunded, exists for the reconciler only: a
 * charge found at the provider long after its attempt was given up on is refunded at once, and
 * recorded as charged-and-refunded in one step (a second succeeded row for the order would
 * break the one-success-per-order index). The migration's trigger enforces the same table.
 */
export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ['succeeded', 'failed', 'refunded'],
  succeeded: ['refunded'],
  failed: [],
  refunded: [],
};

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Thrown by code that tried an illegal move: a bug, never a client's mistake. */
export class IllegalTransitionError extends Error {
  constructor(from: PaymentStatus, to: PaymentStatus) {
    super(`payment status cannot go from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function assertTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export function isFinal(status: PaymentStatus): boolean {
  return status !== 'pending';
}

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];
