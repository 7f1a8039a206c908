import { Column, Entity } from 'typeorm';
import { SoftDeletableRecord, type Role } from '@shop/service-kit';

/** An account. `passwordHash` never leaves the service: views are built field by field. */
@Entity({ name: 'users' })
export class User extends SoftDeletableRecord {
  /** As typed at registration; compared case-insensitively (unique on lower(email)). */
  @Column({ name: 'email', type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash!: string;

  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;

  @Column({ name: 'last_name', type: 'varchar', length: 100 })
  lastName!: string;

  @Column({ name: 'phone', type: 'varchar', length: 20, nullable: true })
  phone!: string | null;

  @Column({ name: 'role', type: 'text' })
  role!: Role;

  @Column({ name: 'email_verified', type: 'boolean' })
  emailVerified!: boolean;

  /**
   * The generation of access tokens the account may use, signed into each token. Raised, never
   * lowered, by each revocation (role change, deletion): older tokens are refused from then on.
   */
  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion!: number;

  /** When the last revocation happened; null if none ever did. */
  @Column({ name: 'tokens_revoked_at', type: 'timestamptz', nullable: true })
  tokensRevokedAt!: Date | null;
}
