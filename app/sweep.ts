import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import * as df from 'durable-functions';
import { type ListedBlob, listFlowLogBlobs } from '../adapters/blob-listing';
import { hourPartition, type LedgerRow, ledgerRowOf } from '../adapters/ledger';
import { blobStagingPrefix } from '../common/contracts';
import { record } from '../common/metrics';
import { blobOps } from '../common/names';
import { blobKey } from '../domain/blob-ref';
import { type BlobState, hourEndOf, settleHour, withDefaults } from '../domain/blob-state';
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
  /** Blobs whose hour this sweep marked complete (their hour and grace over, read to their end): no run. */
  readonly settled: string[];
}

/** Hours of finished blobs kept (entity state, run history, ledger row) before housekeeping removes them. */
export const RETENTION_HOURS = 48;

export interface SweepOptions {
  /**
   * Hours looked at, ending with the current one (default 2: the current and previous hour, every two
   * minutes). The trigger's hourly pass looks back DEEP_SWEEP_HOURS.
   */
  readonly hours?: number;
}

/**
 * Hours the hourly deep sweep looks back (the retention: older finished blobs are forgotten). It catches
 * what the two-hour sweep cannot: a blob of an older hour whose events were lost while the app was down
 * for hours (Event Grid gives up after 24 hours, or dead-letters), and a blob whose run failed with a
 * retryable error after its hour had left the two-hour window (the back-off grows to 60 minutes).
 */
export const DEEP_SWEEP_HOURS = RETENTION_HOURS;

/**
 * Finds blobs of the last hours (the current and previous one, by default) whose committed length is ahead
 * of what was read, and pokes them like an event would. Event Grid can deliver late (documented: hours) or
 * not at all, and the previous hour's blob keeps receiving its last blocks after the hour turns. A blob
 * read to its end whose hour and grace are over is marked complete instead (settleHour), without a run.
 */
export async function sweepOnce(
  client: DurableClient,
  services: AppServices,
  now: Date,
  logger: InvocationContext | Console,
  options: SweepOptions = {},
): Promise<SweepResult> {
  const span = Math.max(1, Math.floor(options.hours ?? 2));
  const hourStart = new Date(Math.floor(now.getTime() / HOUR) * HOUR);
  const firstHour = new Date(hourStart.getTime() - (span - 1) * HOUR);
  const listed = await listFlowLogBlobs(services.config, firstHour, hourStart);
  // Every row of those hours (a partition range: no row limit, or unknown rows would be poked for nothing).
  const rows = await services.ledger.list({
    fromHour: hourPartition(firstHour),
    beforeHour: hourPartition(new Date(hourStart.getTime() + HOUR)),
    limit: Number.POSITIVE_INFINITY,
  });
  const known = new Map(rows.map((row) => [row.key, row]));
  const poked: string[] = [];
  const deadRuns: string[] = [];
  const settled: string[] = [];
  for (const blob of listed) {
    const key = blobKey(blob.ref);
    const row = known.get(key);
    // Data ends 2 bytes before contentLength (the closing `]}`).
    if (row && row.state !== 'failed' && row.consumedBytes >= blob.contentLength - 2) {
      if (!row.hourComplete && row.state === 'ok' && (await settle(client, services, now, blob, row)))
        settled.push(key);
      continue;
    }
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
    'sweep.deepSweeps': span > 2 ? 1 : 0,
    'sweep.blobsListed': listed.length,
    'sweep.blobsPoked': poked.length,
    'sweep.deadRunsReplaced': deadRuns.length,
    'sweep.hoursSettled': settled.length,
  });
  return { listed: listed.length, poked, deadRuns, settled };
}

/**
 * A caught-up blob whose ledger row is not complete: if its hour plus the grace is over, read the entity
 * and judge it with the entity's own rule; when that says complete, signal the entity to decide it on its
 * latest state and write the row of the state judged. Its revision stays (settling is not a run's change),
 * so if a block came meanwhile, the run that reads it writes a newer row. Once per blob-hour: then the
 * row is complete.
 */
async function settle(
  client: DurableClient,
  services: AppServices,
  now: Date,
  blob: ListedBlob,
  row: LedgerRow,
): Promise<boolean> {
  const graceMs = services.config.hourGraceMs;
  const hourEnd = hourEndOf(blob.ref);
  if (hourEnd === undefined || now.getTime() < hourEnd + graceMs) return false;
  const key = row.key;
  const read = await client.readEntityState<BlobState>(blobEntity(key));
  if (!read.entityExists || !read.entityState) return false;
  const state = withDefaults(read.entityState);
  const check = { at: now.toISOString(), contentLength: blob.contentLength, graceMs };
  const { state: next, verdict } = settleHour(state, check);
  if (verdict.status !== 'complete') return false;
  // Complete already (a run's ledger write of the same revision landed after an earlier sweep's): only
  // the row is behind.
  if (verdict.changed)
    await client.signalEntity(blobEntity(key), blobOps.settleHour, {
      at: check.at,
      contentLength: check.contentLength,
    });
  await services.ledger.upsertIfNewer(ledgerRowOf(key, blob.ref, next, now.toISOString()));
  return true;
}

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
