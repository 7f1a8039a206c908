import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord } from '@shop/service-kit';

export type AddressType = 'shipping' | 'billing' | 'return';

@Entity({ name: 'user_addresses' })
export class UserAddress extends SoftDeletableRecord {
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  @Column({ name: 'type', type: 'text' })
  type!: AddressType;

  @Column({ name: 'line1', type: 'varchar', length: 255 })
  line1!: string;

  @Column({ name: 'line2', type: 'varchar', length: 255, nullable: true })
  line2!: string | null;

  @Column({ name: 'city', type: 'varchar', length: 100 })
  city!: string;

  @Column({ name: 'state', type: 'varchar', length: 50 })
  state!: string;

  @Column({ name: 'country', type: 'varchar', length: 100 })
  country!: string;

  @Column({ name: 'postal_code', type: 'varchar', length: 20 })
  postalCode!: string;

  @Column({ name: 'is_default', type: 'boolean' })
  isDefault!: boolean;
}
