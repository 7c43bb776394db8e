import * as df from 'durable-functions';
import { names, type PollerInput } from './names';

/** The eternal-monitor shape: wait on a timer, then continueAsNew, until stopAfter iterations. */
df.app.orchestration(names.poller, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as PollerInput;
  if (input.iteration >= input.stopAfter) return { iterations: input.iteration };
  const next = new Date(context.df.currentUtcDateTime.getTime() + input.intervalSeconds * 1000);
  yield context.df.createTimer(next);
  context.df.continueAsNew({ ...input, iteration: input.iteration + 1 });
  return undefined;
});
