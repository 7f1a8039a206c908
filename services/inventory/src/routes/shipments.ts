import { ShipmentDelivered } from '@shop/contracts';
import {
  NotFoundError,
  STAFF_ROLES,
  enqueueMessage,
  isStaff,
  recordAudit,
  withTransaction,
  type HttpApp,
} from '@shop/service-kit';
import { shipmentsRepository } from '../db/repositories/shipments.js';
import { actorOf, type RouteDependencies } from './context.js';
import { IdParams, problems, ShipmentView } from './schemas.js';
import { shipmentView } from './views.js';

const notFound = () => new NotFoundError('No shipment has this id.');

export function registerShipmentRoutes(app: HttpApp, deps: RouteDependencies): void {
  const { dataSource } = deps;

  app.get(
    '/v1/shipments/:id',
    {
      config: { auth: 'authenticated' },
      schema: {
        tags: ['shipments'],
        summary: "A shipment: the customer's own, or any for staff",
        params: IdParams,
        response: { 200: ShipmentView, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      const shipment = await shipmentsRepository(dataSource.manager).findById(request.params.id);
      const identity = request.identity!;
      // Someone else's parcel answers exactly like a missing one.
      if (!shipment || (!isStaff(identity.role) && shipment.customerId !== identity.userId)) {
        throw notFound();
      }
      return shipmentView(shipment);
    },
  );

  app.post(
    '/v1/shipments/:id/deliver',
    {
      config: { auth: { roles: STAFF_ROLES } },
      schema: {
        tags: ['shipments'],
        summary: 'The carrier confirmed delivery; the order becomes delivered',
        params: IdParams,
        response: { 202: ShipmentView, ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const shipment = await withTransaction(dataSource, async (manager) => {
        const shipments = shipmentsRepository(manager);
        // Delivering twice is harmless: only the call that records it announces it.
        const recorded = await shipments.markDelivered(request.params.id);
        const current = await shipments.findById(request.params.id);
        if (!current) throw notFound();
        if (recorded) {
          await recordAudit(manager, {
            ...actor,
            entityType: 'shipment',
            entityId: current.id,
            action: 'update',
            before: { deliveredAt: null },
            after: { deliveredAt: current.deliveredAt },
          });
          await enqueueMessage(manager, ShipmentDelivered, {
            shipmentId: current.id,
            orderId: current.orderId,
            carrier: current.carrier,
            trackingNumber: current.trackingNumber,
            deliveredAt: current.deliveredAt!.toISOString(),
          });
        }
        return current;
      });
      return reply.code(202).send(shipmentView(shipment));
    },
  );
}
