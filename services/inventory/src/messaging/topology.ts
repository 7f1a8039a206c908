import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';

/** The stream of everything inventory publishes (its events) and is asked (its commands). */
export const inventoryStreams: StreamSpec[] = [serviceStream('INVENTORY')];

/** The durable consumers inventory reads with, one per stream it listens to. */
export const inventoryConsumers: ConsumerDefinition[] = [];
