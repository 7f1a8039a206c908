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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
