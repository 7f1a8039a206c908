import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';

/** The stream of everything payments publishes (its events) and is asked (its commands). */
export const paymentsStreams: StreamSpec[] = [serviceStream('PAYMENTS')];

/** The durable consumers payments reads with, one per stream it listens to. */
export const paymentsConsumers: ConsumerDefinition[] = [];
