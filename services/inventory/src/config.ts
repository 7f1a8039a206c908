import Type, { type Static } from 'typebox';
import { Port, PositiveInteger, ServiceEnvironment } from '@shop/service-kit';

/** The inventory service's environment, checked at start: a bad value stops it with one clear line. */
export const InventoryConfig = Type.Object({
  ...ServiceEnvironment,
  // 0 asks the OS for a free port (tests).
  INVENTORY_PORT: Port(3003),
  /**
   * How long a reservation holds stock before the sweeper gives it back. Must exceed the longest
   * a live saga holds stock before shipping (orders checks that against its own settings).
   */
  RESERVATION_TTL_SECONDS: PositiveInteger(3600),
  /** How often the sweeper looks for expired reservations. */
  RESERVATION_SWEEP_INTERVAL_MS: PositiveInteger(30_000),
  /** Prefix of every Redis key, so several systems (tests) can share one Redis. */
  REDIS_KEY_PREFIX: Type.String({ default: '', maxLength: 100 }),
  /** Upper bound on how stale a cached availability can be if an update was lost. */
  AVAILABILITY_CACHE_TTL_SECONDS: PositiveInteger(300),
  /**
   * The longest a ship command waits for the carrier's label. The call happens outside any
   * transaction; past this the command is retried later with backoff.
   */
  CARRIER_TIMEOUT_MS: PositiveInteger(10_000),
  /** How long the carrier's breaker stays open before one trial call. */
  CARRIER_BREAKER_RESET_MS: PositiveInteger(10_000),
});
export type InventoryConfig = Static<typeof InventoryConfig>;
