// Azurite Blob + Table storage started in-process on loopback, for tests and the local runtime.
// Each call starts its own pair of servers on random ports with their own in-memory stores, so any
// number of instances may run at once, in one process or many. See docs offline-testing.md §1.

import { once } from 'node:events';
import { dirname } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import type BlobConfigurationClass from 'azurite/dist/src/blob/BlobConfiguration';
import type BlobServerClass from 'azurite/dist/src/blob/BlobServer';
import type { MemoryExtentChunkStore as MemoryExtentChunkStoreClass } from 'azurite/dist/src/common/persistence/MemoryExtentStore';
import type ServerBase from 'azurite/dist/src/common/ServerBase';
import type TableConfigurationClass from 'azurite/dist/src/table/TableConfiguration';
import type TableServerClass from 'azurite/dist/src/table/TableServer';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  readonly accountName: string;
  readonly accountKey: string;
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly blobEndpoint: string;
  /** `http://127.0.0.1:PORT/devstoreaccount1` */
  readonly tableEndpoint: string;
  /** Account connection string carrying both BlobEndpoint and TableEndpoint. */
  readonly connectionString: string;
  /** A new client for this instance's blob service. */
  blobServiceClient(): BlobServiceClient;
  /** A new client for one table of this instance (plain http allowed). The table is not created. */
  tableClient(table: string): TableClient;
  /** Closes both servers and their open sockets; idempotent. */
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Accounting cap of the blob server's in-memory extent store. Default 1 GiB. */
  readonly blobMemoryLimitBytes?: number;
  /**
   * How often the blob server frees the data of deleted blobs. Azurite's default is 10 minutes, and its
   * sweep removes extents one by one with a scan each: after 10 minutes of an app that stages and deletes
   * blobs every run it blocked the process for ~150 s. Default here: 10 s (tens of milliseconds a sweep).
   */
  readonly blobGcIntervalMs?: number;
}

interface AzuriteModules {
  BlobServer: typeof BlobServerClass;
  BlobConfiguration: typeof BlobConfigurationClass;
  TableServer: typeof TableServerClass;
  TableConfiguration: typeof TableConfigurationClass;
  MemoryExtentChunkStore: typeof MemoryExtentChunkStoreClass;
}

let modules: AzuriteModules | undefined;

/** The part of LokiJS's Collection (Azurite's in-memory database) that the removal fix touches. */
interface LokiCollectionProto {
  find(query: object): object[];
  chain(): { find(query: object): { remove(): unknown } };
  remove(doc: object): unknown;
  findAndRemove(query: object): void;
  /** Marks the fix so a second load (another Azurite in the process) does not wrap it twice. */
  flowlogSingleRemove?: true;
}

/** The part of LokiJS's Resultset the lookup fix touches. */
interface LokiResultset {
  filteredrows: number[];
  filterInitialized: boolean;
  readonly collection: {
    readonly adaptiveBinaryIndices: boolean;
    readonly binaryIndices: Record<string, { readonly dirty: boolean } | undefined>;
    readonly data: readonly Record<string, unknown>[];
    calculateRange(op: '$eq', prop: string, value: unknown): [number, number];
    chain(): LokiResultset;
  };
  find(query?: unknown, firstOnly?: boolean): LokiResultset;
  flowlogSelectiveFind?: true;
}

/**
 * Above this many matches a removal goes back to LokiJS's batch path (one index rebuild for the lot);
 * below, one document at a time with the indexes updated in place is cheaper.
 */
export const LOKI_SINGLE_REMOVE_MAX = 32;

/**
 * LokiJS (1.5.12) removes what `findAndRemove` matches as a batch, and a batch removal from a collection
 * with binary indexes marks every index dirty: the next query sorts the whole collection again, once per
 * index. Azurite removes one document at a time that way (a blob, a block, an extent), so each removal
 * costs a sort of everything stored. Its blob GC deletes the extents of deleted blobs one by one without
 * yielding, and with the extents of a stream of staged and deleted blobs (flowlog's runs) a GC pass held
 * the emulator's thread for 1 to 6 s every ~13 s, growing with what is stored (the tail of issue 12's
 * capacity bench). Removing the matches one by one takes LokiJS's own adaptive path (each index updated
 * in place, linear): the same documents are removed and every index stays exact, so Azurite answers the
 * same, only sooner.
 */
