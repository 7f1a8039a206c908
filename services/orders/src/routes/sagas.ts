import { encodeCursor, PAGE_LIMIT_DEFAULT } from '@shop/contracts';
import {
  ConflictError,
  NotFoundError,
  recordAudit,
  runWithContext,
  STAFF_ROLES,
  withTransaction,
  type HttpApp,
  type Logger,
} from '@shop/service-kit';
import Type from 'typebox';
import { createSagasRepository, listSagas } from '../db/repositories/sagas.js';
import type { SagaRuntime } from '../saga/runtime.js';
import { applySagaEvent } from '../saga/runtime.js';
import { sagaTrace } from '../saga/trace.js';
import type { SagaState } from '../domain/saga/types.js';
import type { DataSource } from 'typeorm';
import { cursorFrom, identityOf } from './access.js';
import { ListSagasQuery, OrderIdParams, problems, SagaPage, SagaSummarySchema } from './schemas.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** Staff's window on the sagas: find the stuck ones and set them going again. */
export function registerSagaRoutes(
  app: HttpApp,
  deps: { dataSource: DataSource; runtime: SagaRuntime; logger: Logger },
): void {
  const { dataSource, runtime } = deps;

  app.get(
    '/v1/orders/sagas',
    {
      config: { auth: { roles: STAFF_ROLES } },
      schema: {
        summary: 'Sagas by state, newest first (e.g. ?state=needs_attention)',
        querystring: ListSagasQuery,
        response: { 200: SagaPage, ...problems(400, 401, 403) },
      },
    },
    async (request) => {
      const { limit = PAGE_LIMIT_DEFAULT, cursor, state } = request.query;
      const after = cursorFrom(cursor);
      const rows = await listSagas(dataSource.manager, {
        ...(state ? { state: state as SagaState } : {}),
        ...(after ? { after } : {}),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((row) => ({
          orderId: row.order_id,
          orderNumber: row.order_number,
          state: row.state,
          stuckIn: row.data.stuckIn,
          paymentAttempts: row.payment_attempts,
          stepResends: row.step_resends,
          nextDeadlineAt: iso(row.next_deadline_at),
          lastError: row.last_error,
          createdAt: row.created_at.toISOString(),
          updatedAt: row.updated_at.toISOString(),
        })),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ createdAt: last.cursor_at, id: last.order_id })
            : null,
      };
    },
  );

  app.post(
    '/v1/orders/:id/saga/retry',
    {
      config: { auth: { roles: STAFF_ROLES } },
      schema: {
        summary: 'Retry a saga in needs_attention from the step it stopped in',
        params: OrderIdParams,
        response: {
          202: Type.Object({ orderId: SagaSummarySchema.properties.orderId, state: Type.String() }),
          ...problems(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const identity = identityOf(request);
      const orderId = request.params.id;
      const state = await withTransaction(dataSource, async (manager) => {
        const saga = await createSagasRepository(manager).load(orderId);
        if (!saga) throw new NotFoundError('Order not found.');
        if (saga.state !== 'needs_attention') {
          throw new ConflictError(
            'invalid_state_transition',
            `The saga is ${saga.state}, not needs_attention.`,
          );
        }
        // Under the order's trace, this request as the cause (see order-actions.ts act).
        return runWithContext(sagaTrace(saga), async () => {
          const decision = await applySagaEvent(
            manager,
            orderId,
            { type: 'retry_requested' },
            runtime,
            deps.logger,
            { actorId: identity.userId },
          );
          if (decision.outcome === 'ignored') {
            throw new ConflictError('invalid_state_transition', decision.reason);
          }
          await recordAudit(manager, {
            entityType: 'order',
            entityId: orderId,
            action: 'update',
            userId: identity.userId,
            before: { saga: saga.state },
            after: { saga: decision.saga.state },
          });
          return decision.saga.state;
        });
      });
      return reply.code(202).send({ orderId, state });
    },
  );
}
