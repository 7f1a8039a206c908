import { TimestampedRecord } from '@shop/service-kit';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AddressSnapshot } from '../../domain/saga/types.js';

// Copies of other services' data that orders decides with, fed by their events. A removal is
// kept as a tombstone so an event arriving late cannot bring a removed row back.

@Entity({ name: 'product_prices' })
export class ProductPrice extends TimestampedRecord {
  @PrimaryColumn({ name: 'product_id', type: 'uuid' })
  productId!: string;

  @Column({ name: 'sku', type: 'text' })
  sku!: string;

  @Column({ name: 'price', type: 'integer' })
  price!: number;

  @Column({ name: 'is_active', type: 'boolean' })
  isActive!: boolean;

  /** The product's own `updatedAt`: an older event never overwrites a newer one. */
  @Column({ name: 'source_updated_at', type: 'timestamptz' })
  sourceUpdatedAt!: Date;
}

@Entity({ name: 'customer_addresses' })
export class CustomerAddress extends TimestampedRecord {
  @PrimaryColumn({ name: 'address_id', type: 'uuid' })
  addressId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'snapshot', type: 'jsonb', nullable: true })
  snapshot!: AddressSnapshot | null;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;
}

@Entity({ name: 'customer_payment_methods' })
export class CustomerPaymentMethod extends TimestampedRecord {
  @PrimaryColumn({ name: 'payment_method_id', type: 'uuid' })
  paymentMethodId!: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'provider_payment_method_id', type: 'text', nullable: true })
  providerPaymentMethodId!: string | null;

  @Column({ name: 'removed_at', type: 'timestamptz', nullable: true })
  removedAt!: Date | null;
}
