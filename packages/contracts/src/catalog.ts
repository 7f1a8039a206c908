import type { MessageContract } from './message.js';
import * as inventory from './messages/inventory.js';
import * as orders from './messages/orders.js';
import * as payments from './messages/payments.js';
import * as users from './messages/users.js';

/** Every message contract, each (type, version) once. A new version is added beside the old. */
export const messageCatalog = [
  inventory.ReserveStock,
  inventory.ReleaseStock,
  inventory.ShipOrder,
  inventory.StockReserved,
  inventory.StockReservationRejected,
  inventory.StockReleased,
  inventory.ReservationExpired,
  inventory.ShipmentCreated,
  inventory.ShipmentDelivered,
  inventory.ProductCreated,
  inventory.ProductUpdated,
  inventory.ProductDeactivated,
  inventory.StockChanged,
  payments.ChargePayment,
  payments.RefundPayment,
  payments.ChargeSucceeded,
  payments.ChargeDeclined,
  payments.ChargeFailed,
  payments.RefundSucceeded,
  payments.RefundFailed,
  orders.OrderCreated,
  orders.OrderConfirmed,
  orders.OrderShipped,
  orders.OrderDelivered,
  orders.OrderCancelled,
  users.UserRegistered,
  users.UserDeleted,
  users.UserRoleChanged,
  users.AddressAdded,
  users.AddressRemoved,
  users.PaymentMethodAdded,
  users.PaymentMethodRemoved,
] as const satisfies readonly MessageContract[];

/** Every subject some contract uses, as a union of string literals. */
export type MessageType = (typeof messageCatalog)[number]['type'];

const contractKey = (type: string, version: number) => `${type}@${version}`;

const contractsByKey = new Map<string, MessageContract>(
  messageCatalog.map((contract) => [contractKey(contract.type, contract.version), contract]),
);

/**
 * The contract a consumer checks a received envelope against; undefined for a type or version
 * this build does not know (a newer producer: leave it to a newer consumer, don't guess).
 */
export function findMessageContract(type: string, version: number): MessageContract | undefined {
  return contractsByKey.get(contractKey(type, version));
}

export const SERVICE_NAMES = ['users', 'inventory', 'payments', 'orders'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * What each service puts in the one stream it owns: the events it publishes and the commands
 * others send it. Wildcards, so a new message needs no stream change. Other services publish
 * commands into the owner's stream and read the owner's events from it.
 */
export const streamSubjects: Readonly<Record<ServiceName, readonly string[]>> = {
  users: ['users.events.>', 'users.commands.>'],
  inventory: ['inventory.events.>', 'inventory.commands.>'],
  payments: ['payments.events.>', 'payments.commands.>'],
  orders: ['orders.events.>', 'orders.commands.>'],
};

/** The exact subjects a service owns today, e.g. to list a consumer's filter subjects. */
export function subjectsOwnedBy(service: ServiceName): {
  events: string[];
  commands: string[];
} {
  const types = new Set(messageCatalog.map((contract) => contract.type as string));
  const owned = [...types].filter((type) => type.startsWith(`${service}.`)).sort();
  return {
    events: owned.filter((type) => type.startsWith(`${service}.events.`)),
    commands: owned.filter((type) => type.startsWith(`${service}.commands.`)),
  };
}
