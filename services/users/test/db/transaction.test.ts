import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { scrubDatabaseError } from '../../src/db/transaction.js';

describe('scrubDatabaseError', () => {
  it('keeps the SQLSTATE and constraint, drops parameters and the failing row', () => {
    const hash = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$secret-hash-value';
    const driverError = Object.assign(new Error('new row violates check constraint'), {
      code: '23514',
      table: 'users',
      constraint: 'users_email_format_check',
      detail: `Failing row contains (id, bad-email, ${hash}, Ada).`,
    });
    const failure = new QueryFailedError('INSERT INTO users ...', ['bad-email', hash], driverError);

    const scrubbed = scrubDatabaseError(failure);
    const logged = JSON.stringify({
      ...scrubbed,
      message: scrubbed.message,
      cause: scrubbed.cause,
    });
    expect(logged).not.toContain('secret-hash-value');
    expect(logged).not.toContain('bad-email');
    expect(scrubbed.message).toContain('23514');
    expect(scrubbed.message).toContain('users_email_format_check');
    expect(scrubbed.status).toBe(500);
  });
});
