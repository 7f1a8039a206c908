import { NotFoundError, type HttpApp } from '@shop/service-kit';
import { createInternalLookups } from '../db/repositories/internal-lookups.js';
import type { UsersRouteDeps } from './context.js';
import {
  InternalAddress,
  InternalAddressParams,
  InternalPaymentMethod,
  InternalPaymentMethodParams,
  problems,
} from './schemas.js';

/**
 * For other services only (the service credential): orders asks whether an address or a card
 * belongs to a customer when its read model misses. Unknown, removed, someone else's, or owned
 * by a deleted account all answer the same 404.
 */
export function registerInternalRoutes(app: HttpApp, { dataSource }: UsersRouteDeps): void {
  app.get(
    '/internal/v1/users/:userId/addresses/:addressId',
    {
      config: { auth: 'internal' },
      schema: {
        summary: 'An active address of an active user, as a snapshot',
        params: InternalAddressParams,
        response: { 200: InternalAddress, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { userId, addressId } = request.params;
      const address = await createInternalLookups(dataSource.manager).address(userId, addressId);
      if (!address) throw new NotFoundError('No such address for this user.');
      return address;
    },
  );

  app.get(
    '/internal/v1/users/:userId/payment-methods/:paymentMethodId',
    {
      config: { auth: 'internal' },
      schema: {
        summary: 'An active payment method of an active user, with the provider’s token',
        params: InternalPaymentMethodParams,
        response: { 200: InternalPaymentMethod, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const { userId, paymentMethodId } = request.params;
      const method = await createInternalLookups(dataSource.manager).paymentMethod(
        userId,
        paymentMethodId,
      );
      if (!method) throw new NotFoundError('No such payment method for this user.');
      return method;
    },
  );
}
