import * as df from 'durable-functions';
import { names } from './names';

export interface TransferInput {
  from: string;
  to: string;
  amount: number;
}

/** Moves an amount between two counters inside a critical section (needs replay schema V4). */
df.app.orchestration(names.transfer, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as TransferInput;
  const from = new df.EntityId(names.counter, input.from);
  const to = new df.EntityId(names.counter, input.to);
  const lock: df.DurableLock = yield context.df.lock(from, to);
  try {
    const available: number = yield context.df.callEntity(from, 'get');
    const moved = Math.min(available, input.amount);
    yield context.df.callEntity(from, 'add', -moved);
    yield context.df.callEntity(to, 'add', moved);
    return { moved, wasLocked: context.df.isLocked().isLocked };
  } finally {
    lock.release();
  }
});
