import { app, type EventGridEvent, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { type FanOutInput, names } from './names';

/**
 * Event Grid BlobCreated: counts the event on an entity (signal) and starts one FanOut per blob,
 * with the blob's URL as a singleton instance id.
 */
app.eventGrid(names.blobCreated, {
  extraInputs: [df.input.durableClient()],
  handler: async (event: EventGridEvent, context: InvocationContext): Promise<void> => {
    const client = df.getClient(context);
    await client.signalEntity(new df.EntityId(names.counter, 'events'), 'add', 1);
    const data = event.data as { url?: string; contentLength?: number } | undefined;
    const size = data?.contentLength ?? 0;
    const input: FanOutInput = { numbers: [1, 2, size], counterKey: 'bytes' };
    const instanceId = `blob-${Buffer.from(data?.url ?? event.subject).toString('base64url')}`;
    await client.startNew(names.fanOut, { instanceId, input });
  },
});
