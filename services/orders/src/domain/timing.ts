import { paymentBackoffMs } from './saga/machine.js';
import type { SagaSettings } from './saga/types.js';

/**
 * The longest a live saga can hold reserved stock before the ship command settles it, in ms.
 * The inventory sweeper releases a reservation after RESERVATION_TTL_SECONDS; if that could
 * happen to a saga still working normally, orders would be confirmed for stock it no longer
 * holds. Worst case, from the reservation on:
 *
 *   one payment round  (every attempt waits its deadline through every resend, plus the
 *                       backoffs between attempts)
 * + the payment window (a decline at the end of the round opens it)
 * + a second round     (a new method given at the last moment of the window)
 * + the fulfilment hold (FULFILLMENT_HOLD_SECONDS: paid, waiting before the ship command)
 * + the ship step      (its deadline through every resend)
 * + one timer tick per deadline in the chain, as slack.
 */
export function longestStockHoldMs(settings: SagaSettings, timerIntervalMs: number): number {
  const step = settings.stepTimeoutMs * (settings.maxStepResends + 1);
  let backoffs = 0;
  for (let failed = 1; failed < settings.paymentMaxAttempts; failed += 1) {
    backoffs += paymentBackoffMs(failed, settings);
  }
  const round = settings.paymentMaxAttempts * step + backoffs;
  const deadlines = 2 * settings.paymentMaxAttempts * (settings.maxStepResends + 2) + 3;
  return (
    2 * round +
    settings.paymentWindowMs +
    settings.fulfillmentHoldMs +
    step +
    deadlines * timerIntervalMs
  );
}
