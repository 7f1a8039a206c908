import Type from 'typebox';
import { BadRequestError, type HttpApp } from '@shop/service-kit';
import { createPaymentMethodsRepository } from '../db/repositories/payment-methods.js';
import { findCardNumbers, isCardExpired } from '../domain/card.js';
import { paymentMethodView } from '../domain/views.js';
import { addPaymentMethod, removePaymentMethod } from '../application/payment-methods.js';
import { getActiveUser } from '../application/users.js';
import { actorOf, callerOf, type UsersRouteDeps } from './context.js';
import { IdParams, PaymentMethodBody, PaymentMethodView, NoContent, problems } from './schemas.js';
import { inTransaction } from '../db/transaction.js';

export function registerPaymentMethodRoutes(
  app: HttpApp,
  { dataSource, now }: UsersRouteDeps,
): void {
  app.post(
    '/v1/users/me/payment-methods',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Save a card the provider tokenized',
        description:
          'Send the provider’s token, never a card number: a value that looks like one is 400 (`card_number_refused`), as is an expired card (`card_expired`). A token already saved is 409 `payment_method_exists`.',
        body: PaymentMethodBody,
        response: { 201: PaymentMethodView, ...problems(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { userId } = callerOf(request);
      const body = request.body;
      const cardNumbers = findCardNumbers(body);
      if (cardNumbers.length > 0)
        throw new BadRequestError(
          'Card numbers are never accepted; send the payment provider’s token instead.',
          cardNumbers.map((path) => ({
            path: `/body${path}`,
            message: 'looks like a card number',
          })),
          'card_number_refused',
        );
      if (isCardExpired(body, now()))
        throw new BadRequestError(
          'The card has expired.',
          [{ path: '/body/expYear', message: 'the card expired before the current month' }],
          'card_expired',
        );
      const method = await inTransaction(dataSource, (manager) =>
        addPaymentMethod(
          manager,
          {
            userId,
            providerPaymentMethodId: body.providerPaymentMethodId,
            cardBrand: body.cardBrand,
            cardLast4: body.cardLast4,
            expMonth: body.expMonth,
            expYear: body.expYear,
            isDefault: body.isDefault ?? false,
          },
          actorOf(request),
        ),
      );
      return reply.code(201).send(paymentMethodView(method));
    },
  );

  app.get(
    '/v1/users/me/payment-methods',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'The caller’s saved cards, newest first',
        response: {
          200: Type.Object({ items: Type.Array(PaymentMethodView) }),
          ...problems(401),
        },
      },
    },
    async (request) => {
      const { userId } = callerOf(request);
      await getActiveUser(dataSource.manager, userId);
      const methods = await createPaymentMethodsRepository(dataSource.manager).listActive(userId);
      return { items: methods.map(paymentMethodView) };
    },
  );

  app.delete(
    '/v1/users/me/payment-methods/:id',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Remove one of the caller’s saved cards (soft delete)',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { userId } = callerOf(request);
      await inTransaction(dataSource, (manager) =>
        removePaymentMethod(manager, userId, request.params.id, actorOf(request)),
      );
      return reply.code(204).send(null);
    },
  );
}
