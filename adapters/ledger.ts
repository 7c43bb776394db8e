import type { TableClient } from '@azure/data-tables';
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
  readonly hourComplete: boolean;
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
  readonly hours?: readonly string[];
  readonly beforeHour?: string;
  readonly limit?: number;
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
    const { state, hours, beforeHour, limit = 5000 } = query;
    const table = await this.table();
    const clauses: string[] = [];
    const quoted = (v: string) => `'${v.replace(/'/g, '')}'`;
    if (hours && hours.length > 0)
      clauses.push(`(${hours.map((h) => `PartitionKey eq ${quoted(h)}`).join(' or ')})`);
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
