import { serviceStream, type ConsumerDefinition, type StreamSpec } from '@shop/service-kit';

/** The stream of everything users publishes (its events) and is asked (its commands). */
export const usersStreams: StreamSpec[] = [serviceStream('USERS')];

/** The durable consumers users reads with, one per stream it listens to. */
export const usersConsumers: ConsumerDefinition[] = [];
