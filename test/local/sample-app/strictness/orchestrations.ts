import * as df from 'durable-functions';
import { sdkNames } from '../sdk-references/names';

export const strictNames = {
  selfChild: 'SelfChild',
  atChild: 'AtChild',
  retryThenActivity: 'RetryThenActivity',
  signalThenThrow: 'SignalThenThrow',
  callsMissing: 'CallsMissing',
} as const;

/** What CallsMissing targets that is not registered. */
export type MissingKind = 'activity' | 'orchestrator' | 'entity' | 'signal';

/** Starts a sub-orchestration with its own instance id (the extension refuses). */
df.app.orchestration(strictNames.selfChild, function* (context: df.OrchestrationContext) {
  const greeting: string = yield context.df.callSubOrchestrator(
    sdkNames.helloInline,
    'me',
    context.df.instanceId,
  );
  return greeting;
});

/** Starts a sub-orchestration whose id starts with @ (reserved for entities). */
df.app.orchestration(strictNames.atChild, function* (context: df.OrchestrationContext) {
  const greeting: string = yield context.df.callSubOrchestrator(sdkNames.helloInline, 'at', '@child');
  return greeting;
});

/** A retried activity, then a plain one: a late second answer to the first must change nothing. */
df.app.orchestration(strictNames.retryThenActivity, function* (context: df.OrchestrationContext) {
  const first: string = yield context.df.callActivityWithRetry(
    sdkNames.hello,
    new df.RetryOptions(1000, 3),
    'a',
  );
  const second: string = yield context.df.callActivity(sdkNames.hello, 'b');
  return [first, second];
});

/** Signals a counter, then throws: the signal is still sent. */
df.app.orchestration(strictNames.signalThenThrow, function* (context: df.OrchestrationContext) {
  context.df.signalEntity(new df.EntityId(sdkNames.counter, String(context.df.getInput())), 'add', 1);
  yield* [];
  throw new Error('after the signal');
});

/** Signals a counter, then calls or signals a function that is not registered (input: MissingKind). */
df.app.orchestration(strictNames.callsMissing, function* (context: df.OrchestrationContext) {
  const kind = context.df.getInput() as MissingKind;
  context.df.signalEntity(new df.EntityId(sdkNames.counter, `before-${kind}`), 'add', 1);
  if (kind === 'activity') yield context.df.callActivity('NoSuchActivity');
  else if (kind === 'orchestrator') yield context.df.callSubOrchestrator('NoSuchOrchestrator');
  else if (kind === 'entity') yield context.df.callEntity(new df.EntityId('NoSuchEntity', 'k'), 'op');
  else context.df.signalEntity(new df.EntityId('NoSuchEntity', 'k'), 'op');
  return 'not failed';
});
