import type { Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { names, type PollerInput } from './names';

/** Every 5 minutes: make sure the singleton Poller runs (start it unless it is running). */
df.app.client.timer(names.sweepTimer, {
  schedule: '0 */5 * * * *',
  handler: async (_timer: Timer, client: df.DurableClient): Promise<void> => {
    const instanceId = 'poller-singleton';
    let running = false;
    try {
      const status = await client.getStatus(instanceId);
      running = status.runtimeStatus === df.OrchestrationRuntimeStatus.Running;
    } catch {
      running = false; // 404: never started
    }
    if (running) return;
    const input: PollerInput = { iteration: 0, stopAfter: 2, intervalSeconds: 60 };
    await client.startNew(names.poller, { instanceId, input });
  },
});
