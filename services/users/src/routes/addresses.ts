import Type from 'typebox';
import type { HttpApp } from '@shop/service-kit';
import { createAddressesRepository } from '../db/repositories/addresses.js';
import { addressView } from '../domain/views.js';
import { addAddress, removeAddress } from '../application/addresses.js';
import { getActiveUser } from '../application/users.js';
import { actorOf, callerOf, type UsersRouteDeps } from './context.js';
import { AddressBody, AddressView, IdParams, NoContent, problems } from './schemas.js';
import { inTransaction } from '../db/transaction.js';

export function registerAddressRoutes(app: HttpApp, { dataSource }: UsersRouteDeps): void {
  app.post(
    '/v1/users/me/addresses',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Add an address; a new default replaces the previous default of its type',
        body: AddressBody,
        response: { 201: AddressView, ...problems(400, 401, 413, 415) },
      },
    },
    async (request, reply) => {
      const { userId } = callerOf(request);
      const { line2, isDefault, ...fields } = request.body;
      const address = await inTransaction(dataSource, (manager) =>
        addAddress(
          manager,
          { ...fields, userId, line2: line2 ? line2 : null, isDefault: isDefault ?? false },
          actorOf(request),
        ),
      );
      return reply.code(201).send(addressView(address));
    },
  );

  app.get(
    '/v1/users/me/addresses',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'The caller’s addresses, newest first',
        response: { 200: Type.Object({ items: Type.Array(AddressView) }), ...problems(401) },
      },
    },
    async (request) => {
      const { userId } = callerOf(request);
      await getActiveUser(dataSource.manager, userId);
      const addresses = await createAddressesRepository(dataSource.manager).listActive(userId);
      return { items: addresses.map(addressView) };
    },
  );

  app.delete(
    '/v1/users/me/addresses/:id',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Remove one of the caller’s addresses (soft delete)',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { userId } = callerOf(request);
      await inTransaction(dataSource, (manager) =>
        removeAddress(manager, userId, request.params.id, actorOf(request)),
      );
      return reply.code(204).send(null);
    },
  );
}
