import type { CancellationReason, MessageContract, MessageData } from '@shop/contracts';

/**
 * Where one order's saga stands. `shipped`, `delivered` and `cancelled` are where it rests;
 * `needs_attention` waits for a person (`POST /v1/orders/:id/saga/retry`).
 */
export const SAGA_STATES = [
  'reserving',
  'charging',
  'payment_backoff',
  'awaiting_payment_method',
  'fulfillment_hold',
  'shipping',
  'shipped',
  'delivered',
  'compensating',
  'cancelled',
  'needs_attention',
] as const;
export type SagaState = (typeof SAGA_STATES)[number];

export type OrderStatus = 'pending' | 'confirmed' | 'shipped' | 'delivered' | 'cancelled';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';
export type Carrier = 'usps' | 'fedex' | 'ups';

export interface AddressSnapshot {
  addressId: string;
  line1: string;
  line2?: string;
  city: string;
  state: string;
  country: string;
  postalCode: string;
}

export interface ShipmentSummary {
  id: string;
  carrier: Carrier;
  trackingNumber: string;
  estimatedDelivery: string | null;
  shippedAt: string;
  deliveredAt: string | null;
}

/** A refund the saga asked for and is waiting on. */
export interface PendingRefund {
  refundId: string;
  paymentId: string;
  amount: number;
  failures: number;
}

/** What the saga knows, kept in `order_sagas.data`; everything a command needs is here. */
export interface SagaData {
  orderId: string;
  orderNumber: string;
  customerId: string;
  items: { productId: string; quantity: number }[];
  total: number;
  currency: string;
  shippingAddress: AddressSnapshot;
  paymentMethodId: string;
  providerPaymentMethodId: string;
  /** Charge attempts over the order's life (the order's `payment.attempts`). */
  paymentAttempts: number;
  /** Attempts with the current payment method; PAYMENT_MAX_ATTEMPTS bounds it. */
  roundAttempts: number;
  /**
   * The order's latest attempt, kept after it is answered or timed out: the only one whose
   * success pays for the order (or, once cancelling, is refunded by the saga). Answers naming an
   * earlier attempt are stale; payments refunds an earlier attempt's charge itself.
   */
  attemptId: string | null;
  /** The succeeded payment, once there is one. */
  paymentId: string | null;
  /** Set at the first decline; later declines wait for the same end, so the hold is bounded. */
  paymentWindowEndsAt: string | null;
  paymentFailure: 'payment_declined' | 'payment_failed' | null;
  /** The warehouse confirmed a reservation that has not been released, expired or shipped. */
  holdsStock: boolean;
  compensation: {
    reason: CancellationReason;
    releasePending: boolean;
    refund: PendingRefund | null;
    refunded: boolean;
  } | null;
  /** Set once the order is cancelled; a late charge after that is refunded without a new event. */
  cancelledAt: string | null;
  /** The state a saga in needs_attention stopped in, to resume from on retry. */
  stuckIn: SagaState | null;
  lastError: string | null;
}

/** What an order brings to its saga; the rest of SagaData is the saga's own bookkeeping. */
export type SagaOrder = Pick<
  SagaData,
  | 'orderId'
  | 'orderNumber'
  | 'customerId'
  | 'items'
  | 'total'
  | 'currency'
  | 'shippingAddress'
  | 'paymentMethodId'
  | 'providerPaymentMethodId'
>;

/** The data of a saga that has not started: no attempt, no payment, nothing held. */
export function newSagaData(order: SagaOrder): SagaData {
  return {
    ...order,
    paymentAttempts: 0,
    roundAttempts: 0,
    attemptId: null,
    paymentId: null,
    paymentWindowEndsAt: null,
    paymentFailure: null,
    holdsStock: false,
    compensation: null,
    cancelledAt: null,
    stuckIn: null,
    lastError: null,
  };
}

export interface Saga {
  state: SagaState;
  /** When the timer feeds `deadline_reached`; null when nothing is awaited on a clock. */
  deadlineAt: Date | null;
  /** Resends of the current step's command after its deadline passed. */
  stepResends: number;
  data: SagaData;
}

/** Everything that can happen to a saga: replies, customer and staff actions, the clock. */
export type SagaEvent =
  | { type: 'stock_reserved'; expiresAt: string }
  | {
      type: 'stock_rejected';
      reason: 'insufficient_stock' | 'product_unavailable';
      detail: string;
    }
  | { type: 'stock_released' }
  | { type: 'reservation_expired' }
  | { type: 'charge_succeeded'; attemptId: string; paymentId: string; amount: number }
  | { type: 'charge_declined'; attemptId: string; code: string }
  | { type: 'charge_failed'; attemptId: string; code: string }
  | { type: 'refund_succeeded'; refundId: string; paymentId: string }
  | {
      type: 'refund_failed';
      refundId: string;
      paymentId: string;
      code: string;
      retryable: boolean;
    }
  | { type: 'shipment_created'; shipment: ShipmentSummary }
  | { type: 'shipment_delivered'; shipmentId: string; deliveredAt: string }
  | { type: 'payment_method_replaced'; paymentMethodId: string; providerPaymentMethodId: string }
  | { type: 'cancel_requested' }
  | { type: 'retry_requested' }
  | { type: 'deadline_reached' };

export type SagaEventType = SagaEvent['type'];

export interface SagaSettings {
  stepTimeoutMs: number;
  maxStepResends: number;
  paymentMaxAttempts: number;
  paymentBackoffInitialMs: number;
  paymentBackoffMaxMs: number;
  paymentWindowMs: number;
  refundMaxAttempts: number;
  /** How long a confirmed order waits, still cancellable, before ShipOrder goes out; 0 = at once. */
  fulfillmentHoldMs: number;
}

/** What the machine may not produce itself: the time and fresh ids. */
export interface SagaContext {
  now: Date;
  newId(): string;
  settings: SagaSettings;
}

/** A message to put in the outbox, typed against its contract when built. */
export interface Outgoing {
  contract: MessageContract;
  data: unknown;
}

export function outgoing<Contract extends MessageContract>(
  contract: Contract,
  data: MessageData<Contract>,
): Outgoing {
  return { contract, data };
}

/** Columns of the order the event changes, written in the same transaction as the saga. */
export interface OrderPatch {
  status?: OrderStatus;
  cancellationReason?: CancellationReason;
  cancelledAt?: string;
  paymentStatus?: PaymentStatus;
  paymentAttempts?: number;
  paymentId?: string;
  paymentMethodId?: string;
  shipment?: ShipmentSummary;
  shippedAt?: string;
  deliveredAt?: string;
}

export interface TimelineEntry {
  step: string;
  outcome: string;
  detail: string | null;
}

export type Decision =
  | { outcome: 'ignored'; reason: string }
  | {
      outcome: 'applied';
      saga: Saga;
      messages: Outgoing[];
      order: OrderPatch;
      timeline: TimelineEntry[];
      /** The saga just entered needs_attention: count it. */
      needsAttention: boolean;
    };
