/**
 * Which answer a saga command gets, from what inventory already answered for the order. Pure:
 * the handlers load the stored outcomes and act on the decision. Each command is idempotent per
 * (order, step), and commands may arrive repeated, late or out of order:
 *
 * - a command already answered gets the same answer again and changes nothing, except that
 *   a reserve repeated after the release (or expiry) is answered with that, since the stock it
 *   held is no longer held;
 * - once an order's stock was released (by the saga or by expiry) nothing is reserved or shipped
 *   for it any more: a late reserve or ship is answered with that release;
 * - a ship for an order whose reservation was rejected is answered with the rejection;
 * - a ship before its reserve has been handled cannot be served yet: it is retried later.
 */

export type CommandStep = 'reserve' | 'release' | 'ship';
export type OutcomeStep = CommandStep | 'expire';

/** The stored answers of one order: step → type of the reply message sent. */
export type StoredOutcomes = ReadonlyMap<OutcomeStep, string>;

export type CommandDecision =
  { kind: 'act' } | { kind: 'replay'; step: OutcomeStep } | { kind: 'retry_later'; reason: string };

export const RESERVATION_REJECTED_TYPE = 'inventory.events.reservation.rejected';

export function decideCommand(command: CommandStep, stored: StoredOutcomes): CommandDecision {
  switch (command) {
    case 'release':
      return stored.has('release') ? { kind: 'replay', step: 'release' } : { kind: 'act' };
    case 'reserve':
      // The release (or expiry) is checked before the stored reservation: a reserve repeated
      // after it must not tell the saga that stock is held when it no longer is.
      if (stored.has('release')) return { kind: 'replay', step: 'release' };
      if (stored.has('expire')) return { kind: 'replay', step: 'expire' };
      return stored.has('reserve') ? { kind: 'replay', step: 'reserve' } : { kind: 'act' };
    case 'ship': {
      if (stored.has('ship')) return { kind: 'replay', step: 'ship' };
      if (stored.has('release')) return { kind: 'replay', step: 'release' };
      if (stored.has('expire')) return { kind: 'replay', step: 'expire' };
      const reserved = stored.get('reserve');
      if (reserved === undefined) {
        return { kind: 'retry_later', reason: 'ship arrived before the reservation was handled' };
      }
      if (reserved === RESERVATION_REJECTED_TYPE) return { kind: 'replay', step: 'reserve' };
      return { kind: 'act' };
    }
  }
}
