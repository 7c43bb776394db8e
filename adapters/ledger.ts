import type { TableClient } from '@azure/data-tables';
import { blobIdentityOfRef, blobIdOf } from '../domain/blob-identity';
import type { BlobRef } from '../domain/blob-ref';
import { type BlobState, lagBytes } from '../domain/blob-state';
import { tableClient } from './clients';
import type { AppConfig } from './config';
import { ExternalError, isRetryable } from './errors';
import { countStorageOp } from './storage-ops';

export type BlobHealth = 'ok' | 'lagging' | 'failed' | 'running';

/** One row per blob: what an operator asks "which blobs failed / lag?" of. */
export interface LedgerRow {
  readonly key: string;
  readonly account: string;
  readonly container: string;
  readonly name: string;
  /** The `blob` field of the blob's rows in its current generation (blobIdOf). */
  readonly blobId: string;
  readonly state: BlobHealth;
  readonly generation: number;
  readonly consumedBytes: number;
  readonly observedLength: number;
  readonly lagBytes: number;
  readonly records: number;
  readonly failureCount: number;
  readonly lastError: string;
  /** The entity's decision (domain/blob-state.ts hourStatus): hour and grace over, read to its end. */
  readonly hourComplete: boolean;
  /** When it became complete ('' while it is not; absent in rows written before it existed). */
  readonly hourCompletedAt?: string;
  readonly updatedAt: string;
  /** The entity state's revision this row was written from: an older one never replaces a newer one. */
  readonly revision: number;
}

/**
 * Rows are partitioned by the blob's hour (`yyyymmddhh`, from the blob key): the sweep reads only the
 * current and previous hour's partition, and housekeeping drops whole old hours.
 */
export interface LedgerQuery {
  readonly state?: BlobHealth;
  /** These hour partitions (at most 15: Azure Tables allow 15 comparisons in a filter). */
  readonly hours?: readonly string[];
  /** Partitions from this hour on (hourPartition text; with beforeHour, a range of any length). */
  readonly fromHour?: string;
  readonly beforeHour?: string;
  /** Rows returned at most (default 5,000). */
  readonly limit?: number;
}

/** The ledger row an operator queries (failed / lagging blobs), derived from the entity state. */
export function ledgerHealth(state: BlobState): BlobHealth {
  if (state.lastError !== null && state.failureCount > 0) return 'failed';
  return lagBytes(state) > 0 ? 'lagging' : 'ok';
}

/** The row of a blob's entity state; `updatedAt` defaults to the state's last run. */
export function ledgerRowOf(key: string, ref: BlobRef, state: BlobState, updatedAt?: string): LedgerRow {
  return {
    key,
    account: ref.account,
    container: ref.container,
    name: ref.name,
    blobId: blobIdOf(blobIdentityOfRef(ref, state.generation)),
    state: ledgerHealth(state),
    generation: state.generation,
    consumedBytes: state.cursor.byteOffset,
    observedLength: state.observedLength,
    lagBytes: lagBytes(state),
    records: state.cursor.recordOrdinal,
    failureCount: state.failureCount,
    lastError: state.lastError ?? '',
    hourComplete: state.hourComplete,
    hourCompletedAt: state.hourCompletedAt ?? '',
    updatedAt: updatedAt ?? state.lastRunAt ?? new Date(0).toISOString(),
    revision: state.revision,
  };
}

/** Where a blob stands in its hour, for GET /api/hours: one of these per blob, in this order. */
export type HourBlobState = 'failed' | 'lagging' | 'complete' | 'pending';

export function hourBlobState(row: LedgerRow): HourBlobState {
  if (row.state === 'failed') return 'failed';
  if (row.state === 'lagging' || row.lagBytes > 0) return 'lagging';
  // Read to what was seen; not complete yet: the hour or its grace is not over, or the sweep has not
  // settled it yet (it does within its interval once the grace is over).
  return row.hourComplete ? 'complete' : 'pending';
}

/** One hour across all blobs the ledger knows (every blob of the hour once an event or the sweep saw it). */
export interface HourSummary {
  /** `yyyymmddhh`, the ledger partition. */
  readonly hour: string;
  readonly blobs: number;
  readonly complete: number;
  readonly lagging: number;
  readonly failed: number;
  readonly pending: number;
  /** Every blob seen is complete (false for an hour without blobs). */
  readonly allComplete: boolean;
  readonly lagBytes: number;
  /** Blob keys per state, at most `maxKeys` each (`truncated` says whether any list was cut). */
  readonly keys: Readonly<Record<HourBlobState, readonly string[]>>;
  readonly truncated: boolean;
}

/** Counts one hour's rows in a single pass, keeping at most `maxKeys` keys per state. */
export class HourTally {
  private readonly counts: Record<HourBlobState, number> = { failed: 0, lagging: 0, complete: 0, pending: 0 };
  private readonly keys: Record<HourBlobState, string[]> = {
    failed: [],
    lagging: [],
    complete: [],
    pending: [],
  };
  private lag = 0;

  constructor(
    readonly hour: string,
    private readonly maxKeys: number,
  ) {}

  add(row: LedgerRow): void {
    const state = hourBlobState(row);
    this.counts[state]++;
    this.lag += row.lagBytes;
    if (this.keys[state].length < this.maxKeys) this.keys[state].push(row.key);
  }

