import { app, type EventGridEvent, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { blobOps, names } from '../app/names';
import { blobEntity, ensureRun } from '../app/runs';
import { appServices } from '../app/services';
import { readBlobCreated } from '../domain/blob-event';
import { blobKey } from '../domain/blob-ref';
import { type BlobState, isStale } from '../domain/blob-state';

/** How long an event waits for an active run of its blob before Event Grid is asked to redeliver. */
const WAIT_FOR_ACTIVE_RUN_MS = 20_000;

/**
 * Event Grid BlobCreated (Event Grid schema or CloudEvents): ignore what is not a served flow-log blob,
 * drop stale duplicates without a storage call, record the observation on the blob's entity, and make
 * sure a run will read it. If a run stays active past the wait, the function fails so Event Grid
 * delivers the event again later (at-least-once; the sweep is the second net).
 */
export async function blobCreated(event: EventGridEvent, context: InvocationContext): Promise<void> {
  const { config, counters } = appServices();
  counters.add('events.received');
  const verdict = readBlobCreated(event, new Set(config.sourceAccounts.keys()), config.containers);
  if (verdict.kind === 'ignored') {
    counters.add('events.ignored');
    context.debug(`ignored event ${event.id}: ${verdict.reason}`);
    return;
  }
  const e = verdict.event;
  const ref = { account: e.account, container: e.container, name: e.name };
  const key = blobKey(ref);
  const client = df.getClient(context);
  const entity = blobEntity(key);
  const current = await client.readEntityState<BlobState>(entity);
  if (
    current.entityExists &&
    current.entityState &&
    isStale(current.entityState, e.contentLength, e.sequencer)
  ) {
    counters.add('events.stale');
    return;
  }
  await client.signalEntity(entity, blobOps.observe, {
    ref,
    contentLength: e.contentLength,
    eTag: e.eTag,
    sequencer: e.sequencer,
    at: new Date().toISOString(),
  });
  const outcome = await ensureRun(client, ref, key, {
    waitMs: WAIT_FOR_ACTIVE_RUN_MS,
    contentLength: e.contentLength,
  });
  counters.add(outcome === 'started' ? 'runs.started' : 'runs.coalesced');
  if (outcome === 'running')
    throw new Error(
      `blob ${key}: a run is still active after ${WAIT_FOR_ACTIVE_RUN_MS} ms; asking Event Grid to redeliver`,
    );
}

app.eventGrid(names.blobCreated, { extraInputs: [df.input.durableClient()], handler: blobCreated });
