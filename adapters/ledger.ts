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
}

const PARTITION = 'blob';

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

  async upsert(row: LedgerRow): Promise<void> {
    try {
      countStorageOp('tableWrite');
      await (await this.table()).upsertEntity(
        { partitionKey: PARTITION, rowKey: row.key, ...row },
        'Replace',
      );
    } catch (cause) {
      throw new ExternalError(
        `ledger ${row.key}: write failed (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }

  async get(key: string): Promise<LedgerRow | undefined> {
    try {
      countStorageOp('tableRead');
      const e = await (await this.table()).getEntity<LedgerRow>(PARTITION, key);
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

  /** Rows in a state (failed / lagging / ...), newest first, at most `limit`. */
  async list(state?: BlobHealth, limit = 1000): Promise<LedgerRow[]> {
    const table = await this.table();
    const filter = state
      ? `PartitionKey eq '${PARTITION}' and state eq '${state}'`
      : `PartitionKey eq '${PARTITION}'`;
    const rows: LedgerRow[] = [];
    countStorageOp('tableRead');
    for await (const e of table.listEntities<LedgerRow>({ queryOptions: { filter } })) {
      rows.push(strip(e));
      if (rows.length >= limit) break;
    }
    return rows.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }
}

function strip(
  e: LedgerRow & { partitionKey?: string; rowKey?: string; etag?: string; timestamp?: string },
): LedgerRow {
  const { partitionKey: _p, rowKey: _r, etag: _e, timestamp: _t, ...row } = e;
  return row;
}
