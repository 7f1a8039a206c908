import { UnauthorizedError, type HttpApp } from '@shop/service-kit';
import { createUsersRepository } from '../db/repositories/users.js';
import { userView } from '../domain/views.js';
import { registerUser } from '../application/users.js';
import { actorOf, type UsersRouteDeps } from './context.js';
import { LoginBody, RegisterBody, TokenResponse, UserView, problems } from './schemas.js';
import { inTransaction } from '../db/transaction.js';

export function registerAuthRoutes(app: HttpApp, deps: UsersRouteDeps): void {
  const { dataSource, passwords, signer } = deps;

  app.post(
    '/v1/auth/register',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Create a customer account',
        body: RegisterBody,
        response: { 201: UserView, ...problems(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { email, password, firstName, lastName, phone } = request.body;
      // Hashed before the transaction opens, so no connection waits on the slow part.
      const passwordHash = await passwords.hash(password);
      const user = await inTransaction(dataSource, (manager) =>
        registerUser(
          manager,
          {
            email,
            passwordHash,
            firstName,
            lastName,
            phone: phone ?? null,
            role: 'customer',
            emailVerified: false,
          },
          actorOf(request),
          { selfService: true },
        ),
      );
      return reply.code(201).send(userView(user));
    },
  );

  app.post(
    '/v1/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Exchange email and password for an access token',
        description:
          'Unknown email, wrong password and deleted account all answer the same 401, after the same work.',
        body: LoginBody,
        response: { 200: TokenResponse, ...problems(400, 401, 413, 415) },
      },
    },
    async (request) => {
      const { email, password } = request.body;
      const credentials = await createUsersRepository(dataSource.manager).findCredentials(email);
      const matches = await passwords.verify(credentials?.passwordHash ?? null, password);
      if (!credentials || !matches)
        throw new UnauthorizedError('The email or password is incorrect.');
      const accessToken = await signer.sign({
        userId: credentials.id,
        role: credentials.role,
        tokenVersion: credentials.tokenVersion,
      });
      return { accessToken, tokenType: 'Bearer' as const, expiresIn: signer.ttlSeconds };
    },
  );
}
