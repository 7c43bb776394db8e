import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { appServices } from '../app/services';
import { DEEP_SWEEP_HOURS, housekeeping, sweepOnce } from '../app/sweep';
import { names } from '../common/names';

/**
 * Every two minutes: poke blobs of the current and previous hour that are behind (lost or late events).
 * The first sweep of each hour looks back DEEP_SWEEP_HOURS instead, and forgets blobs older than the
 * retention (entity, history, ledger).
 */
export async function sweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const client = df.getClient(context);
  const now = new Date();
  const firstOfHour = now.getUTCMinutes() < 2;
  await sweepOnce(client, appServices(), now, context, { hours: firstOfHour ? DEEP_SWEEP_HOURS : 2 });
  if (firstOfHour) {
    const { removed } = await housekeeping(client, appServices(), now);
    if (removed.length > 0)
      context.log(`housekeeping: forgot ${removed.length} finished blobs older than the retention`);
  }
}

app.timer(names.sweep, {
  schedule: '0 */2 * * * *',
  extraInputs: [df.input.durableClient()],
  handler: sweep,
});
