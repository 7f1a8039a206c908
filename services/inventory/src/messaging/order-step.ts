import type { Logger } from '@shop/service-kit';
import type { EntityManager } from 'typeorm';
import { outcomesRepository } from '../db/repositories/outcomes.js';
import { decideCommand, type CommandStep } from '../domain/command-outcomes.js';
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
  const outcomes = outcomesRepository(manager);
  await outcomes.lockOrder(orderId);
  const stored = await outcomes.load(orderId);
  const decision = decideCommand(
    command,
    new Map([...stored].map(([step, reply]) => [step, reply.type])),
  );
  switch (decision.kind) {
    case 'act':
      return act();
    case 'replay': {
      const reply = stored.get(decision.step);
      if (!reply) throw new Error(`outcome ${decision.step} of order ${orderId} vanished`);
      logger.info(
        { orderId, command, answeredBy: decision.step },
        'command already answered; replying the recorded outcome again',
      );
      return replay(manager, reply);
    }
    case 'retry_later':
      throw new Error(`${command} for order ${orderId} cannot run yet: ${decision.reason}`);
  }
}