  summary(): HourSummary {
    const c = this.counts;
    const blobs = c.failed + c.lagging + c.complete + c.pending;
    return {
      hour: this.hour,
      blobs,
      ...c,
      allComplete: blobs > 0 && c.complete === blobs,
      lagBytes: this.lag,
      keys: this.keys,
      truncated: (Object.keys(c) as HourBlobState[]).some((s) => c[s] > this.keys[s].length),
    };
  }
}

/** `yyyymmddhh` of an instant, the ledger's partition key format. */
export function hourPartition(date: Date): string {
  return date.toISOString().slice(0, 13).replace(/[-T]/g, '');
}

export function ledgerPartition(key: string): string {
  return key.split('-')[1] ?? 'nohour';
}

/** The blob ledger table (@azure/data-tables), written at the end of every run. */
export class Ledger {
  private client: TableClient | undefined;
  private ensured: Promise<unknown> | undefined;

  constructor(private readonly config: AppConfig) {}

  private async table(): Promise<TableClient> {
    this.client ??= tableClient(this.config.hostStorage, this.config.ledgerTable);
    this.ensured ??= this.client.createTable().catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 409) throw e;
    });
    await this.ensured;
    return this.client;
  }

  /**
   * Writes the row unless the table holds one of a later revision (optimistic concurrency on the row's
   * ETag, so two writers cannot interleave a read and a write). Returns whether it was written.
   */
  async upsertIfNewer(row: LedgerRow): Promise<boolean> {
    const table = await this.table();
    const entity = { partitionKey: ledgerPartition(row.key), rowKey: row.key, ...row };
    for (let attempt = 1; ; attempt++) {
      try {
        countStorageOp('tableRead');
        const current = await table
          .getEntity<LedgerRow>(entity.partitionKey, entity.rowKey)
          .catch((e: { statusCode?: number }) => {
            if (e.statusCode === 404) return undefined;
            throw e;
          });
        if (current !== undefined && (current.revision ?? -1) > row.revision) return false;
        countStorageOp('tableWrite');
        if (current === undefined) await table.createEntity(entity);
        else await table.updateEntity(entity, 'Replace', { etag: current.etag });
        return true;
      } catch (cause) {
        const status = (cause as { statusCode?: number }).statusCode;
        // 409: created meanwhile; 412: changed meanwhile. Read again and decide again.
        if ((status === 409 || status === 412) && attempt < 8) continue;
        throw new ExternalError(
          `ledger ${row.key}: write failed (${(cause as Error).message})`,
          isRetryable(cause),
          { cause },
        );
      }
    }
  }

  async get(key: string): Promise<LedgerRow | undefined> {
    try {
      countStorageOp('tableRead');
      const e = await (await this.table()).getEntity<LedgerRow>(ledgerPartition(key), key);
      return strip(e);
    } catch (cause) {
      if ((cause as { statusCode?: number }).statusCode === 404) return undefined;
      throw new ExternalError(
        `ledger ${key}: read failed (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }

  /**
   * Rows in a state (failed / lagging / ...), of some hours or before an hour (`yyyymmddhh`), newest
   * first, at most `limit`.
   */
  async list(query: LedgerQuery = {}): Promise<LedgerRow[]> {
    const { state, hours, fromHour, beforeHour, limit = 5000 } = query;
    if (hours && hours.length > 15)
      throw new RangeError(
        `ledger query for ${hours.length} hours: use fromHour/beforeHour (at most 15 listed)`,
      );
    const table = await this.table();
    const clauses: string[] = [];
    const quoted = (v: string) => `'${v.replace(/'/g, '')}'`;
    if (hours && hours.length > 0)
      clauses.push(`(${hours.map((h) => `PartitionKey eq ${quoted(h)}`).join(' or ')})`);
    if (fromHour) clauses.push(`PartitionKey ge ${quoted(fromHour)}`);
    if (beforeHour) clauses.push(`PartitionKey lt ${quoted(beforeHour)}`);
    if (state) clauses.push(`state eq ${quoted(state)}`);
    const rows: LedgerRow[] = [];
    countStorageOp('tableRead');
    const options = clauses.length > 0 ? { queryOptions: { filter: clauses.join(' and ') } } : {};
    for await (const e of table.listEntities<LedgerRow>(options)) {
      rows.push(strip(e));
      if (rows.length >= limit) break;
    }
    return rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /** One hour across all its blobs: one partition query, every row read (only the columns needed). */
  async summarizeHour(hour: string, maxKeys: number): Promise<HourSummary> {
    const table = await this.table();
    const tally = new HourTally(hour, maxKeys);
    countStorageOp('tableRead');
    try {
      for await (const e of table.listEntities<LedgerRow>({
        queryOptions: {
          filter: `PartitionKey eq '${hour.replace(/'/g, '')}'`,
          select: ['key', 'state', 'lagBytes', 'hourComplete'],
        },
      }))
        tally.add(strip(e));
    } catch (cause) {
      throw new ExternalError(
        `ledger hour ${hour}: read failed (${(cause as Error).message})`,
        isRetryable(cause),
        {
          cause,
        },
      );
    }
    return tally.summary();
  }

  /** Deletes the rows of one blob; missing rows are fine. */
  async delete(key: string): Promise<void> {
    countStorageOp('tableWrite');
    await (await this.table()).deleteEntity(ledgerPartition(key), key).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404)
        throw new ExternalError(`ledger ${key}: delete failed`, isRetryable(e), { cause: e });
    });
  }
}

function strip(
  e: LedgerRow & { partitionKey?: string; rowKey?: string; etag?: string; timestamp?: string },
): LedgerRow {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...row } = e;
  return row;
}
