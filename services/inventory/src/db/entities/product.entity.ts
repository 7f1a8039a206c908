import { BaseRecord } from '@shop/service-kit';
import { Column, Entity } from 'typeorm';
import { bigintAsNumber } from './columns.js';

/** A catalog entry. Never deleted: deactivating (`is_active = false`) takes it off sale. */
@Entity({ name: 'products' })
export class Product extends BaseRecord {
  @Column({ name: 'sku', type: 'varchar', length: 64 })
  sku!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'description', type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'category', type: 'varchar', length: 100 })
  category!: string;

  /** Integer cents. */
  @Column({ name: 'price', type: 'bigint', transformer: bigintAsNumber })
  price!: number;

  @Column({ name: 'cost', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  cost!: number | null;

  @Column({ name: 'image_url', type: 'text', nullable: true })
  imageUrl!: string | null;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive!: boolean;
}
