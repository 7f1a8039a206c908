import Type, { type Static } from 'typebox';
import {
  ConfigError,
  parseConfig,
  Port,
  PositiveInteger,
  ServiceEnvironment,
  Url,
} from '@shop/service-kit';
import { longestStockHoldMs } from './domain/timing.js';
import type { SagaSettings } from './domain/saga/types.js';

/** The orders service's environment, checked at start: a bad value stops it with one clear line. */
export const OrdersConfig = Type.Object({
  ...ServiceEnvironment,
  /** 0 asks the OS for a free port (tests run many copies side by side). */
  ORDERS_PORT: Port(3002),
  /** Owners of the data orders keeps read models of, asked when a read model misses. */
  USERS_URL: Url(),
  INVENTORY_URL: Url(),
  /** Basis points by shipping state, e.g. {"NY":400,"CA":725}; a state not listed is untaxed. */
  TAX_RATES_BPS: Type.Record(Type.String(), Type.Integer({ minimum: 0, maximum: 10_000 }), {
    default: {},
  }),
  /** Attempts per payment method when the provider fails transiently. */
  PAYMENT_MAX_ATTEMPTS: PositiveInteger(4),
  /** Delay before the first payment retry; it doubles per retry up to the maximum. */
  PAYMENT_RETRY_BACKOFF_MS: PositiveInteger(2000),
  PAYMENT_RETRY_BACKOFF_MAX_MS: PositiveInteger(60_000),
  /** How long a declined order waits for POST /pay with another method. */
  PAYMENT_RETRY_WINDOW_SECONDS: PositiveInteger(900),
  /** A step without a reply by then has its command resent, SAGA_STEP_MAX_RESENDS times at most. */
  SAGA_STEP_TIMEOUT_SECONDS: PositiveInteger(30),
  SAGA_STEP_MAX_RESENDS: Type.Integer({ minimum: 0, maximum: 20, default: 3 }),
  /** Refunds tried before a saga goes to needs_attention. */
  REFUND_MAX_ATTEMPTS: PositiveInteger(3),
  /**
   * How long a confirmed (paid) order waits before the warehouse is asked to ship; during the
   * hold the customer may still cancel, with a refund. 0 ships at once.
   */
  FULFILLMENT_HOLD_SECONDS: Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600, default: 0 }),
  /** How often the deadline timer looks for due sagas. */
  SAGA_TIMER_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
  /** The inventory's reservation TTL (same variable): must outlast any live saga's hold. */
  RESERVATION_TTL_SECONDS: PositiveInteger(3600),
});
export type OrdersConfig = Static<typeof OrdersConfig>;

export function sagaSettings(config: OrdersConfig): SagaSettings {
  return {
    stepTimeoutMs: config.SAGA_STEP_TIMEOUT_SECONDS * 1000,
    maxStepResends: config.SAGA_STEP_MAX_RESENDS,
    paymentMaxAttempts: config.PAYMENT_MAX_ATTEMPTS,
    paymentBackoffInitialMs: config.PAYMENT_RETRY_BACKOFF_MS,
    paymentBackoffMaxMs: config.PAYMENT_RETRY_BACKOFF_MAX_MS,
    paymentWindowMs: config.PAYMENT_RETRY_WINDOW_SECONDS * 1000,
    refundMaxAttempts: config.REFUND_MAX_ATTEMPTS,
    fulfillmentHoldMs: config.FULFILLMENT_HOLD_SECONDS * 1000,
  };
}

/**
 * parseConfig plus the rule no single variable can express: the reservation TTL must be longer
 * than the longest a saga can hold stock, or the sweeper would release stock under a saga that
 * is still working. Throws ConfigError (one line) otherwise.
 */
export function parseOrdersConfig(env: Record<string, string | undefined>): OrdersConfig {
  const config = parseConfig(OrdersConfig, env);
  // parseConfig converts values toward their types, so 4.5 would quietly become a whole rate;
  // rates are money rules, so anything but whole basis points is refused as written.
  const rates = env.TAX_RATES_BPS ? (JSON.parse(env.TAX_RATES_BPS) as Record<string, unknown>) : {};
  if (Object.values(rates).some((rate) => !Number.isInteger(rate))) {
    throw new ConfigError([
      { variable: 'TAX_RATES_BPS', reason: 'must map states to whole basis points (0..10000)' },
    ]);
  }
  const holdSeconds = Math.ceil(
    longestStockHoldMs(sagaSettings(config), config.SAGA_TIMER_INTERVAL_MS) / 1000,
  );
  if (config.RESERVATION_TTL_SECONDS <= holdSeconds) {
    throw new ConfigError([
      {
        variable: 'RESERVATION_TTL_SECONDS',
        reason:
          `must exceed ${holdSeconds} s, the longest a saga can hold stock with these settings ` +
          '(payment window + two payment rounds with backoff + fulfilment hold + step deadlines x resends); ' +
          'raise it or shorten PAYMENT_RETRY_WINDOW_SECONDS / SAGA_STEP_TIMEOUT_SECONDS',
      },
    ]);
  }
  return config;
}
