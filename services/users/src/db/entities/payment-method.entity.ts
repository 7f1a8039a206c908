import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord } from '@shop/service-kit';

/** A card as the provider tokenized it: its token and display fields, never its number. */
@Entity({ name: 'user_payment_methods' })
export class UserPaymentMethod extends SoftDeletableRecord {
  @Column({ name: 'user_id', type: 'uuid' })
  userId!: string;

  /** The provider's token (`pm_...`); only orders and payments ever see it. */
  @Column({ name: 'provider_payment_method_id', type: 'varchar', length: 255 })
  providerPaymentMethodId!: string;

  @Column({ name: 'card_brand', type: 'varchar', length: 50 })
  cardBrand!: string;

  @Column({ name: 'card_last4', type: 'char', length: 4 })
  cardLast4!: string;

  @Column({ name: 'exp_month', type: 'smallint' })
  expMonth!: number;

  @Column({ name: 'exp_year', type: 'smallint' })
  expYear!: number;

  @Column({ name: 'is_default', type: 'boolean' })
  isDefault!: boolean;
}
