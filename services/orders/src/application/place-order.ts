import { createHash, randomUUID } from 'node:crypto';
import { MAX_MONEY_CENTS, OrderCreated } from '@shop/contracts';
import {
  BadRequestError,
  ConflictError,
  currentContext,
  enqueueMessage,
  recordAudit,
  UnprocessableError,
  withTransaction,
  type Logger,
  type ProblemFieldError,
} from '@shop/service-kit';
import type { DataSource, EntityManager } from 'typeorm';
import { createIdempotencyRepository } from '../db/repositories/idempotency.js';
import { createOrdersRepository } from '../db/repositories/orders.js';
import { createSagasRepository } from '../db/repositories/sagas.js';
import { formatOrderNumber } from '../domain/order-number.js';
import { priceLine, taxRateBps, totalsFor, type TaxRates } from '../domain/pricing.js';
import { startSaga } from '../domain/saga/machine.js';
import { newSagaData } from '../domain/saga/types.js';
import { sagaContext, type SagaRuntime } from '../saga/runtime.js';
import type { References } from './references.js';
import { loadOrderView, type OrderView } from './view.js';

export interface PlaceOrderBody {
  items: { productId: string; quantity: number }[];
  shippingAddressId: string;
  billingAddressId?: string;
  paymentMethodId: string;
  customerId?: string;
}

export interface PlaceOrderDeps {
  dataSource: DataSource;
  references: References;
  taxRates: TaxRates;
  runtime: SagaRuntime;
  currency: string;
  logger: Logger;
}

export interface PlacedOrder {
  order: OrderView;
  /** True when an Idempotency-Key replay found the order an earlier request created. */
  replayed: boolean;
}

/** Thrown inside the transaction when a concurrent request bound the key first. */
class KeyTakenMeanwhile extends Error {}

