import {
  createAccessTokenSigner,
  type HttpApp,
  type ServiceInfrastructure,
} from '@shop/service-kit';
import { createPasswordHasher } from './auth/passwords.js';
import { createTokenRevoker } from './auth/revocations.js';
import { ensureBootstrapAdmin } from './bootstrap-admin.js';
import type { UsersConfig } from './config.js';
import { registerAddressRoutes } from './routes/addresses.js';
import { registerAuthRoutes } from './routes/auth.js';
import type { UsersRouteDeps } from './routes/context.js';
import { registerInternalRoutes } from './routes/internal.js';
import { registerPaymentMethodRoutes } from './routes/payment-methods.js';
import { registerUserRoutes } from './routes/users.js';

/**
 * The users service's routes and background work, registered on a server that already has
 * health, metrics, docs, auth and problem+json handling. The bootstrap admin is ensured before
 * the server listens, so the first request can already log in as it.
 */
export async function registerUsersApp(
  app: HttpApp,
  infrastructure: ServiceInfrastructure,
  config: UsersConfig,
): Promise<void> {
  const { dataSource, secrets, logger, redis } = infrastructure;
  if (!secrets.privateKey)
    throw new Error('The users service signs access tokens: set JWT_PRIVATE_KEY');

  const passwords = await createPasswordHasher();
  const revoker = createTokenRevoker({
    dataSource,
    redis,
    logger,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  });
  revoker.start();
  infrastructure.onStop(() => revoker.stop());
  const deps: UsersRouteDeps = {
    dataSource,
    passwords,
    signer: createAccessTokenSigner({
      privateKey: secrets.privateKey,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    }),
    revoker,
    now: () => new Date(),
  };

  await ensureBootstrapAdmin(
    dataSource,
    passwords,
    { email: config.BOOTSTRAP_ADMIN_EMAIL, password: config.BOOTSTRAP_ADMIN_PASSWORD },
    logger,
  );

  registerAuthRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerAddressRoutes(app, deps);
  registerPaymentMethodRoutes(app, deps);
  registerInternalRoutes(app, deps);
}
