/**
 * Threat feeds (domain/enrich/threat-feed.ts) fetched from their URLs and kept as one JSON blob in host
 * storage that every worker's enricher loads, beside the Azure topology, under the user's CSV / table
 * labels; or read once from files or URLs by the CLI (`--threat-feed`).
 *
 * A refresh asks each feed with If-None-Match / If-Modified-Since (most feeds answer 304 until they
 * change; Spamhaus asks clients not to download DROP more than once an hour). A feed that fails keeps
 * the entries it had, so a feed host being down never empties the list; the failure is stored with the
 * feed and counted. Only https (plain http only on loopback, for the offline stack), at most
 * MAX_FEED_BYTES per feed, one minute per request.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BlobClient, BlockBlobClient } from '@azure/storage-blob';
import {
  EnrichmentDataError,
  isThreatFeedName,
  type Label,
  type PrefixEntry,
  parseThreatFeed,
} from '../../domain/enrich';
import { isLoopbackEndpoint } from './arm';
import { errorText } from './mmdb';
import { readStoredDocument } from './stored-document';
import { storedAgeMs } from './topology';

/** Where the fetched feeds are kept, in the staging container of host storage. */
export const THREAT_FEEDS_BLOB = 'enrichment/threat-feeds.json';
export const THREAT_FEEDS_FORMAT = 'flowlog-threat-feeds/1';
/** The largest feed read (FireHOL level 4, among the largest public lists, is ~2 MB). */
export const MAX_FEED_BYTES = 32 << 20;
const FETCH_TIMEOUT_MS = 60_000;
const DATASET = 'threat feeds';

export interface ThreatFeedSpec {
  /** The label of its rows. */
  readonly name: string;
  /** An https URL, or (CLI only) a file path. */
  readonly location: string;
}

/** Thrown for a feed list that cannot be used; the caller names the setting or flag. */
export class ThreatFeedListError extends Error {
  override readonly name = 'ThreatFeedListError';
}

function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** An https URL, or http on loopback (the offline stack); anything else is refused. */
export function feedUrl(location: string): URL {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new ThreatFeedListError(`${JSON.stringify(location)} is not a URL`);
  }
  if (url.protocol === 'https:' || isLoopbackEndpoint(url)) return url;
  throw new ThreatFeedListError(
    `${location}: feeds are fetched over https only (plain http is allowed on loopback alone)`,
  );
}

/**
 * `name=location` items, comma-separated (a bare location is named after its file name without the
 * extension: `https://www.spamhaus.org/drop/drop.txt` → `drop`). `urlsOnly`: the app, which reads no
 * local files.
 */
export function parseThreatFeedList(text: string, urlsOnly: boolean): ThreatFeedSpec[] {
  const specs: ThreatFeedSpec[] = [];
  for (const item of text.split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    const named = eq > 0 && !isUrl(trimmed.slice(0, eq));
    const location = (named ? trimmed.slice(eq + 1) : trimmed).trim();
    if (location === '') throw new ThreatFeedListError(`feed ${trimmed.slice(0, eq)} has no location`);
    // Checked first: a malformed URL is a ThreatFeedListError, not a TypeError from naming it.
    const url = isUrl(location) ? feedUrl(location) : null;
    const name = named
      ? trimmed.slice(0, eq).trim()
      : basename(url === null ? location : url.pathname).replace(/\.[^.]*$/, '');
    if (!isThreatFeedName(name))
      throw new ThreatFeedListError(
        `feed name ${JSON.stringify(name)} (of ${location}) must be 1 to 64 letters, digits, '.', '_' or '-'; write name=location`,
      );
    if (url === null && urlsOnly)
      throw new ThreatFeedListError(`${location}: the app fetches feeds from https URLs, not files`);
    if (specs.some((s) => s.name === name))
      throw new ThreatFeedListError(`two feeds are named ${name}; name them name=location`);
    specs.push({ name, location });
  }
  return specs;
}

export type FetchLike = (url: URL, init: RequestInit) => Promise<Response>;

interface Conditional {
  readonly etag: string | null;
  readonly lastModified: string | null;
}

type FetchedFeed =
  | { readonly status: 'unchanged' }
  | {
      readonly status: 'fetched';
      readonly text: string;
      readonly etag: string | null;
      readonly lastModified: string | null;
    };

