import { BaseRecord } from '@shop/service-kit';
import type { AddressSnapshot, Carrier } from '@shop/contracts';
import type { Static } from 'typebox';
import { Column, Entity } from 'typeorm';

/** The parcel of one order (one per order), with its carrier's tracking number. */
@Entity({ name: 'shipments' })
export class Shipment extends BaseRecord {
  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'order_number', type: 'varchar', length: 50 })
  orderNumber!: string;

  /** Whose parcel it is: a customer may read only their own. */
  @Column({ name: 'customer_id', type: 'uuid' })
  customerId!: string;

  @Column({ name: 'carrier', type: 'text' })
  carrier!: Static<typeof Carrier>;

  @Column({ name: 'tracking_number', type: 'varchar', length: 100 })
  trackingNumber!: string;

  @Column({ name: 'label_url', type: 'text' })
  labelUrl!: string;

  @Column({ name: 'estimated_delivery', type: 'timestamptz', nullable: true })
  estimatedDelivery!: Date | null;

  @Column({ name: 'shipping_address', type: 'jsonb' })
  shippingAddress!: Static<typeof AddressSnapshot>;

  @Column({ name: 'shipped_at', type: 'timestamptz' })
  shippedAt!: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;
}
