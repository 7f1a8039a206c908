import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';
import {
  chargeHandler,
  orderCancelledHandler,
  refundHandler,
  type ProviderSource,
} from './handlers.js';

/** The stream of everything payments publishes (its events) and is asked (its commands). */
export const paymentsStreams: StreamSpec[] = [serviceStream('PAYMENTS')];

/** The durable consumers payments reads with, one per stream it listens to. */
export function paymentsConsumers(provider: ProviderSource): ConsumerDefinition[] {
  return [
    {
      stream: 'PAYMENTS',
      durable: 'payments-commands',
      filterSubject: 'payments.commands.>',
      handlers: [chargeHandler(provider), refundHandler(provider)],
      // Each handler may hold two connections (its inbox transaction and the attempt's own
      // commit) while it waits on the provider: stay well inside the pool of 10.
      concurrency: 4,
      // An unknown outcome is asked again on redelivery; give the provider time to come back.
      maxDeliver: 10,
    },
    {
      stream: 'ORDERS',
      durable: 'payments-orders',
      filterSubject: 'orders.events.>',
      handlers: [orderCancelledHandler],
    },
  ];
}
