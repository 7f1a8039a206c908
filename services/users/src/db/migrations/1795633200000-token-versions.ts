import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: revocation of access tokens (a role change or a deleted account ends the tokens issued
// before it; packages/service-kit/src/auth/revocation.ts). `token_version` is the generation
// signed into each token, raised by every revocation; `tokens_revoked_at` says when the last
// one happened, so the revocations still within a token's lifetime can be written to Redis
// again after it lost them. Additive: a column with a constant DEFAULT and a nullable column,
// which PostgreSQL 11+ adds without rewriting or scanning the table (hence no CHECK here: it
// would scan it under the exclusive lock; only `token_version + 1` ever writes the column).
export class TokenVersions1795633200000 implements MigrationInterface {
  name = 'TokenVersions1795633200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(`
      ALTER TABLE users
        ADD COLUMN token_version integer NOT NULL DEFAULT 0,
        ADD COLUMN tokens_revoked_at timestamptz NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE users DROP COLUMN tokens_revoked_at, DROP COLUMN token_version',
    );
  }
}
