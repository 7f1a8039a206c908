import {
  ConflictError,
  recordAudit,
  runWithContext,
  UnprocessableError,
  withTransaction,
  type HttpApp,
} from '@shop/service-kit';
import { createOrdersRepository } from '../db/repositories/orders.js';
import { createSagasRepository, type StoredSaga } from '../db/repositories/sagas.js';
import { canCancel, canPay } from '../domain/saga/machine.js';
import type { SagaEvent } from '../domain/saga/types.js';
import type { PlaceOrderDeps } from '../application/place-order.js';
import { loadOrderView } from '../application/view.js';
import { applySagaEvent } from '../saga/runtime.js';
import { sagaTrace } from '../saga/trace.js';
import { identityOf, ownOrder, ownOrderBeforeValidation, visibleOrder } from './access.js';
import { OrderIdParams, OrderSchema, PayBody, problems, TimelineSchema } from './schemas.js';

const ONLY_THE_OWNER_PAYS = 'Only the customer who placed the order can pay for it.';

function invalidTransition(detail: string): ConflictError {
  return new ConflictError('invalid_state_transition', detail);
}

/** Customer actions on an order, and its timeline. */
export function registerOrderActionRoutes(app: HttpApp, deps: PlaceOrderDeps): void {
  const { dataSource, runtime } = deps;

  /**
   * Applies a customer's event; the machine's refusal (a race with a reply) becomes a 409. It
   * runs under the order's trace: what it sends and its audit rows carry the order's
   * correlation id, with this request as their cause (and its id as the audit's request id).
   */
  async function act(saga: StoredSaga, event: SagaEvent, actorId: string, refusal: string) {
    const { orderId } = saga;
    await runWithContext(sagaTrace(saga), () =>
      withTransaction(dataSource, async (manager) => {
        const decision = await applySagaEvent(manager, orderId, event, runtime, deps.logger, {
          actorId,
        });
        if (decision.outcome === 'ignored') throw invalidTransition(refusal);
        await recordAudit(manager, {
          entityType: 'order',
          entityId: orderId,
          action: 'update',
          userId: actorId,
          before: { saga: 'requested' },
          after: { saga: event.type },
        });
      }),
    );
  }

  app.post(
    '/v1/orders/:id/cancel',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary:
          'Cancel before the warehouse is asked to ship: stock released, any charge refunded',
        params: OrderIdParams,
        response: { 202: OrderSchema, ...problems(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const identity = identityOf(request);
      const manager = dataSource.manager;
      const order = await visibleOrder(manager, identity, (orders) =>
        orders.findById(request.params.id),
      );
      const saga = await createSagasRepository(manager).load(order.id);
      const refusal = 'The order can no longer be cancelled.';
      if (!saga || order.status === 'cancelled') throw invalidTransition(refusal);
      // A cancellation already under way (ours or the saga's) is accepted again, not refused.
      if (saga.state !== 'compensating') {
        if (!canCancel(saga.state)) throw invalidTransition(refusal);
        await act(saga, { type: 'cancel_requested' }, identity.userId, refusal);
      }
      const current = await createOrdersRepository(manager).findById(order.id);
      return reply.code(202).send(await loadOrderView(manager, current!));
    },
  );

  app.post(
    '/v1/orders/:id/pay',
    {
      config: { auth: 'authenticated' },
      // Paying is the customer's act, even though staff see the order: checked before the
      // body, so staff get 403 whatever they send.
      preValidation: (request) =>
        ownOrderBeforeValidation(dataSource.manager, request, ONLY_THE_OWNER_PAYS),
      schema: {
        summary: 'Pay with another method while the order awaits one after a decline',
        params: OrderIdParams,
        body: PayBody,
        response: { 202: OrderSchema, ...problems(400, 401, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const identity = identityOf(request);
      const manager = dataSource.manager;
      const order = await ownOrder(manager, identity, request.params.id, ONLY_THE_OWNER_PAYS);
      const refusal = 'The order is not waiting for a payment method.';
      const saga = await createSagasRepository(manager).load(order.id);
      if (!saga || !canPay(saga.state)) throw invalidTransition(refusal);
      const { paymentMethodId } = request.body;
      const providerPaymentMethodId = await deps.references.paymentMethod(
        manager,
        order.customerId,
        paymentMethodId,
      );
      if (!providerPaymentMethodId) {
        throw new UnprocessableError('That payment method is not yours.', 'unprocessable', [
          { path: '/body/paymentMethodId', message: 'not a payment method of this customer' },
        ]);
      }
      await act(
        saga,
        { type: 'payment_method_replaced', paymentMethodId, providerPaymentMethodId },
        identity.userId,
        refusal,
      );
      const current = await createOrdersRepository(manager).findById(order.id);
      return reply.code(202).send(await loadOrderView(manager, current!));
    },
  );

  app.get(
    '/v1/orders/:id/timeline',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Every saga step of the order, in order',
        params: OrderIdParams,
        response: { 200: TimelineSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const manager = dataSource.manager;
      const order = await visibleOrder(manager, identityOf(request), (orders) =>
        orders.findById(request.params.id),
      );
      const rows = await createOrdersRepository(manager).timeline(order.id);
      return {
        items: rows.map((row) => ({
          at: row.at.toISOString(),
          step: row.step,
          outcome: row.outcome,
          detail: row.detail,
        })),
      };
    },
  );
}
