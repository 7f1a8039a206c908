import Type, { type Static } from 'typebox';
import { DEFAULT_ACCESS_TOKEN_TTL_SECONDS, Port, ServiceEnvironment } from '@shop/service-kit';

/** The users service's environment, checked at start: a bad value stops it with one clear line. */
export const UsersConfig = Type.Object({
  ...ServiceEnvironment,
  USERS_PORT: Port(3001),
  /** Lifetime of an access token; API clients log in again when it runs out. */
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 86_400,
    default: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  }),
  /**
   * The first admin, created at start when both are set and no admin exists yet. Never
   * hard-coded: without them the shop simply has no admin until an operator sets them.
   */
  BOOTSTRAP_ADMIN_EMAIL: Type.Optional(
    Type.String({ format: 'email', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 254 }),
  ),
  BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
});
export type UsersConfig = Static<typeof UsersConfig>;
