import { streamSubjects } from '@shop/contracts';
import type { ConsumerDefinition, StreamSpec } from '@shop/service-kit';

/** The stream of everything orders publishes (its events) and is asked (its commands). */
export const ordersStreams: StreamSpec[] = [
  { name: 'ORDERS', subjects: [...streamSubjects.orders] },
];

/** The durable consumers orders reads with, one per stream it listens to. */
export const ordersConsumers: ConsumerDefinition[] = [];