/** Same customer, same body (keys sorted, lines in order) → same fingerprint. */
export function fingerprintOf(customerId: string, body: PlaceOrderBody): string {
  const canonical = JSON.stringify({
    customerId,
    items: body.items.map((item) => [item.productId, item.quantity]),
    shippingAddressId: body.shippingAddressId,
    billingAddressId: body.billingAddressId ?? null,
    paymentMethodId: body.paymentMethodId,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

async function replay(
  manager: EntityManager,
  customerId: string,
  key: string,
  fingerprint: string,
): Promise<PlacedOrder | null> {
  const stored = await createIdempotencyRepository(manager).find(customerId, key);
  if (!stored) return null;
  if (stored.fingerprint !== fingerprint) {
    throw new ConflictError(
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request body.',
    );
  }
  const order = await createOrdersRepository(manager).findById(stored.orderId);
  if (!order) {
    // The key and its order commit together, so the order is there but soft-deleted (erased):
    // the key stays bound to it, and retrying would never get another answer.
    throw new ConflictError(
      'idempotency_key_reused',
      'This Idempotency-Key belongs to an order that no longer exists; use a new key.',
    );
  }
  return { order: await loadOrderView(manager, order), replayed: true };
}

/**
 * Accepts an order: checks it against the read models (asking the owners on a miss), prices
 * it, and stores the order, its lines, its saga, the first command and OrderCreated in one
 * transaction. Stock is never checked here; the reservation does that. Nothing is written
 * unless every check passed, and only an accepted order binds the Idempotency-Key.
 */
export async function placeOrder(
  deps: PlaceOrderDeps,
  request: { customerId: string; actorId: string; body: PlaceOrderBody; idempotencyKey?: string },
): Promise<PlacedOrder> {
  const { body, customerId, idempotencyKey } = request;
  const manager = deps.dataSource.manager;

  const seen = new Set<string>();
  body.items.forEach((item, index) => {
    if (seen.has(item.productId)) {
      throw new BadRequestError('Each product may appear at most once in an order.', [
        { path: `/body/items/${index}/productId`, message: 'duplicate product' },
      ]);
    }
    seen.add(item.productId);
  });

  const fingerprint = fingerprintOf(customerId, body);
  if (idempotencyKey) {
    const earlier = await replay(manager, customerId, idempotencyKey, fingerprint);
    if (earlier) return earlier;
  }

  // Business checks, every problem at once so the client can fix them in one go.
  const problems: ProblemFieldError[] = [];
  const productIds = body.items.map((item) => item.productId);
  const [products, shippingAddress, billingAddress, providerPaymentMethodId] = await Promise.all([
    deps.references.products(manager, productIds),
    deps.references.address(manager, customerId, body.shippingAddressId),
    body.billingAddressId
      ? deps.references.address(manager, customerId, body.billingAddressId)
      : Promise.resolve(undefined),
    deps.references.paymentMethod(manager, customerId, body.paymentMethodId),
  ]);
  body.items.forEach((item, index) => {
    const product = products.get(item.productId);
    if (!product) {
      problems.push({ path: `/body/items/${index}/productId`, message: 'unknown product' });
    } else if (!product.isActive || product.price <= 0) {
      problems.push({
        path: `/body/items/${index}/productId`,
        message: 'product is not available',
      });
    }
  });
  if (!shippingAddress) {
    problems.push({ path: '/body/shippingAddressId', message: 'not an address of this customer' });
  }
  if (billingAddress === null) {
    problems.push({ path: '/body/billingAddressId', message: 'not an address of this customer' });
  }
  if (!providerPaymentMethodId) {
    problems.push({
      path: '/body/paymentMethodId',
      message: 'not a payment method of this customer',
    });
  }
  if (problems.length > 0 || !shippingAddress || !providerPaymentMethodId) {
    throw new UnprocessableError(
      'The order refers to something it cannot use.',
      'unprocessable',
      problems,
    );
  }

  const lines = body.items.map((item) => {
    const product = products.get(item.productId)!;
    return priceLine({
      productId: item.productId,
      sku: product.sku,
      quantity: item.quantity,
      unitPrice: product.price,
    });
  });
  const totals = totalsFor(lines, taxRateBps(deps.taxRates, shippingAddress.state));
  if (totals.total > MAX_MONEY_CENTS) {
    throw new UnprocessableError(
      `The order total exceeds the largest amount that can be charged (${MAX_MONEY_CENTS} cents).`,
    );
  }

  try {
    const orderId = await withTransaction(deps.dataSource, async (tx) => {
      const id = randomUUID();
      // First, so a concurrent duplicate waits here before doing any work.
      if (idempotencyKey) {
        const bound = await createIdempotencyRepository(tx).bind(
          customerId,
          idempotencyKey,
          fingerprint,
          id,
        );
        if (!bound) throw new KeyTakenMeanwhile();
      }
      const orders = createOrdersRepository(tx);
      const context = sagaContext(deps.runtime);
      const orderNumber = formatOrderNumber(
        context.now.getUTCFullYear(),
        await orders.nextOrderNumberValue(),
      );
      const order = await orders.insert(
        {
          id,
          orderNumber,
          customerId,
          status: 'pending',
          cancellationReason: null,
          ...totals,
          currency: deps.currency,
          shippingAddressId: body.shippingAddressId,
          shippingAddress,
          billingAddressId: body.billingAddressId ?? null,
          paymentMethodId: body.paymentMethodId,
          paymentStatus: null,
          paymentAttempts: 0,
        },
        lines.map((line, position) => ({ ...line, position })),
      );

      const data = newSagaData({
        orderId: id,
        orderNumber,
        customerId,
        items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
        total: totals.total,
        currency: deps.currency,
        shippingAddress,
        paymentMethodId: body.paymentMethodId,
        providerPaymentMethodId,
      });
      const decision = startSaga(data, context);
      // The placing request's id is the order's correlation id for good: kept with the saga,
      // every later step (replies, deadlines, cancel, pay, staff retry) sends and logs with it.
      const trace = { correlationId: currentContext()?.correlationId ?? id };
      await createSagasRepository(tx).insert(id, decision.saga, trace.correlationId);
      await orders.appendTimeline(id, context.now, decision.timeline);
      await enqueueMessage(
        tx,
        OrderCreated,
        {
          orderId: id,
          orderNumber,
          customerId,
          items: lines,
          ...totals,
          currency: deps.currency,
          shippingAddress,
          billingAddressId: body.billingAddressId ?? null,
          paymentMethodId: body.paymentMethodId,
          createdAt: order.createdAt.toISOString(),
        },
        trace,
      );
      for (const message of decision.messages) {
        await enqueueMessage(tx, message.contract, message.data as never, trace);
      }
      await recordAudit(tx, {
        ...trace,
        entityType: 'order',
        entityId: id,
        action: 'create',
        userId: request.actorId,
        after: { orderNumber, customerId, ...totals, items: lines.length },
      });
      return id;
    });
    const order = await createOrdersRepository(manager).findById(orderId);
    return { order: await loadOrderView(manager, order!), replayed: false };
  } catch (error) {
    if (!(error instanceof KeyTakenMeanwhile) || !idempotencyKey) throw error;
    // The other request committed its order under this key: answer as a replay of it.
    const earlier = await replay(manager, customerId, idempotencyKey, fingerprint);
    if (!earlier) throw new ConflictError('idempotency_key_in_use', 'Retry the request.');
    return earlier;
  }
}
