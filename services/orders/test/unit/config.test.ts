import { ConfigError } from '@shop/service-kit';
import { describe, expect, it } from 'vitest';
import { parseOrdersConfig } from '../../src/config.js';

const base = { USERS_URL: 'http://127.0.0.1:3001', INVENTORY_URL: 'http://127.0.0.1:3003' };

describe('orders config', () => {
  it('accepts the defaults (hold well under the default TTL of 3600 s)', () => {
    const config = parseOrdersConfig(base);
    expect(config.PAYMENT_MAX_ATTEMPTS).toBe(4);
    expect(config.PAYMENT_RETRY_WINDOW_SECONDS).toBe(900);
    expect(config.SAGA_STEP_TIMEOUT_SECONDS).toBe(30);
    expect(config.TAX_RATES_BPS).toEqual({});
  });

  it('reads tax rates as JSON and refuses a bad one', () => {
    expect(parseOrdersConfig({ ...base, TAX_RATES_BPS: '{"NY":400}' }).TAX_RATES_BPS).toEqual({
      NY: 400,
    });
    expect(() => parseOrdersConfig({ ...base, TAX_RATES_BPS: '{"NY":4.5}' })).toThrow(ConfigError);
    expect(() => parseOrdersConfig({ ...base, TAX_RATES_BPS: 'nope' })).toThrow(/TAX_RATES_BPS/);
  });

  it('refuses a reservation TTL a live saga could outlast, in one line', () => {
    let error: unknown;
    try {
      parseOrdersConfig({ ...base, RESERVATION_TTL_SECONDS: '900' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('RESERVATION_TTL_SECONDS');
    expect((error as Error).message).not.toContain('\n');
    expect(() => parseOrdersConfig({ ...base, PAYMENT_RETRY_WINDOW_SECONDS: '4000' })).toThrow(
      /RESERVATION_TTL_SECONDS must exceed/,
    );
    expect(
      parseOrdersConfig({
        ...base,
        PAYMENT_RETRY_WINDOW_SECONDS: '4000',
        RESERVATION_TTL_SECONDS: '9000',
      }).RESERVATION_TTL_SECONDS,
    ).toBe(9000);
  });

  it('reads FULFILLMENT_HOLD_SECONDS (default 0) and counts the hold against the TTL', () => {
    expect(parseOrdersConfig(base).FULFILLMENT_HOLD_SECONDS).toBe(0);
    expect(
      parseOrdersConfig({ ...base, FULFILLMENT_HOLD_SECONDS: '30' }).FULFILLMENT_HOLD_SECONDS,
    ).toBe(30);
    expect(() => parseOrdersConfig({ ...base, FULFILLMENT_HOLD_SECONDS: '-1' })).toThrow(
      /FULFILLMENT_HOLD_SECONDS/,
    );
    // Defaults hold stock for well under an hour; an hour of fulfilment hold on top does not fit.
    expect(() => parseOrdersConfig({ ...base, FULFILLMENT_HOLD_SECONDS: '3600' })).toThrow(
      /RESERVATION_TTL_SECONDS must exceed/,
    );
    expect(
      parseOrdersConfig({
        ...base,
        FULFILLMENT_HOLD_SECONDS: '3600',
        RESERVATION_TTL_SECONDS: '9000',
      }).FULFILLMENT_HOLD_SECONDS,
    ).toBe(3600);
  });
});
