import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import * as df from 'durable-functions';
import { listFlowLogBlobs } from '../adapters/blob-listing';
import { hourPartition } from '../adapters/ledger';
import { blobKey } from '../domain/blob-ref';
import { blobStagingPrefix } from './contracts';
import { record } from './metrics';
import { blobOps } from './names';
import { blobEntity, entityInstanceId, pokeBlob, runInstanceId } from './runs';
import type { AppServices } from './services';

const HOUR = 3_600_000;

export interface SweepResult {
  readonly listed: number;
  readonly poked: string[];
  /**
   * Runs that held a behind blob but could not finish (their instance ended, or no progress past the
   * bound: those are terminated here): the poke's claim replaced them.
   */
  readonly deadRuns: string[];
}

/**
 * Finds blobs of the current and previous hour whose committed length is ahead of what was read, and pokes
 * them like an event would. Event Grid can deliver late (documented: hours) or not at all, and the
 * previous hour's blob keeps receiving its last blocks after the hour turns.
 */
export async function sweepOnce(
  client: DurableClient,
  services: AppServices,
  now: Date,
  logger: InvocationContext | Console,
): Promise<SweepResult> {
  const hourStart = new Date(Math.floor(now.getTime() / HOUR) * HOUR);
  const listed = await listFlowLogBlobs(services.config, new Date(hourStart.getTime() - HOUR), hourStart);
  const hours = [hourPartition(new Date(hourStart.getTime() - HOUR)), hourPartition(hourStart)];
  const known = new Map((await services.ledger.list({ hours })).map((row) => [row.key, row]));
  const poked: string[] = [];
  const deadRuns: string[] = [];
  for (const blob of listed) {
    const key = blobKey(blob.ref);
    const row = known.get(key);
    // Data ends 2 bytes before contentLength (the closing `]}`).
    if (row && row.state !== 'failed' && row.consumedBytes >= blob.contentLength - 2) continue;
    // Behind: a run may hold the blob. One that ended without releasing it, or made no progress past the
    // bound, is replaced by this poke's claim (and terminated if it is still going), so even a run that
    // never stops can no longer commit.
    const { dead } = await pokeBlob(
      client,
      services.config,
      {
        ref: blob.ref,
        instanceId: runInstanceId(key, 'sweep', `${now.toISOString()}|${blob.contentLength}`),
        observation: {
          ref: blob.ref,
          contentLength: blob.contentLength,
          eTag: '',
          sequencer: '',
          at: now.toISOString(),
        },
      },
      { now, dropStale: false, terminateStuck: true },
    );
    if (dead) {
      deadRuns.push(dead.instanceId);
      logger.warn(
        `blob ${key}: run ${dead.instanceId} is ${dead.reason} (${dead.runtimeStatus}); replacing it`,
      );
    }
    poked.push(key);
  }
  record(services.counters, logger, {
    'sweep.blobsListed': listed.length,
    'sweep.blobsPoked': poked.length,
    'sweep.deadRunsReplaced': deadRuns.length,
  });
  return { listed: listed.length, poked, deadRuns };
}

/** Hours of finished blobs kept (entity state, run history, ledger row) before housekeeping removes them. */
export const RETENTION_HOURS = 48;

export interface HousekeepingResult {
  readonly removed: string[];
  /** Finished orchestration instances purged (every event, poke and run leaves one). */
  readonly instancesPurged: number;
}

/**
 * Forgets blobs whose hour is older than the retention (Azure no longer writes to them) and that were read
 * to their end: deletes the entity state,
 * purges the run's history (the Azure Storage backend never does it by itself) and drops the ledger row.
 * Failed or lagging blobs are kept for the operator. Bounded per call.
 */
export async function housekeeping(
  client: DurableClient,
  services: AppServices,
  now: Date,
  limit = 500,
): Promise<HousekeepingResult> {
  const cutoff = hourPartition(new Date(now.getTime() - RETENTION_HOURS * HOUR));
  const rows = await services.ledger.list({ beforeHour: cutoff, state: 'ok', limit });
  const removed: string[] = [];
  for (const row of rows) {
    // Deleting an entity's state leaves its record in the task hub (only entity storage cleanup, which
    // the JavaScript client lacks, removes it); purging the entity's instance id removes both. Where the
    // backend refuses that, the state is at least deleted.
    const purged = await client
      .purgeInstanceHistory(entityInstanceId(row.key))
      .then((r) => r.instancesDeleted > 0)
      .catch(() => false);
    if (!purged) await client.signalEntity(blobEntity(row.key), blobOps.forget);
    // Late writes of failed or replaced runs, left after their own cleanup.
    await services.staging.deletePrefix(blobStagingPrefix(row.key));
    await services.ledger.delete(row.key);
    removed.push(row.key);
  }
  // Instances are per event and run, not per blob: purge the finished ones of the hours past the retention
  // (a window of a few hours, so a missed hourly pass is caught up by the next ones).
  const purgeTo = new Date(now.getTime() - RETENTION_HOURS * HOUR);
  const purged = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(purgeTo.getTime() - 6 * HOUR),
    createdTimeTo: purgeTo,
    runtimeStatus: [
      df.OrchestrationRuntimeStatus.Completed,
      df.OrchestrationRuntimeStatus.Failed,
      df.OrchestrationRuntimeStatus.Terminated,
    ],
  });
  return { removed, instancesPurged: purged.instancesDeleted };
}
