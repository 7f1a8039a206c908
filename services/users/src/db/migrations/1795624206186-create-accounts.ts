import type { MigrationInterface, QueryRunner } from 'typeorm';
import { baseColumnsSql, softDeleteColumnSql } from '@shop/service-kit';

// Why: accounts, their addresses and their payment-method tokens (issue 3). Additive: new tables
// only. Every rule the API promises is also a constraint here, so a bug in the code cannot store
// what the API would refuse.
export class CreateAccounts1795624206186 implements MigrationInterface {
  name = 'CreateAccounts1795624206186';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Email keeps the case the user typed; uniqueness and look-ups go through lower(email).
    // password_hash: argon2id's encoded form is ~97 characters, bcrypt's 60; anything shorter
    // is not a hash (a plaintext password must never fit).
    await queryRunner.query(`
      CREATE TABLE users (
        ${baseColumnsSql},
        email varchar(254) NOT NULL
          CONSTRAINT users_email_format_check CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$'),
        password_hash varchar(255) NOT NULL
          CONSTRAINT users_password_hash_check CHECK (char_length(password_hash) >= 60),
        first_name varchar(100) NOT NULL
          CONSTRAINT users_first_name_check CHECK (char_length(first_name) BETWEEN 1 AND 100),
        last_name varchar(100) NOT NULL
          CONSTRAINT users_last_name_check CHECK (char_length(last_name) BETWEEN 1 AND 100),
        phone varchar(20) NULL,
        role text NOT NULL DEFAULT 'customer'
          CONSTRAINT users_role_check CHECK (role IN ('admin', 'manager', 'employee', 'customer')),
        email_verified boolean NOT NULL DEFAULT false,
        ${softDeleteColumnSql}
      )`);
    // A deleted account frees its email for a new registration; its row stays for history.
    await queryRunner.query(
      'CREATE UNIQUE INDEX users_email_active_key ON users (lower(email)) WHERE deleted_at IS NULL',
    );
    // The admin list pages newest first, optionally by role (keyset on created_at, id).
    await queryRunner.query(
      'CREATE INDEX users_created_at_idx ON users (created_at DESC, id DESC) WHERE deleted_at IS NULL',
    );
    await queryRunner.query(
      'CREATE INDEX users_role_created_at_idx ON users (role, created_at DESC, id DESC) WHERE deleted_at IS NULL',
    );

    await queryRunner.query(`
      CREATE TABLE user_addresses (
        ${baseColumnsSql},
        user_id uuid NOT NULL REFERENCES users (id),
        type text NOT NULL
          CONSTRAINT user_addresses_type_check CHECK (type IN ('shipping', 'billing', 'return')),
        line1 varchar(255) NOT NULL CONSTRAINT user_addresses_line1_check CHECK (char_length(line1) >= 1),
        line2 varchar(255) NULL,
        city varchar(100) NOT NULL CONSTRAINT user_addresses_city_check CHECK (char_length(city) >= 1),
        state varchar(50) NOT NULL CONSTRAINT user_addresses_state_check CHECK (char_length(state) >= 1),
        country varchar(100) NOT NULL CONSTRAINT user_addresses_country_check CHECK (char_length(country) >= 1),
        postal_code varchar(20) NOT NULL
          CONSTRAINT user_addresses_postal_code_check CHECK (char_length(postal_code) >= 1),
        is_default boolean NOT NULL DEFAULT false,
        ${softDeleteColumnSql}
      )`);
    await queryRunner.query(
      'CREATE INDEX user_addresses_user_id_created_at_idx ON user_addresses (user_id, created_at DESC) WHERE deleted_at IS NULL',
    );
    // At most one default address of each type per user.
    await queryRunner.query(
      'CREATE UNIQUE INDEX user_addresses_one_default_key ON user_addresses (user_id, type) WHERE is_default AND deleted_at IS NULL',
    );

    // Only the provider's token and display fields: never a card number (design 1.1).
    // The token is unique per user, not globally: sandbox customers all hold pm_card_visa.
    await queryRunner.query(`
      CREATE TABLE user_payment_methods (
        ${baseColumnsSql},
        user_id uuid NOT NULL REFERENCES users (id),
        provider_payment_method_id varchar(255) NOT NULL
          CONSTRAINT user_payment_methods_provider_id_check CHECK (char_length(provider_payment_method_id) >= 1),
        card_brand varchar(50) NOT NULL
          CONSTRAINT user_payment_methods_card_brand_check CHECK (char_length(card_brand) >= 1),
        card_last4 char(4) NOT NULL
          CONSTRAINT user_payment_methods_card_last4_check CHECK (card_last4 ~ '^[0-9]{4}$'),
        exp_month smallint NOT NULL
          CONSTRAINT user_payment_methods_exp_month_check CHECK (exp_month BETWEEN 1 AND 12),
        exp_year smallint NOT NULL
          CONSTRAINT user_payment_methods_exp_year_check CHECK (exp_year BETWEEN 2000 AND 9999),
        is_default boolean NOT NULL DEFAULT false,
        ${softDeleteColumnSql}
      )`);
    await queryRunner.query(
      'CREATE INDEX user_payment_methods_user_id_created_at_idx ON user_payment_methods (user_id, created_at DESC) WHERE deleted_at IS NULL',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX user_payment_methods_provider_id_key ON user_payment_methods (user_id, provider_payment_method_id) WHERE deleted_at IS NULL',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX user_payment_methods_one_default_key ON user_payment_methods (user_id) WHERE is_default AND deleted_at IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE user_payment_methods');
    await queryRunner.query('DROP TABLE user_addresses');
    await queryRunner.query('DROP TABLE users');
  }
}