/** Reads a response body up to maxBytes. */
async function boundedText(response: Response, source: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(source, maxBytes);
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(source, maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(source: string, maxBytes: number): EnrichmentDataError {
  return new EnrichmentDataError(
    DATASET,
    source,
    'corrupt',
    `larger than ${maxBytes} bytes: not a blocklist this app reads (check the URL)`,
  );
}

/** One feed's text: from its URL (conditionally, when `previous` says what was fetched) or its file. */
export async function fetchFeed(
  spec: ThreatFeedSpec,
  previous: Conditional | null,
  fetchImpl: FetchLike = (url, init) => fetch(url, init),
  maxBytes = MAX_FEED_BYTES,
): Promise<FetchedFeed> {
  if (!isUrl(spec.location)) {
    try {
      return {
        status: 'fetched',
        text: await readFile(spec.location, 'utf8'),
        etag: null,
        lastModified: null,
      };
    } catch (cause) {
      throw new EnrichmentDataError(
        DATASET,
        spec.location,
        'missing',
        `cannot read the file (${errorText(cause)})`,
        {
          cause,
        },
      );
    }
  }
  const url = feedUrl(spec.location);
  const headers: Record<string, string> = { accept: 'text/plain, */*' };
  if (previous?.etag) headers['if-none-match'] = previous.etag;
  if (previous?.lastModified) headers['if-modified-since'] = previous.lastModified;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers,
      redirect: 'follow',
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new EnrichmentDataError(
      DATASET,
      spec.location,
      'missing',
      `cannot fetch the feed (${errorText(cause)})`,
      {
        cause,
      },
    );
  }
  // A redirect must not leave https either (its answer is not used).
  if (response.url !== '' && response.url !== url.href) {
    try {
      feedUrl(response.url);
    } catch (cause) {
      throw new EnrichmentDataError(
        DATASET,
        spec.location,
        'corrupt',
        `redirected to ${response.url}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  if (response.status === 304 && previous !== null) return { status: 'unchanged' };
  if (!response.ok)
    throw new EnrichmentDataError(
      DATASET,
      spec.location,
      'missing',
      `the feed answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    );
  return {
    status: 'fetched',
    text: await boundedText(response, spec.location, maxBytes),
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
  };
}

/** One feed as stored: its entries (canonical blocks) and what the last attempt said. */
export interface StoredFeed {
  readonly name: string;
  readonly location: string;
  /** When the entries were last fetched (null: never). */
  readonly fetchedAt: string | null;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly entries: string[];
  readonly skipped: number;
  /** The last attempt's failure (the entries are then the ones fetched before), or null. */
  readonly error: string | null;
  readonly checkedAt: string;
}

export interface ThreatFeedsDocument {
  readonly format: typeof THREAT_FEEDS_FORMAT;
  readonly refreshedAt: string;
  readonly feeds: StoredFeed[];
}

/** The stored document, or null when there is none yet; EnrichmentDataError when it is unreadable. */
export async function readThreatFeedsDocument(blob: BlobClient): Promise<ThreatFeedsDocument | null> {
  const source = `threat feeds ${blob.url}`;
  const doc = await readStoredDocument(blob, DATASET, source, 'the stored feeds');
  if (doc === null) return null;
  const d = doc as Partial<ThreatFeedsDocument> | null;
  if (d === null || typeof d !== 'object' || d.format !== THREAT_FEEDS_FORMAT || !Array.isArray(d.feeds))
    throw new EnrichmentDataError(
      DATASET,
      source,
      'corrupt',
      `not a ${THREAT_FEEDS_FORMAT} document; delete it, the next refresh writes it again`,
    );
  return d as ThreatFeedsDocument;
}

/** The stored feeds as `threat` label entries (each feed's name its label), or null before the first refresh. */
export async function readThreatFeedLabels(blob: BlobClient): Promise<PrefixEntry<Label>[] | null> {
  const doc = await readThreatFeedsDocument(blob);
  if (doc === null) return null;
  return doc.feeds.flatMap(
    (f) => parseThreatFeed(f.entries.join('\n'), f.name, `${f.location} (stored)`).rows,
  );
}

/** The CLI's feeds: each file or URL read once, now. */
export async function loadThreatFeeds(
  specs: readonly ThreatFeedSpec[],
  fetchImpl?: FetchLike,
): Promise<{ rows: PrefixEntry<Label>[]; details: string[] }> {
  const rows: PrefixEntry<Label>[] = [];
  const details: string[] = [];
  for (const spec of specs) {
    const got = await fetchFeed(spec, null, fetchImpl);
    if (got.status !== 'fetched') continue;
    const parsed = parseThreatFeed(got.text, spec.name, spec.location);
    rows.push(...parsed.rows);
    details.push(
      `threat feed ${spec.name}: ${parsed.rows.length} blocks${parsed.skipped > 0 ? `, ${parsed.skipped} lines skipped (${parsed.skippedExamples.join('; ')})` : ''}${parsed.masked > 0 ? `, ${parsed.masked} with host bits set (taken as their network)` : ''}`,
    );
  }
  return { rows, details };
}

export interface ThreatFeedsRefreshOptions {
  readonly feeds: readonly ThreatFeedSpec[];
  readonly blob: BlockBlobClient;
  readonly now: Date;
  /** Fetch only when the stored document is older than this (0: always), or the list of feeds changed. */
  readonly maxAgeMs: number;
  readonly fetch?: FetchLike;
  /** Largest feed read (default MAX_FEED_BYTES). */
  readonly maxFeedBytes?: number;
}

export interface FeedOutcome {
  readonly name: string;
  readonly status: 'fetched' | 'unchanged' | 'failed';
  readonly entries: number;
  readonly error?: string;
}

export type ThreatFeedsRefreshResult =
  | { readonly status: 'fresh'; readonly ageMs: number }
  | { readonly status: 'written'; readonly feeds: FeedOutcome[] };

/** Fetches every feed (conditionally) and stores them, unless the stored ones are fresh. */
export async function refreshThreatFeeds(
  options: ThreatFeedsRefreshOptions,
): Promise<ThreatFeedsRefreshResult> {
  const age = await storedAgeMs(options.blob, options.now);
  let stored: ThreatFeedsDocument | null = null;
  try {
    stored = age === null ? null : await readThreatFeedsDocument(options.blob);
  } catch (error) {
    // A damaged document is replaced by this refresh.
    if (!(error instanceof EnrichmentDataError)) throw error;
  }
  const sameList =
    stored !== null &&
    stored.feeds.length === options.feeds.length &&
    options.feeds.every((f) => stored?.feeds.some((s) => s.name === f.name && s.location === f.location));
  // A feed that failed last time is tried again at the next refresh, fresh or not.
  const failed = stored?.feeds.some((f) => f.error !== null) ?? false;
  if (age !== null && age < options.maxAgeMs && sameList && !failed) return { status: 'fresh', ageMs: age };
  const at = options.now.toISOString();
  const feeds: StoredFeed[] = [];
  const outcomes: FeedOutcome[] = [];
  for (const spec of options.feeds) {
    const previous = stored?.feeds.find((s) => s.name === spec.name && s.location === spec.location) ?? null;
    try {
      const got = await fetchFeed(
        spec,
        previous?.fetchedAt ? previous : null,
        options.fetch,
        options.maxFeedBytes,
      );
      if (got.status === 'unchanged' && previous !== null) {
        feeds.push({ ...previous, error: null, checkedAt: at });
        outcomes.push({ name: spec.name, status: 'unchanged', entries: previous.entries.length });
        continue;
      }
      if (got.status !== 'fetched') throw new Error('internal: unchanged without a previous fetch');
      const parsed = parseThreatFeed(got.text, spec.name, spec.location);
      feeds.push({
        name: spec.name,
        location: spec.location,
        fetchedAt: at,
        etag: got.etag,
        lastModified: got.lastModified,
        entries: parsed.rows.map((r) => r.value.cidr),
        skipped: parsed.skipped,
        error: null,
        checkedAt: at,
      });
      outcomes.push({ name: spec.name, status: 'fetched', entries: parsed.rows.length });
    } catch (cause) {
      if (!(cause instanceof EnrichmentDataError)) throw cause;
      // Keep what was fetched before: a feed host being down must not empty the list.
      feeds.push({
        name: spec.name,
        location: spec.location,
        fetchedAt: previous?.fetchedAt ?? null,
        etag: previous?.etag ?? null,
        lastModified: previous?.lastModified ?? null,
        entries: previous?.entries ?? [],
        skipped: previous?.skipped ?? 0,
        error: cause.message,
        checkedAt: at,
      });
      outcomes.push({
        name: spec.name,
        status: 'failed',
        entries: previous?.entries.length ?? 0,
        error: cause.message,
      });
    }
  }
  const doc: ThreatFeedsDocument = { format: THREAT_FEEDS_FORMAT, refreshedAt: at, feeds };
  const body = Buffer.from(JSON.stringify(doc));
  await options.blob.upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
  return { status: 'written', feeds: outcomes };
}
