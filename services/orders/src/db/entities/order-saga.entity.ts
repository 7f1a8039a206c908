import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { SAGA_STATES, type SagaData, type SagaState } from '../../domain/saga/types.js';

/**
 * One order's saga: its state machine position, a version for optimistic locking (every write
 * is `UPDATE ... WHERE version = $read`), and the next deadline the timer serves.
 */
@Entity({ name: 'order_sagas' })
export class OrderSaga {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'state', type: 'enum', enumName: 'saga_state', enum: SAGA_STATES })
  state!: SagaState;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'payment_attempts', type: 'integer' })
  paymentAttempts!: number;

  @Column({ name: 'step_resends', type: 'integer' })
  stepResends!: number;

  @Column({ name: 'next_deadline_at', type: 'timestamptz', nullable: true })
  nextDeadlineAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'data', type: 'jsonb' })
  data!: SagaData;

  /** The placing request's id, carried by every message of the order; null on older sagas. */
  @Column({ name: 'correlation_id', type: 'varchar', length: 200, nullable: true })
  correlationId!: string | null;

  /** Deadline handlings that threw in a row; the timer postpones the saga further each time. */
  @Column({ name: 'deadline_failures', type: 'integer', default: 0 })
  deadlineFailures!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
