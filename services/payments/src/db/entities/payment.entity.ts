import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord } from '@shop/service-kit';
import type { PaymentStatus } from '../../domain/payment-status.js';

/**
 * One charge attempt (the migration holds its rules). `deletedAt` (SoftDeletableRecord) is set
 * only by an operator's erasure of a settled order's payments.
 */
@Entity({ name: 'payments' })
export class Payment extends SoftDeletableRecord {
  /** Minted by orders; the provider idempotency key. */
  @Column({ name: 'attempt_id', type: 'uuid' })
  attemptId!: string;

  @Column({ name: 'attempt', type: 'integer' })
  attempt!: number;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'order_number', type: 'varchar', length: 50 })
  orderNumber!: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId!: string;

  @Column({ name: 'payment_method_id', type: 'uuid' })
  paymentMethodId!: string;

  @Column({ name: 'provider_payment_method_id', type: 'varchar', length: 255 })
  providerPaymentMethodId!: string;

  @Column({ name: 'amount', type: 'integer' })
  amount!: number;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  @Column({
    name: 'status',
    type: 'enum',
    enumName: 'payment_status',
    enum: ['pending', 'succeeded', 'failed', 'refunded'],
  })
  status!: PaymentStatus;

  @Column({ name: 'failure_reason', type: 'varchar', length: 100, nullable: true })
  failureReason!: string | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failureMessage!: string | null;

  @Column({ name: 'provider', type: 'varchar', length: 20 })
  provider!: string;

  @Column({ name: 'provider_charge_id', type: 'varchar', length: 100, nullable: true })
  providerChargeId!: string | null;

  @Column({ name: 'attempted_at', type: 'timestamptz' })
  attemptedAt!: Date;

  @Column({ name: 'settled_at', type: 'timestamptz', nullable: true })
  settledAt!: Date | null;
}
