import Type, { type Static } from 'typebox';
import { Port, ServiceEnvironment } from '@shop/service-kit';

/** The orders service's environment, checked at start: a bad value stops it with one clear line. */
export const OrdersConfig = Type.Object({
  ...ServiceEnvironment,
  ORDERS_PORT: Port(3002),
});
export type OrdersConfig = Static<typeof OrdersConfig>;
