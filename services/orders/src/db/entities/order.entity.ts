import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord } from '@shop/service-kit';
import type { CancellationReason } from '@shop/contracts';
import type {
  AddressSnapshot,
  Carrier,
  OrderStatus,
  PaymentStatus,
} from '../../domain/saga/types.js';

/**
 * An accepted order. Amounts are frozen at acceptance; status, the payment and shipment
 * summaries and the timeline columns change only with the saga, in its transaction.
 * `deletedAt` (SoftDeletableRecord) is set only by an operator's erasure of a cancelled or
 * delivered order; TypeORM's finds and query builders then leave the row out on their own.
 */
@Entity({ name: 'orders' })
export class Order extends SoftDeletableRecord {
  @Column({ name: 'order_number', type: 'varchar', length: 50 })
  orderNumber!: string;

  @Column({ name: 'customer_id', type: 'uuid' })
  customerId!: string;

  @Column({
    name: 'status',
    type: 'enum',
    enumName: 'order_status',
    enum: ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'],
  })
  status!: OrderStatus;

  @Column({
    name: 'cancellation_reason',
    type: 'enum',
    enumName: 'cancellation_reason',
    enum: [
      'insufficient_stock',
      'product_unavailable',
      'payment_declined',
      'payment_failed',
      'customer_request',
      'reservation_expired',
    ],
    nullable: true,
  })
  cancellationReason!: CancellationReason | null;

  @Column({ name: 'subtotal', type: 'integer' })
  subtotal!: number;

  @Column({ name: 'shipping_cost', type: 'integer' })
  shippingCost!: number;

  @Column({ name: 'tax', type: 'integer' })
  tax!: number;

  @Column({ name: 'total', type: 'integer' })
  total!: number;

  @Column({ name: 'currency', type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'shipping_address_id', type: 'uuid' })
  shippingAddressId!: string;

  @Column({ name: 'shipping_address', type: 'jsonb' })
  shippingAddress!: AddressSnapshot;

  @Column({ name: 'billing_address_id', type: 'uuid', nullable: true })
  billingAddressId!: string | null;

  @Column({ name: 'payment_method_id', type: 'uuid' })
  paymentMethodId!: string;

  @Column({
    name: 'payment_status',
    type: 'enum',
    enumName: 'payment_summary_status',
    enum: ['pending', 'succeeded', 'failed', 'refunded'],
    nullable: true,
  })
  paymentStatus!: PaymentStatus | null;

  @Column({ name: 'payment_attempts', type: 'integer' })
  paymentAttempts!: number;

  @Column({ name: 'payment_id', type: 'uuid', nullable: true })
  paymentId!: string | null;

  @Column({ name: 'shipment_id', type: 'uuid', nullable: true })
  shipmentId!: string | null;

  @Column({ name: 'shipment_carrier', type: 'text', nullable: true })
  shipmentCarrier!: Carrier | null;

  @Column({ name: 'shipment_tracking_number', type: 'text', nullable: true })
  shipmentTrackingNumber!: string | null;

  @Column({ name: 'shipment_estimated_delivery', type: 'timestamptz', nullable: true })
  shipmentEstimatedDelivery!: Date | null;

  @Column({ name: 'shipped_at', type: 'timestamptz', nullable: true })
  shippedAt!: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true })
  cancelledAt!: Date | null;
}
