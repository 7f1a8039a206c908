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
 * Buys a shipping label. It is called outside any transaction, before the shipment is recorded,
 * so the same order may be asked for again: after a redelivery, a retry whose transaction
 * failed, or a duplicate ship command racing the first. An adapter must therefore be
 * idempotent by order id (the carrier's idempotency key): asked again for an order, it answers
 * the label it already sold, never a second one. It should stop waiting when `signal` aborts
 * (the caller's timeout). The sandbox below answers at once, in each carrier's real number
 * format.
 */
export interface CarrierAdapter {
  createLabel(request: LabelRequest, signal?: AbortSignal): Promise<Label>;
}

const CARRIERS: readonly CarrierCode[] = ['usps', 'fedex', 'ups'];

// Typical ground transit times, in days, for the estimate on the label.
const TRANSIT_DAYS: Record<CarrierCode, number> = { usps: 5, fedex: 3, ups: 4 };

const DAY_MS = 24 * 60 * 60 * 1000;

// How many recent labels the sandbox remembers to answer a repeated request with (a real
// carrier remembers them all); enough for any retry, small enough to never matter in memory.
const REMEMBERED_LABELS = 10_000;

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
  const sold = new Map<string, Label>();
  return {
    createLabel(request) {
      const known = sold.get(request.orderId);
      if (known) return Promise.resolve(known);
      const carrier = chooseCarrier(request.orderId, request.preferredCarrier);
      const trackingNumber = trackingNumberFor(carrier, randomInt);
      const label: Label = {
        carrier,
        trackingNumber,
        labelUrl: `${labelBaseUrl}/${carrier}/${trackingNumber}.pdf`,
        estimatedDelivery: new Date(request.shippedAt.getTime() + TRANSIT_DAYS[carrier] * DAY_MS),
      };
      sold.set(request.orderId, label);
      // A Map iterates in insertion order: the first key is the oldest label.
      if (sold.size > REMEMBERED_LABELS) sold.delete(sold.keys().next().value!);
      return Promise.resolve(label);
    },
  };
}