function fixLokiRemoval(proto: LokiCollectionProto): void {
  if (proto.flowlogSingleRemove) return;
  proto.findAndRemove = function findAndRemove(this: LokiCollectionProto, query: object): void {
    const docs = this.find(query);
    if (docs.length > LOKI_SINGLE_REMOVE_MAX) {
      this.chain().find(query).remove();
      return;
    }
    for (const doc of docs) this.remove(doc);
  };
  proto.flowlogSingleRemove = true;
}

/** A shorthand equality value LokiJS can look up in a binary index. */
const isPlainValue = (v: unknown): v is string | number | boolean =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * LokiJS answers a query of several fields (`{accountName, containerName, name, snapshot}`, Azurite's
 * lookup of one blob; `{PartitionKey, RowKey}`, of one table entity) from the binary index of the FIRST
 * field only and filters the rest linearly. Azurite puts the account (or the partition: one ledger hour)
 * first, which every document shares, so each lookup scanned every blob or row stored: with 1,000 NICs'
 * blobs that was the emulator's largest cost once the GC stalls were gone. Here, a query of equalities on
 * a fresh result set is first tried with its most selective indexed field first (ranges from the indexes,
 * O(log n)). An AND of equalities matches the same documents in any order; if it matches at most one,
 * that is also the original's answer and the original's order cannot differ, so it is used. Otherwise the
 * original query runs as written, so results of several documents keep LokiJS's order exactly.
 */
function fixLokiLookups(proto: LokiResultset): void {
  if (proto.flowlogSelectiveFind) return;
  const original = proto.find;
  proto.find = function find(this: LokiResultset, query?: unknown, firstOnly?: boolean): LokiResultset {
    const reordered = this.filterInitialized ? undefined : selectiveOrder(this.collection, query);
    if (reordered !== undefined) {
      const probe = original.call(this.collection.chain(), reordered.query, false);
      const rows = probe.filteredrows;
      // An index range compares loosely; the one document found must equal every field strictly.
      const doc = rows.length === 1 ? this.collection.data[rows[0]!] : undefined;
      if (rows.length === 0 || (doc !== undefined && reordered.plain.every(([k, v]) => doc[k] === v))) {
        this.filteredrows = probe.filteredrows;
        this.filterInitialized = true;
        return this;
      }
    }
    return original.call(this, query, firstOnly);
  };
  proto.flowlogSelectiveFind = true;
}

/**
 * The query with its most selective indexed equality first (and its shorthand equalities), or undefined
 * when that changes nothing.
 */
function selectiveOrder(
  collection: LokiResultset['collection'],
  query: unknown,
): { query: object; plain: [string, unknown][] } | undefined {
  if (query === null || typeof query !== 'object' || Array.isArray(query)) return undefined;
  const entries = Object.entries(query as Record<string, unknown>);
  if (entries.length < 2 || !collection.adaptiveBinaryIndices) return undefined;
  let best = -1;
  let bestSize = Number.POSITIVE_INFINITY;
  for (const [i, [key, value]] of entries.entries()) {
    if (key.startsWith('$')) return undefined;
    const index = collection.binaryIndices[key];
    if (index === undefined || index.dirty || !isPlainValue(value)) continue;
    const [min, max] = collection.calculateRange('$eq', key, value);
    const size = Math.max(0, max - min + 1);
    if (size < bestSize) {
      best = i;
      bestSize = size;
    }
  }
  if (best <= 0) return undefined;
  return {
    query: Object.fromEntries([entries[best]!, ...entries.filter((_, i) => i !== best)]),
    plain: entries.filter(([, v]) => isPlainValue(v)),
  };
}

/** Both LokiJS fixes, once per process, on the LokiJS that Azurite loads. */
function fixLoki(): void {
  const lokiPath = require.resolve('lokijs', { paths: [dirname(require.resolve('azurite/package.json'))] });
  const Loki = require(lokiPath) as {
    Collection: { prototype: LokiCollectionProto };
    Resultset: { prototype: LokiResultset };
  };
  fixLokiRemoval(Loki.Collection.prototype);
  fixLokiLookups(Loki.Resultset.prototype);
}

