import { Column, Entity } from 'typeorm';
import { BaseRecord } from '@shop/service-kit';
import type { RefundStatus } from '../../domain/payment-status.js';

/**
 * A refund of a payment (full refunds only). At most one live (pending or succeeded) per
 * payment; refused ones stay beside the retry that follows them.
 */
@Entity({ name: 'refunds' })
export class Refund extends BaseRecord {
  /** The requester's idempotency key, and ours at the provider. */
  @Column({ name: 'refund_id', type: 'uuid' })
  refundId!: string;

  @Column({ name: 'payment_id', type: 'uuid' })
  paymentId!: string;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'amount', type: 'integer' })
  amount!: number;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  @Column({
    name: 'status',
    type: 'enum',
    enumName: 'refund_status',
    enum: ['pending', 'succeeded', 'failed'],
  })
  status!: RefundStatus;

  @Column({ name: 'reason', type: 'varchar', length: 100 })
  reason!: string;

  @Column({ name: 'requested_by', type: 'uuid', nullable: true })
  requestedBy!: string | null;

  @Column({ name: 'provider_refund_id', type: 'varchar', length: 100, nullable: true })
  providerRefundId!: string | null;

  @Column({ name: 'failure_reason', type: 'varchar', length: 100, nullable: true })
  failureReason!: string | null;
}
