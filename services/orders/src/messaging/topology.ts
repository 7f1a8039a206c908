import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';

/** The stream of everything orders publishes (its events) and is asked (its commands). */
export const ordersStreams: StreamSpec[] = [serviceStream('ORDERS')];

/** The durable consumers orders reads with, one per stream it listens to. */
export const ordersConsumers: ConsumerDefinition[] = [];
