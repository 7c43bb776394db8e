import * as df from 'durable-functions';
import { type FanOutInput, type FanOutOutput, names } from './names';
import { squareActivity } from './square';

/**
 * Fans out one Square per number with Task.all, runs a retried activity, adds the sum to a counter
 * entity (a call) and bumps an audit counter (a signal).
 */
df.app.orchestration(names.fanOut, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as FanOutInput;
  context.df.setCustomStatus({ stage: 'squaring', count: input.numbers.length });
  const square = (n: number) =>
    input.activity === names.slowSquare ? context.df.callActivity(names.slowSquare, n) : squareActivity(n);
  const squares: number[] = yield context.df.Task.all(input.numbers.map(square));
  const sum = squares.reduce((a, b) => a + b, 0);
  const retry = new df.RetryOptions(1000, 3);
  const note: string = yield context.df.callActivityWithRetry(names.flaky, retry, `sum=${sum}`);
  const total: number = yield context.df.callEntity(
    new df.EntityId(names.counter, input.counterKey),
    'add',
    sum,
  );
  context.df.signalEntity(new df.EntityId(names.counter, 'audit'), 'add', 1);
  context.df.setCustomStatus({ stage: 'done' });
  const output: FanOutOutput = { squares, sum, note, total };
  return output;
});
