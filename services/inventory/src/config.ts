import Type, { type Static } from 'typebox';
import { Port, ServiceEnvironment } from '@shop/service-kit';

/** The inventory service's environment, checked at start: a bad value stops it with one clear line. */
export const InventoryConfig = Type.Object({
  ...ServiceEnvironment,
  INVENTORY_PORT: Port(3003),
});
export type InventoryConfig = Static<typeof InventoryConfig>;