/** Azurite is a devDependency and takes ~1 s to require, so it is loaded on first start only. */
function loadAzurite(): AzuriteModules {
  if (modules === undefined) {
    fixLoki();
    modules = {
      BlobServer: (
        require('azurite/dist/src/blob/BlobServer') as typeof import('azurite/dist/src/blob/BlobServer')
      ).default,
      BlobConfiguration: (
        require('azurite/dist/src/blob/BlobConfiguration') as typeof import('azurite/dist/src/blob/BlobConfiguration')
      ).default,
      TableServer: (
        require('azurite/dist/src/table/TableServer') as typeof import('azurite/dist/src/table/TableServer')
      ).default,
      TableConfiguration: (
        require('azurite/dist/src/table/TableConfiguration') as typeof import('azurite/dist/src/table/TableConfiguration')
      ).default,
      MemoryExtentChunkStore: (
        require('azurite/dist/src/common/persistence/MemoryExtentStore') as typeof import('azurite/dist/src/common/persistence/MemoryExtentStore')
      ).MemoryExtentChunkStore,
    };
  }
  return modules;
}

const HOST = '127.0.0.1';
const KEEP_ALIVE_SECONDS = 5;
let instanceCounter = 0;

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const az = loadAzurite();
  // Loki in-memory databases are per instance already; distinct names keep log lines apart.
  const tag = `${process.pid}-${++instanceCounter}`;
  const loose = true;
  const skipApiVersionCheck = true;
  const inMemory = true;

  const blobConfig = new az.BlobConfiguration(
    HOST,
    0,
    KEEP_ALIVE_SECONDS,
    `__flowlog_blob_${tag}__.json`,
    `__flowlog_blob_extent_${tag}__.json`,
    [],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    loose,
    skipApiVersionCheck,
    '',
    '',
    '',
    undefined,
    false, // disableProductStyleUrl: Azurite's default
    inMemory,
    new az.MemoryExtentChunkStore(options.blobMemoryLimitBytes ?? 1024 * 1024 * 1024),
  );
  const tableConfig = new az.TableConfiguration(
    HOST,
    0,
    KEEP_ALIVE_SECONDS,
    `__flowlog_table_${tag}__.json`,
    false, // debug log
    false, // access log
    undefined,
    undefined,
    loose,
    skipApiVersionCheck,
    '',
    '',
    '',
    undefined,
    false, // disableProductStyleUrl: Azurite's default
    inMemory,
  );

  const blobServer = new az.BlobServer(blobConfig);
  // The GC manager reads its interval after each sweep, so setting it before start() is enough.
  if (blobServer.gcManager) blobServer.gcManager.gcIntervalInMS = options.blobGcIntervalMs ?? 10_000;
  const tableServer = new az.TableServer(tableConfig);
  const started: ServerBase[] = [];
  try {
    await blobServer.start();
    started.push(blobServer);
    await tableServer.start();
    started.push(tableServer);
  } catch (err) {
    await Promise.allSettled(started.map(closeServer));
    throw err;
  }

  const blobEndpoint = `${blobServer.getHttpServerAddress()}/${AZURITE_ACCOUNT_NAME}`;
  const tableEndpoint = `${tableServer.getHttpServerAddress()}/${AZURITE_ACCOUNT_NAME}`;
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `BlobEndpoint=${blobEndpoint};TableEndpoint=${tableEndpoint};`;

  let stopping: Promise<void> | undefined;
  return {
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    blobEndpoint,
    tableEndpoint,
    connectionString,
    blobServiceClient: () => BlobServiceClient.fromConnectionString(connectionString),
    tableClient: (table: string) =>
      TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true }),
    stop: () => {
      stopping ??= Promise.all([closeServer(blobServer), closeServer(tableServer)]).then(() => undefined);
      return stopping;
    },
  };
}

/** Azurite's close() fires the socket shutdown without awaiting it; wait for the listener to be gone. */
async function closeServer(server: ServerBase): Promise<void> {
  const http = server.httpServer;
  const closed = http.listening ? once(http, 'close') : Promise.resolve();
  await server.close();
  await closed;
}
