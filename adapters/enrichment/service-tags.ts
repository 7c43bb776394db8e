/**
 * Azure service tags from a `ServiceTags_Public_*.json` file or a blob holding one.
 *
 * The index is rebuilt only when the document's top-level `changeNumber` changes: `refresh` first reads
 * the head of the file or blob (the first 1 KiB, where Microsoft's file has `changeNumber`) and stops
 * there when it is the number already loaded.
 *
 * Building the index of Microsoft's ~130,000 prefixes takes ~400 ms, so the built index is cached on disk
 * (adapters/enrichment/cache.ts), keyed by the file's path, size and modification time, or for a blob by a
 * hash of its bytes: the next start-up with the same document reads it back in a few milliseconds.
 */

import { open, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { BlobClient } from '@azure/storage-blob';
import { EnrichmentDataError, parseServiceTags, ServiceTagIndex } from '../../domain/enrich';
import { cacheFile, cacheKey, readCached, writeCached } from './cache';
import { errorText } from './mmdb';

const DATASET = 'service tags';
const HEAD_BYTES = 1024;

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** The top-level changeNumber from the head of the document, when it comes before `values`. */
export function peekChangeNumber(head: string): number | null {
  const values = head.indexOf('"values"');
  const m = /"changeNumber"\s*:\s*(\d+)/.exec(head);
  if (m === null || m[1] === undefined) return null;
  if (values >= 0 && m.index > values) return null;
  return Number(m[1]);
}

export interface ServiceTagsSourceOptions {
  /** For a blob URL without a SAS token; default: DefaultAzureCredential from @azure/identity. */
  readonly credential?: TokenCredential;
  /** A ready client for the blob (tests, or a caller with its own auth). */
  readonly blobClient?: BlobClient;
  /** Where built indexes are cached (adapters/enrichment/cache.ts); null or absent: no cache. */
  readonly cacheDir?: string | null;
}

export class ServiceTagsSource {
  readonly location: string;
  private readonly options: ServiceTagsSourceOptions;
  private client: BlobClient | undefined;
  /** How the last load got its index: `built`, `built, wrote …`, `read …` (for the source's details). */
  lastCache = 'none';

  constructor(location: string, options: ServiceTagsSourceOptions = {}) {
    this.location = location;
    this.options = options;
    this.client = options.blobClient;
  }

  /**
   * Reads the whole document and indexes it, or reads the index from the cache: for a file, keyed by its
   * path, size and modification time (nothing of the document is read on a hit); for a blob, by a hash of
   * the downloaded bytes.
   */
  async load(): Promise<ServiceTagIndex> {
    const cacheDir = this.options.cacheDir ?? null;
    const fromBlob = isUrl(this.location) || this.options.blobClient !== undefined;
    let key: string | null = null;
    if (cacheDir !== null && !fromBlob) {
      const st = await stat(this.location).catch(() => null);
      if (st?.isFile())
        key = cacheKey('service-tags-v1-file', resolve(this.location), String(st.size), String(st.mtimeMs));
      const index = key === null ? null : await this.readCachedIndex(cacheDir, key);
      if (index !== null) return index;
    }
    const bytes = await this.readAll();
    if (key === null) {
      key = cacheKey('service-tags-v1', bytes);
      const index = cacheDir === null ? null : await this.readCachedIndex(cacheDir, key);
      if (index !== null) return index;
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (cause) {
      throw new EnrichmentDataError(
        DATASET,
        this.location,
        'corrupt',
        `not valid JSON (${errorText(cause)})`,
        {
          cause,
        },
      );
    }
    const index = new ServiceTagIndex(parseServiceTags(json, this.location));
    this.lastCache =
      cacheDir === null
        ? 'built'
        : `built, ${await writeCached(cacheDir, 'service-tags', key, index.toBytes())}`;
    return index;
  }

  private async readCachedIndex(cacheDir: string, key: string): Promise<ServiceTagIndex | null> {
    const cached = await readCached(cacheDir, 'service-tags', key);
    const index = cached === null ? null : ServiceTagIndex.fromBytes(cached);
    if (index !== null) this.lastCache = `read ${cacheFile(cacheDir, 'service-tags', key)}`;
    return index;
  }

  /** A new index if the document's changeNumber differs from `current`'s, else null (nothing rebuilt). */
  async refresh(current: ServiceTagIndex | null): Promise<ServiceTagIndex | null> {
    if (current !== null) {
      const peeked = peekChangeNumber(await this.readHead());
      if (peeked === current.changeNumber) return null;
    }
    const next = await this.load();
    return current !== null && next.changeNumber === current.changeNumber ? null : next;
  }

  private async blob(): Promise<BlobClient> {
    if (this.client === undefined) {
      // Loaded on first use: most runs read the tags from a file and need neither SDK.
      const { BlobClient: Client } = require('@azure/storage-blob') as typeof import('@azure/storage-blob');
      if (new URL(this.location).searchParams.has('sig')) {
        this.client = new Client(this.location); // a SAS URL carries its own authorisation
      } else {
        const credential =
          this.options.credential ??
          new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential();
        this.client = new Client(this.location, credential);
      }
    }
    return this.client;
  }

  private async readAll(): Promise<Buffer> {
    if (isUrl(this.location) || this.options.blobClient !== undefined) {
      try {
        const client = await this.blob();
        return await client.downloadToBuffer();
      } catch (cause) {
        throw new EnrichmentDataError(
          DATASET,
          this.location,
          'missing',
          `cannot download the blob (${blobErrorText(cause)}); check the URL and that the app's identity (or the SAS) may read it`,
          { cause },
        );
      }
    }
    try {
      return await readFile(this.location);
    } catch (cause) {
      throw new EnrichmentDataError(
        DATASET,
        this.location,
        'missing',
        `cannot read the file (${errorText(cause)}); download ServiceTags_Public_YYYYMMDD.json from Microsoft (download id 56519) and pass it with --service-tags (FLOWLOG_SERVICE_TAGS_PATH)`,
        { cause },
      );
    }
  }

  private async readHead(): Promise<string> {
    if (isUrl(this.location) || this.options.blobClient !== undefined) {
      try {
        const client = await this.blob();
        return (await client.downloadToBuffer(0, HEAD_BYTES)).toString('utf8');
      } catch {
        return '';
      }
    }
    try {
      const handle = await open(this.location, 'r');
      try {
        const buf = Buffer.alloc(HEAD_BYTES);
        const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
        return buf.toString('utf8', 0, bytesRead);
      } finally {
        await handle.close();
      }
    } catch {
      return '';
    }
  }
}

function blobErrorText(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'statusCode' in e && typeof e.statusCode === 'number') {
    const code = 'code' in e && typeof e.code === 'string' ? ` ${e.code}` : '';
    return `HTTP ${e.statusCode}${code}`;
  }
  return errorText(e);
}
