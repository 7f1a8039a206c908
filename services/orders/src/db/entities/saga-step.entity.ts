import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One line of an order's timeline (`GET /v1/orders/:id/timeline`), append-only. */
@Entity({ name: 'saga_steps' })
export class SagaStep {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id!: string;

  /** Insertion order (GENERATED ALWAYS AS IDENTITY): several steps of one transaction share `at`. */
  @Column({ name: 'seq', type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'at', type: 'timestamptz' })
  at!: Date;

  @Column({ name: 'step', type: 'text' })
  step!: string;

  @Column({ name: 'outcome', type: 'text' })
  outcome!: string;

  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
}
