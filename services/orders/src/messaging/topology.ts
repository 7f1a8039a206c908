import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';
import type { SagaRuntime } from '../saga/runtime.js';
import { productHandlers, userHandlers } from './read-model-handlers.js';
import { inventoryReplyHandlers, paymentReplyHandlers } from './saga-handlers.js';

/** The stream of everything orders publishes (its events) and is asked (its commands). */
export const ordersStreams: StreamSpec[] = [serviceStream('ORDERS')];

/**
 * The durable consumers orders reads with, one per stream it listens to (NATS 2.9: one filter
 * subject each). Types on a filter that orders has no handler for are acked and skipped.
 */
export function ordersConsumers(runtime: SagaRuntime): ConsumerDefinition[] {
  return [
    {
      stream: 'INVENTORY',
      durable: 'orders-inventory-events',
      filterSubject: 'inventory.events.>',
      handlers: [...inventoryReplyHandlers(runtime), ...productHandlers],
    },
    {
      stream: 'PAYMENTS',
      durable: 'orders-payments-events',
      filterSubject: 'payments.events.>',
      handlers: paymentReplyHandlers(runtime),
    },
    {
      stream: 'USERS',
      durable: 'orders-users-events',
      filterSubject: 'users.events.>',
      handlers: userHandlers,
    },
  ];
}
