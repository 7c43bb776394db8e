import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { names } from '../app/names';
import { appServices } from '../app/services';
import { sweepOnce } from '../app/sweep';

export async function sweep(_timer: Timer, context: InvocationContext): Promise<void> {
  await sweepOnce(df.getClient(context), appServices(), new Date(), context);
}

app.timer(names.sweep, {
  schedule: '0 */2 * * * *',
  extraInputs: [df.input.durableClient()],
  handler: sweep,
});
