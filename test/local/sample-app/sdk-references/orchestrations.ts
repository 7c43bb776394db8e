import * as df from 'durable-functions';
import {
  type CaughtFanOutOutput,
  continueAsNewLimit,
  type HelloRetryOutput,
  type SignalEntityInput,
  sdkNames,
} from './names';

/** Two retried activities in one Task.all (RetryOptions(100, 5)). */
df.app.orchestration(sdkNames.helloRetryFanOut, function* (context: df.OrchestrationContext) {
  const retry = new df.RetryOptions(100, 5);
  const greetings: string[] = yield context.df.Task.all(
    ['Tokyo', 'Seattle'].map((city) => context.df.callActivityWithRetry(sdkNames.hello, retry, city)),
  );
  return greetings;
});

/**
 * One retried activity (RetryOptions(10000, 2)). Catches a final failure and returns it with
 * currentUtcDateTime before and after the retries (as SayHelloWithActivityRetryAndReturnTimestamps).
 */
df.app.orchestration(sdkNames.helloRetry, function* (context: df.OrchestrationContext) {
  const retry = new df.RetryOptions(10_000, 2);
  const before = context.df.currentUtcDateTime.toISOString();
  let output: HelloRetryOutput;
  try {
    const greeting: string = yield context.df.callActivityWithRetry(
      sdkNames.hello,
      retry,
      context.df.getInput(),
    );
    output = { greeting, error: null, before, after: context.df.currentUtcDateTime.toISOString() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output = { greeting: null, error: message, before, after: context.df.currentUtcDateTime.toISOString() };
  }
  return output;
});

/** One activity lists files, then a Task.all of one activity per file; returns the sum. */
df.app.orchestration(sdkNames.diskUsage, function* (context: df.OrchestrationContext) {
  const files: string[] = yield context.df.callActivity(sdkNames.getFileList, context.df.getInput());
  const sizes: number[] = yield context.df.Task.all(
    files.map((file) => context.df.callActivity(sdkNames.getFileSize, file)),
  );
  return sizes.reduce((total, size) => total + size, 0);
});

/**
 * As FanOutFanInDiskUsage, but catches the fan-out's failure and asks for one more file size
 * (file4.log), so results of the fan-out's other tasks can arrive after it moved on.
 */
df.app.orchestration(sdkNames.diskUsageCaught, function* (context: df.OrchestrationContext) {
  const files: string[] = yield context.df.callActivity(sdkNames.getFileList, context.df.getInput());
  try {
    yield context.df.Task.all(files.map((file) => context.df.callActivity(sdkNames.getFileSize, file)));
    return 'no failure';
  } catch (error) {
    const after: number = yield context.df.callActivity(sdkNames.getFileSize, 'file4.log');
    const output: CaughtFanOutOutput = {
      caught: error instanceof Error ? error.message : String(error),
      after,
    };
    return output;
  }
});

/** Calls `set` on the entity given as input. */
df.app.orchestration(sdkNames.callEntitySet, function* (context: df.OrchestrationContext) {
  const target = context.df.getInput() as { name: string; key: string };
  yield context.df.callEntity(new df.EntityId(target.name, target.key), 'set', 'testString');
  return 'OK';
});

/** Signals an entity and returns without yielding anything. */
df.app.orchestration(sdkNames.signalEntity, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as SignalEntityInput;
  context.df.signalEntity(
    new df.EntityId(input.entityName, input.id),
    input.operationName,
    input.operationArgument,
  );
  yield* [];
  return undefined;
});

/** Adds one to `value` and continues as new until the value reaches the limit. */
df.app.orchestration(sdkNames.continueAsNewCounter, function* (context: df.OrchestrationContext) {
  const input = context.df.getInput() as { value?: number } | undefined;
  const value = (input?.value ?? 0) + 1;
  if (value < continueAsNewLimit) context.df.continueAsNew({ value });
  yield* [];
  return value;
});

/** Waits on a durable timer at the time given as input. */
df.app.orchestration(sdkNames.waitOnTimer, function* (context: df.OrchestrationContext) {
  yield context.df.createTimer(new Date(String(context.df.getInput())));
  return 'Timer fired!';
});

df.app.orchestration(sdkNames.helloInline, function* (context: df.OrchestrationContext) {
  yield* [];
  return `Hello, ${String(context.df.getInput())}!`;
});

df.app.orchestration(sdkNames.helloWithActivity, function* (context: df.OrchestrationContext) {
  const greeting: string = yield context.df.callActivity(sdkNames.hello, context.df.getInput());
  return greeting;
});

/** A sub-orchestration with the child id `<instance id>:0`. */
df.app.orchestration(sdkNames.helloSubOrchestrator, function* (context: df.OrchestrationContext) {
  const childId = `${context.df.instanceId}:0`;
  const greeting: string = yield context.df.callSubOrchestrator(
    sdkNames.helloWithActivity,
    context.df.getInput(),
    childId,
  );
  return greeting;
});

/** A retried sub-orchestration (RetryOptions(10000, 2)) with the child id `<instance id>:0`. */
df.app.orchestration(sdkNames.helloSubOrchestratorRetry, function* (context: df.OrchestrationContext) {
  const retry = new df.RetryOptions(10_000, 2);
  const childId = `${context.df.instanceId}:0`;
  const greeting: string = yield context.df.callSubOrchestratorWithRetry(
    sdkNames.helloWithActivity,
    retry,
    context.df.getInput(),
    childId,
  );
  return greeting;
});

/** Four sub-orchestrations without instance ids in one Task.all. */
df.app.orchestration(sdkNames.subOrchestratorsNoIds, function* (context: df.OrchestrationContext) {
  const input = String(context.df.getInput());
  const children = [
    sdkNames.helloWithActivity,
    sdkNames.helloInline,
    sdkNames.helloWithActivity,
    sdkNames.helloInline,
  ];
  const greetings: string[] = yield context.df.Task.all(
    children.map((name, i) => context.df.callSubOrchestrator(name, `${input}_${name}_${i}`)),
  );
  return greetings;
});
