import Type, { type Static } from 'typebox';
import { Port, ServiceEnvironment } from '@shop/service-kit';

/** The users service's environment, checked at start: a bad value stops it with one clear line. */
export const UsersConfig = Type.Object({
  ...ServiceEnvironment,
  USERS_PORT: Port(3001),
});
export type UsersConfig = Static<typeof UsersConfig>;
