import Type, { type Static } from 'typebox';
import { Port, ServiceEnvironment } from '@shop/service-kit';

/** The payments service's environment, checked at start: a bad value stops it with one clear line. */
export const PaymentsConfig = Type.Object({
  ...ServiceEnvironment,
  PAYMENTS_PORT: Port(3004),
});
export type PaymentsConfig = Static<typeof PaymentsConfig>;
