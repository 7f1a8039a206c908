/**
 * What the sandbox answers for each test payment method (API.md's table, after Stripe's test
 * mode). Pure, so the table is tested on its own. An unknown method is declined like a card the
 * issuer does not recognise, never charged.
 */
export type CardBehaviour =
  { result: 'succeeded' } | { result: 'failed'; code: string; message: string };

const SUCCEEDS = new Set(['pm_card_visa', 'pm_card_mastercard', 'pm_card_amex']);

const FAILURES: Record<string, { code: string; message: string }> = {
  pm_card_chargeDeclined: { code: 'card_declined', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: {
    code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_processingError: {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again.',
  },
};

export function behaviourOf(paymentMethod: string): CardBehaviour {
  if (SUCCEEDS.has(paymentMethod)) return { result: 'succeeded' };
  const failure = FAILURES[paymentMethod];
  if (failure) return { result: 'failed', ...failure };
  return {
    result: 'failed',
    code: 'card_declined',
    message: `No such test payment method: ${paymentMethod}.`,
  };
}
