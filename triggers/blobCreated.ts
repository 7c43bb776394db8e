import { app, type EventGridEvent, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { pokeBlob, runInstanceId } from '../app/runs';
import { appServices } from '../app/services';
import { names } from '../common/names';
import { readBlobCreated } from '../domain/blob-event';
import { blobKey } from '../domain/blob-ref';

/**
 * Event Grid waits 30 s for an answer and then redelivers; the trigger gives up well before, so a slow
 * storage call makes a clean failure (and a redelivery), never a timeout.
 */
export const TRIGGER_BUDGET_MS = 10_000;

class TriggerBudgetExceeded extends Error {
  override readonly name = 'TriggerBudgetExceeded';
}

function withinBudget<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TriggerBudgetExceeded(
            `${what} took longer than ${TRIGGER_BUDGET_MS} ms; failing so Event Grid delivers the event again`,
          ),
        ),
      TRIGGER_BUDGET_MS,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Event Grid BlobCreated (Event Grid schema or CloudEvents): ignore what is not a served flow-log blob,
 * drop a stale duplicate without starting anything (one entity read), and otherwise start the
 * orchestration that claims the blob with this observation. It never waits for a run: the blob's entity
 * decides whether this observation starts one or is covered by the run in progress.
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
  await withinBudget(
    (async () => {
      const now = new Date();
      const { outcome, dead } = await pokeBlob(
        client,
        config,
        {
          ref,
          instanceId: runInstanceId(key, 'event', `${e.account}|${e.container}|${e.name}|${event.id}`),
          observation: {
            ref,
            contentLength: e.contentLength,
            eTag: e.eTag,
            sequencer: e.sequencer,
            at: now.toISOString(),
          },
        },
        { now, dropStale: true, terminateStuck: false },
      );
      // A run that holds the blob but can never finish (terminated, stuck) is replaced by this claim.
      if (dead)
        context.warn(`blob ${key}: run ${dead.instanceId} is ${dead.reason}; this event's claim replaces it`);
      counters.add(
        outcome === 'stale' ? 'events.stale' : outcome === 'started' ? 'claims.started' : 'events.duplicate',
      );
    })(),
    `blob ${key}: recording event ${event.id}`,
  );
}

app.eventGrid(names.blobCreated, { extraInputs: [df.input.durableClient()], handler: blobCreated });
