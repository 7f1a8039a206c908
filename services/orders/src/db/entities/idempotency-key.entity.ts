import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** `Idempotency-Key` of an accepted order: the same key and body find the same order again. */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  @PrimaryColumn({ name: 'customer_id', type: 'uuid' })
  customerId!: string;

  @PrimaryColumn({ name: 'key', type: 'varchar', length: 255 })
  key!: string;

  /** sha256 of the canonical request, to tell a replay from a reuse with another body. */
  @Column({ name: 'fingerprint', type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
