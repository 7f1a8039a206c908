import {
  ReservationExpired,
  ShipmentCreated,
  StockReleased,
  StockReservationRejected,
  StockReserved,
  type MessageContract,
  type MessageData,
} from '@shop/contracts';
import { enqueueMessage } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { outcomesRepository, type StoredReply } from '../db/repositories/outcomes.js';
import type { OutcomeStep } from '../domain/command-outcomes.js';

const REPLY_CONTRACTS = new Map<string, MessageContract>(
  [StockReserved, StockReservationRejected, StockReleased, ReservationExpired, ShipmentCreated].map(
    (contract) => [contract.type, contract],
  ),
);

/**
 * Records the answer to an order's step and sends it (outbox), in the transaction that did the
 * work, so the answer and the change commit together or not at all.
 */
export async function answer<Contract extends MessageContract>(
  manager: EntityManager,
  orderId: string,
  step: OutcomeStep,
  contract: Contract,
  data: MessageData<Contract>,
): Promise<void> {
  await outcomesRepository(manager).save(orderId, step, { type: contract.type, data });
  await enqueueMessage(manager, contract, data);
}

/** Sends a recorded answer again, exactly as first given (a new message id, same data). */
export async function replay(manager: EntityManager, reply: StoredReply): Promise<void> {
  const contract = REPLY_CONTRACTS.get(reply.type);
  if (!contract) throw new Error(`no reply contract for stored outcome ${reply.type}`);
  await enqueueMessage(manager, contract, reply.data as MessageData<typeof contract>);
}
