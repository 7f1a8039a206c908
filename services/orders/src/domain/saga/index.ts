export * from './types.js';
export { canCancel, canPay, decide, paymentBackoffMs, startSaga } from './machine.js';
