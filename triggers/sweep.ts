import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { appServices } from '../app/services';
import { housekeeping, sweepOnce } from '../app/sweep';
import { names } from '../common/names';

/**
 * Every two minutes: poke blobs of the current and previous hour that are behind (lost or late events),
 * and in the first sweep of each hour, forget blobs older than the retention (entity, history, ledger).
 */
export async function sweep(_timer: Timer, context: InvocationContext): Promise<void> {
  const client = df.getClient(context);
  const now = new Date();
  await sweepOnce(client, appServices(), now, context);
  if (now.getUTCMinutes() < 2) {
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
