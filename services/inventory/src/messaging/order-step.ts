import type { Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { outcomesRepository, type StoredReply } from '../db/repositories/outcomes.js';
import {
  decideCommand,
  type CommandDecision,
  type CommandStep,
  type OutcomeStep,
} from '../domain/command-outcomes.js';
import { replay } from './replies.js';

/**
 * Runs one saga command for an order, once: under the order's lock, a command already answered
 * (or overtaken by a release) gets its recorded answer again, and only a new one does `act`.
 * A command that arrived too early throws, so the consumer redelivers it later.
 */
export async function runOrderStep(
  manager: EntityManager,
  orderId: string,
  command: CommandStep,
  logger: Logger,
  act: () => Promise<void>,
): Promise<void> {
  await settleOrderStep(manager, orderId, command, logger, act);
}

/**
 * `runOrderStep`, returning what was decided: for a caller that did work before the
 * transaction and must know whether it was used.
 */
export async function settleOrderStep(
  manager: EntityManager,
  orderId: string,
  command: CommandStep,
  logger: Logger,
  act: () => Promise<void>,
): Promise<CommandDecision> {
  const outcomes = outcomesRepository(manager);
  await outcomes.lockOrder(orderId);
  const stored = await outcomes.load(orderId);
  const decision = decideCommand(command, replyTypes(stored));
  switch (decision.kind) {
    case 'act':
      await act();
      return decision;
    case 'replay': {
      const reply = stored.get(decision.step);
      if (!reply) throw new Error(`outcome ${decision.step} of order ${orderId} vanished`);
      logger.info(
        { orderId, command, answeredBy: decision.step },
        'command already answered; replying the recorded outcome again',
      );
      await replay(manager, reply);
      return decision;
    }
    case 'retry_later':
      throw new Error(`${command} for order ${orderId} cannot run yet: ${decision.reason}`);
  }
}

/**
 * What `runOrderStep` would decide now, read without the order's lock (or any transaction): a
 * cheap look before slow work outside the transaction, so that work is skipped for a command
 * that will only be answered again. The state may move before the lock is taken; the
 * decision under the lock is the one that counts.
 */
export async function peekOrderStep(
  manager: EntityManager,
  orderId: string,
  command: CommandStep,
): Promise<CommandDecision> {
  return decideCommand(command, replyTypes(await outcomesRepository(manager).load(orderId)));
}

function replyTypes(stored: ReadonlyMap<OutcomeStep, StoredReply>): Map<OutcomeStep, string> {
  return new Map([...stored].map(([step, reply]) => [step, reply.type]));
}
