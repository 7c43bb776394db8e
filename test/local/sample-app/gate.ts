import * as df from 'durable-functions';
import { names } from './names';

/**
 * Races a retried activity against an external event, then schedules more work while the retry is
 * still going. When the event and the retry timer land in one episode, the retry's next attempt and
 * the new activity must get the ids the SDK gives them (the tests check which result lands where).
 */
df.app.orchestration(names.gate, function* (context: df.OrchestrationContext) {
  const retried = context.df.callActivityWithRetry(names.flaky, new df.RetryOptions(1000, 3), 'gate');
  const go = context.df.waitForExternalEvent('go');
  yield context.df.Task.any([retried, go]);
  const after: number = yield context.df.callActivity(names.square, 5);
  const late: string = yield retried;
  return { after, late };
});
