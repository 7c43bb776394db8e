import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import { listFlowLogBlobs } from '../adapters/blob-listing';
import { hourPartition } from '../adapters/ledger';
import { blobKey } from '../domain/blob-ref';
import { record } from './metrics';
import { blobOps } from './names';
import { blobEntity, ensureRun } from './runs';
import type { AppServices } from './services';

const HOUR = 3_600_000;

export interface SweepResult {
  readonly listed: number;
  readonly poked: string[];
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
  for (const blob of listed) {
    const key = blobKey(blob.ref);
    const row = known.get(key);
    // Data ends 2 bytes before contentLength (the closing `]}`).
    if (row && row.state !== 'failed' && row.consumedBytes >= blob.contentLength - 2) continue;
    if (row?.state === 'failed' && row.observedLength >= blob.contentLength && row.failureCount >= 5)
      continue;
    await client.signalEntity(blobEntity(key), blobOps.observe, {
      ref: blob.ref,
      contentLength: blob.contentLength,
      eTag: '',
      sequencer: '',
      at: now.toISOString(),
    });
    await ensureRun(client, blob.ref, key, { waitMs: 0, contentLength: blob.contentLength });
    poked.push(key);
  }
  record(services.counters, logger, { 'sweep.blobsListed': listed.length, 'sweep.blobsPoked': poked.length });
  return { listed: listed.length, poked };
}

/** Hours of finished blobs kept (entity state, run history, ledger row) before housekeeping removes them. */
export const RETENTION_HOURS = 48;

export interface HousekeepingResult {
  readonly removed: string[];
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
    await client.signalEntity(blobEntity(row.key), blobOps.forget);
    await client.purgeInstanceHistory(row.key).catch(() => undefined);
    await services.ledger.delete(row.key);
    removed.push(row.key);
  }
  return { removed };
}
