import * as df from 'durable-functions';
import { type MixedInput, names } from './names';

/**
 * Exercises every kind of task numbering at once: retried and plain activities, entity calls and
 * signals in one Task.all, a Task.any racing a retried activity against a timer, and a retried
 * sub-orchestration. Run under injected faults it shows whether event ids stay in step with the SDK.
 */
df.app.orchestration(names.mixed, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as MixedInput;
  const retry = new df.RetryOptions(100, 10);
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + input.raceTimeoutSeconds * 1000);
  const race: df.Task = yield context.df.Task.any([
    context.df.callActivityWithRetry(names.flaky, retry, 'race'),
    context.df.createTimer(deadline),
  ]);
  const wonBy = race.result === undefined ? 'timer' : 'activity';
  context.df.signalEntity(new df.EntityId(names.counter, 'mixed-signals'), 'add', 1);
  const tasks: df.Task[] = [];
  for (let i = 0; i < input.width; i++) {
    tasks.push(context.df.callActivityWithRetry(names.flaky, retry, `item-${i}`));
    tasks.push(context.df.callActivity(names.slowSquare, i));
    tasks.push(context.df.callEntity(new df.EntityId(names.counter, `mixed-${i % 3}`), 'add', 1));
  }
  const results: unknown[] = yield context.df.Task.all(tasks);
  const sub: { sum: number } = yield context.df.callSubOrchestratorWithRetry(names.fanOut, retry, {
    numbers: [1, 2],
    counterKey: 'mixed-sub',
  });
  context.df.signalEntity(new df.EntityId(names.counter, 'mixed-signals'), 'add', 1);
  return { wonBy, results: results.length, subSum: sub.sum };
});
