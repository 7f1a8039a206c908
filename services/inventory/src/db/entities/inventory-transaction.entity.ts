import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { LedgerType } from '../../domain/adjustments.js';

/** One line of the stock ledger: on-hand is always the sum of these. Append-only. */
@Entity({ name: 'inventory_transactions' })
export class InventoryTransaction {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id!: string;

  @Column({ name: 'product_id', type: 'uuid' })
  productId!: string;

  @Column({ name: 'order_id', type: 'uuid', nullable: true })
  orderId!: string | null;

  @Column({ name: 'type', type: 'text' })
  type!: LedgerType;

  @Column({ name: 'quantity_change', type: 'integer' })
  quantityChange!: number;

  @Column({ name: 'notes', type: 'text', nullable: true })
  notes!: string | null;

  /** The staff member who made it; null for the saga's sales. */
  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
