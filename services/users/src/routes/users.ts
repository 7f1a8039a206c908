import { PAGE_LIMIT_DEFAULT, decodeCursor, encodeCursor } from '@shop/contracts';
import { BadRequestError, type HttpApp } from '@shop/service-kit';
import { createUsersRepository } from '../db/repositories/users.js';
import { userView } from '../domain/views.js';
import { changeRole, deleteAccount, getActiveUser, updateProfile } from '../application/users.js';
import { actorOf, callerOf, type UsersRouteDeps } from './context.js';
import {
  IdParams,
  ListUsersQuery,
  RoleBody,
  UpdateMeBody,
  UserPage,
  UserView,
  NoContent,
  problems,
} from './schemas.js';
import { inTransaction } from '../db/transaction.js';

export function registerUserRoutes(app: HttpApp, { dataSource, revoker }: UsersRouteDeps): void {
  app.get(
    '/v1/users/me',
    {
      config: { auth: 'authenticated' },
      schema: { summary: 'The caller’s account', response: { 200: UserView, ...problems(401) } },
    },
    async (request) => userView(await getActiveUser(dataSource.manager, callerOf(request).userId)),
  );

  app.patch(
    '/v1/users/me',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Change the caller’s name or phone',
        body: UpdateMeBody,
        response: { 200: UserView, ...problems(400, 401, 413, 415) },
      },
    },
    async (request) => {
      const { userId } = callerOf(request);
      const user = await inTransaction(dataSource, (manager) =>
        updateProfile(manager, userId, request.body, actorOf(request)),
      );
      return userView(user);
    },
  );

  app.delete(
    '/v1/users/me',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Delete the caller’s account (soft delete)',
        description:
          'The last admin cannot delete their account (409 last_admin). Every access token of the account is refused from then on, by every service (401 unauthorized).',
        response: { 204: NoContent, ...problems(401, 409) },
      },
    },
    async (request, reply) => {
      const { userId } = callerOf(request);
      const revocation = await inTransaction(dataSource, (manager) =>
        deleteAccount(manager, userId, actorOf(request)),
      );
      // After the commit, before the answer: once it is 204, the tokens are refused everywhere.
      await revoker.publish(revocation);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/users',
    {
      config: { auth: { roles: ['admin'] } },
      schema: {
        summary: 'List accounts, newest first (admin)',
        querystring: ListUsersQuery,
        response: { 200: UserPage, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { role, email, cursor } = request.query;
      const limit = request.query.limit ?? PAGE_LIMIT_DEFAULT;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (after === null)
        throw new BadRequestError('The cursor is invalid.', [
          { path: '/query/cursor', message: 'is not a cursor this API issued' },
        ]);
      const rows = await createUsersRepository(dataSource.manager).page({
        role,
        email,
        after,
        limit,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => userView(row.user)),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ createdAt: last.cursorCreatedAt, id: last.user.id })
            : null,
      };
    },
  );

  app.patch(
    '/v1/users/:id/role',
    {
      config: { auth: { roles: ['admin'] } },
      schema: {
        summary: 'Change an account’s role (admin)',
        description:
          'The last admin cannot be demoted (409 last_admin). Tokens issued before the change are refused from then on, by every service (401 unauthorized): the user logs in again to get one with the new role.',
        params: IdParams,
        body: RoleBody,
        response: { 200: UserView, ...problems(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (request) => {
      const { user, revocation } = await inTransaction(dataSource, (manager) =>
        changeRole(manager, request.params.id, request.body.role, actorOf(request)),
      );
      // After the commit, before the answer: once it is 200, the old tokens are refused everywhere.
      if (revocation) await revoker.publish(revocation);
      return userView(user);
    },
  );
}
