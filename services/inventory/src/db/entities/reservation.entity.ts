import { BaseRecord } from '@shop/service-kit';
import { Column, Entity } from 'typeorm';

export type ReservationStatus = 'reserved' | 'released' | 'committed';

/** Stock held for one line of an order until it ships, is released, or expires. */
@Entity({ name: 'reservations' })
export class Reservation extends BaseRecord {
  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'product_id', type: 'uuid' })
  productId!: string;

  @Column({ name: 'quantity', type: 'integer' })
  quantity!: number;

  @Column({ name: 'status', type: 'text' })
  status!: ReservationStatus;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt!: Date | null;

  @Column({ name: 'release_reason', type: 'text', nullable: true })
  releaseReason!: string | null;

  @Column({ name: 'committed_at', type: 'timestamptz', nullable: true })
  committedAt!: Date | null;

  /** Correlation id of the reserve command that took the stock (null on rows older than it). */
  @Column({ name: 'correlation_id', type: 'varchar', length: 200, nullable: true })
  correlationId!: string | null;

  /** Message id of that reserve command: what the sweeper's messages say caused them. */
  @Column({ name: 'causation_id', type: 'varchar', length: 200, nullable: true })
  causationId!: string | null;
}
