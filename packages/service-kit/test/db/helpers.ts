import { Column, Entity, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createLogger } from '../../src/logger.js';
import { baseColumnsSql, softDeleteColumnSql, SoftDeletableRecord } from '../../src/db/index.js';

/** Quiet unless a test run asks for output (DB_TEST_LOG=debug). */
export const logger = createLogger({
  service: 'db-test',
  level: process.env.DB_TEST_LOG ?? 'silent',
});

/** The shape a service entity takes: explicit column types and snake_case names. */
@Entity({ name: 'accounts' })
export class Account extends SoftDeletableRecord {
  @Column({ name: 'email', type: 'text' })
  email!: string;

  @Column({ name: 'balance_cents', type: 'integer', default: 0 })
  balanceCents!: number;
}

/** Reviewed SQL, unqualified: search_path puts the table in the service's schema. */
export class CreateAccounts1760000000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE accounts (
      ${baseColumnsSql},
      email text NOT NULL,
      balance_cents integer NOT NULL DEFAULT 0 CHECK (balance_cents >= 0),
      ${softDeleteColumnSql}
    )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE accounts');
  }
}

export class CreateItems1760000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE items (${baseColumnsSql}, sku text NOT NULL UNIQUE)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE items');
  }
}
