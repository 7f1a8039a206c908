import type { MigrationInterface, QueryRunner } from 'typeorm';

// Why: the users service rewrites recent revocations to Redis when Redis comes back
// (`tokens_revoked_at` within a token's lifetime). Partial, so only accounts ever revoked are in
// it. CONCURRENTLY on an existing table, hence outside a transaction and alone in its migration.
export class TokensRevokedAtIndex1795633200001 implements MigrationInterface {
  name = 'TokensRevokedAtIndex1795633200001';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    // A failed earlier attempt leaves an INVALID index behind that IF NOT EXISTS would keep.
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS users_tokens_revoked_at_idx');
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY users_tokens_revoked_at_idx ON users (tokens_revoked_at) WHERE tokens_revoked_at IS NOT NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS users_tokens_revoked_at_idx');
  }
}
