import { streamSubjects } from '@shop/contracts';
import type { ConsumerDefinition, StreamSpec } from '@shop/service-kit';

/** The stream of everything users publishes (its events) and is asked (its commands). */
export const usersStreams: StreamSpec[] = [{ name: 'USERS', subjects: [...streamSubjects.users] }];

/** The durable consumers users reads with, one per stream it listens to. */
export const usersConsumers: ConsumerDefinition[] = [];
