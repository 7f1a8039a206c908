import { randomInt as cryptoRandomInt } from 'node:crypto';
import type { AddressSnapshot } from '@shop/contracts';
import type { Static } from 'typebox';
import { trackingNumberFor, type CarrierCode, type RandomInt } from './tracking-numbers.js';

export interface LabelRequest {
  orderId: string;
  orderNumber: string;
  preferredCarrier?: CarrierCode;
  address: Static<typeof AddressSnapshot>;
  shippedAt: Date;
}

export interface Label {
  carrier: CarrierCode;
  trackingNumber: string;
  labelUrl: string;
  estimatedDelivery: Date | null;
}

/**
 * Buys a shipping label. A real carrier integration implements this with the order id as its
 * idempotency key; the sandbox below answers at once, in each carrier's real number format.
 */
export interface CarrierAdapter {
  createLabel(request: LabelRequest): Promise<Label>;
}

const CARRIERS: readonly CarrierCode[] = ['usps', 'fedex', 'ups'];

// Typical ground transit times, in days, for the estimate on the label.
const TRANSIT_DAYS: Record<CarrierCode, number> = { usps: 5, fedex: 3, ups: 4 };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The carrier a sandbox label goes with: the one asked for, else one picked from the order id,
 * so the same order always goes with the same carrier.
 */
export function chooseCarrier(orderId: string, preferred?: CarrierCode): CarrierCode {
  if (preferred) return preferred;
  const hex = orderId.replace(/-/g, '').slice(-8);
  return CARRIERS[Number.parseInt(hex, 16) % CARRIERS.length] ?? 'usps';
}

export function createSandboxCarrier(
  options: { randomInt?: RandomInt; labelBaseUrl?: string } = {},
): CarrierAdapter {
  const randomInt = options.randomInt ?? ((max: number) => cryptoRandomInt(max));
  const labelBaseUrl = options.labelBaseUrl ?? 'https://labels.sandbox.shop.test';
  return {
    createLabel(request) {
      const carrier = chooseCarrier(request.orderId, request.preferredCarrier);
      const trackingNumber = trackingNumberFor(carrier, randomInt);
      return Promise.resolve({
        carrier,
        trackingNumber,
        labelUrl: `${labelBaseUrl}/${carrier}/${trackingNumber}.pdf`,
        estimatedDelivery: new Date(request.shippedAt.getTime() + TRANSIT_DAYS[carrier] * DAY_MS),
      });
    },
  };
}
