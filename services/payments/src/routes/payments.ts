import {
  decodeCursor,
  encodeCursor,
  Page,
  PageQueryProperties,
  PAGE_LIMIT_DEFAULT,
  ProblemDetails,
  StrictObject,
  Timestamp,
  Uuid,
} from '@shop/contracts';
import {
  BadRequestError,
  ConflictError,
  isStaff,
  NotFoundError,
  type HttpApp,
  type ServiceInfrastructure,
} from '@shop/service-kit';
import Type from 'typebox';
import { requestRefund } from '../application/refunds.js';
import { paymentsRepository, type PaymentRecord } from '../db/repositories/payments.js';

const PaymentItem = Type.Object({
  id: Uuid,
  orderId: Uuid,
  amount: Type.Integer(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('refunded'),
  ]),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  providerChargeId: Type.Union([Type.String(), Type.Null()]),
  attemptedAt: Timestamp,
});

const RefundAccepted = Type.Object({
  ...PaymentItem.properties,
  refund: Type.Object({
    id: Uuid,
    status: Type.Union([
      Type.Literal('pending'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
    ]),
    reason: Type.String(),
  }),
});

function toItem(payment: PaymentRecord) {
  return {
    id: payment.id,
    orderId: payment.orderId,
    amount: payment.amount,
    status: payment.status,
    failureReason: payment.failureReason,
    providerChargeId: payment.providerChargeId,
    // Milliseconds, as every other timestamp of the API; the row keeps microseconds for cursors.
    attemptedAt: new Date(payment.attemptedAt).toISOString(),
  };
}

const problems = { 400: ProblemDetails, 401: ProblemDetails, 403: ProblemDetails };

export function registerPaymentRoutes(app: HttpApp, infrastructure: ServiceInfrastructure): void {
  const { dataSource } = infrastructure;

  app.get(
    '/v1/payments',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: "An order's payment attempts, newest first",
        description:
          'Owner and staff see every attempt; anyone else gets an empty list, never a 404 that would reveal the order exists.',
        querystring: Type.Object(
          { orderId: Uuid, ...PageQueryProperties },
          { additionalProperties: false },
        ),
        response: { 200: Page(PaymentItem), ...problems },
      },
    },
    async (request) => {
      const identity = request.identity!;
      const { orderId, cursor } = request.query;
      const limit = request.query.limit ?? PAGE_LIMIT_DEFAULT;
      const after = cursor === undefined ? null : decodeCursor(cursor);
      if (cursor !== undefined && !after) {
        throw new BadRequestError('The cursor is not one this API gave out.', [
          { path: '/query/cursor', message: 'invalid cursor' },
        ]);
      }
      const rows = await paymentsRepository(dataSource.manager).listForOrder({
        orderId,
        customerId: isStaff(identity.role) ? null : identity.userId,
        limit: limit + 1,
        after,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toItem),
        nextCursor:
          rows.length > limit && last
            ? encodeCursor({ createdAt: last.createdAt, id: last.id })
            : null,
      };
    },
  );

  app.post(
    '/v1/payments/:id/refund',
    {
      config: { auth: { roles: ['admin', 'manager'] } },
      // The body is optional: no body means `{}`, anything sent is checked strictly.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: 'Refund a succeeded payment in full',
        description:
          'Accepted (202) and carried out in the background; `succeeded` → `refunded`. Asking again answers the same refund and creates nothing. 409 `invalid_state_transition` for a payment that was never charged.',
        params: Type.Object({ id: Uuid }),
        body: StrictObject({
          reason: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 202: RefundAccepted, ...problems, 404: ProblemDetails, 409: ProblemDetails },
      },
    },
    async (request, reply) => {
      const identity = request.identity!;
      const result = await dataSource.transaction(async (manager) => {
        const payment = await paymentsRepository(manager).lockById(request.params.id, {
          visibleOnly: true,
        });
        if (!payment) throw new NotFoundError('No such payment.');
        if (payment.status !== 'succeeded' && payment.status !== 'refunded') {
          throw new ConflictError(
            'invalid_state_transition',
            `A ${payment.status} payment cannot be refunded: nothing was charged.`,
          );
        }
        const { refund } = await requestRefund(manager, payment, {
          reason: request.body.reason ?? 'staff_request',
          requestedBy: identity.userId,
        });
        return { payment, refund };
      });
      return reply.code(202).send({
        ...toItem(result.payment),
        refund: {
          id: result.refund.refundId,
          status: result.refund.status,
          reason: result.refund.reason,
        },
      });
    },
  );
}
