import * as df from 'durable-functions';
import { type FanOutInput, type FanOutOutput, names } from './names';

/** Runs FanOut twice as sub-orchestrations (one with a fixed child id) and adds their sums. */
df.app.orchestration(names.parent, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as FanOutInput;
  const first: FanOutOutput = yield context.df.callSubOrchestrator(names.fanOut, input);
  const second: FanOutOutput = yield context.df.callSubOrchestrator(
    names.fanOut,
    { ...input, numbers: input.numbers.map((n) => n + 1) },
    `${context.df.instanceId}-child`,
  );
  return first.sum + second.sum;
});
