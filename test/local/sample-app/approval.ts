import * as df from 'durable-functions';
import { names } from './names';

/** Waits for an "approve" event or a durable-timer timeout, whichever comes first (Task.any). */
df.app.orchestration(names.approval, function* (context: df.OrchestrationContext) {
  const timeoutSeconds = Number(context.df.getInput() ?? 60);
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutSeconds * 1000);
  const timeout = context.df.createTimer(deadline);
  const approval = context.df.waitForExternalEvent('approve');
  const winner: df.Task = yield context.df.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    return { approved: true, by: approval.result };
  }
  return { approved: false };
});
