import { createHash } from 'node:crypto';

/**
 * The refund id (and so the provider's idempotency key) of a refund payments makes on its own,
 * of a charge the order no longer wants. It is made inside the transaction that records the
 * charge, with the provider called before the commit: if that transaction rolls back after the
 * provider refunded, the next try must ask under the same key, or the provider would see a
 * second refund. So the id is derived, not random: from the attempt and from how many of its
 * refunds the provider already refused (a refused key is never asked again: Stripe replays the
 * refusal). A UUID (RFC 9562 version 8, name-based), as refund ids are, and never the attempt
 * id itself, which is the charge's key.
 */
export function ownRefundId(attemptId: string, refusedBefore: number): string {
  const bytes = createHash('sha256')
    .update(`payments:own-refund:${attemptId}:${refusedBefore}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
