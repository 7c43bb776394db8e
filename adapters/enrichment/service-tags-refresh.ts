/**
 * Service tags from the Service Tag Discovery API (`GET /subscriptions/{id}/providers/Microsoft.Network/
 * locations/{location}/serviceTags`) with the app's identity, stored in host storage in the format of
 * Microsoft's weekly download (`ServiceTags_Public_*.json`), so the existing loader reads it like a file:
 * `changeNumber` first (the loader's refresh peeks at the first KiB), then the values.
 *
 * A plain authenticated GET (adapters/enrichment/arm.ts) rather than `@azure/arm-network`: one call of a
 * package that is tens of megabytes; the answer is validated by the same parser the loader uses before
 * it replaces the stored document, so a bad answer never replaces a good one.
 */

import type { TokenCredential } from '@azure/identity';
import type { BlockBlobClient } from '@azure/storage-blob';
import { parseServiceTags } from '../../domain/enrich';
import { ArmError, type ArmRetryOptions, armJsonGetter } from './arm';
import { storedAgeMs } from './topology';

/** Where the refreshed document is kept, in the staging container of host storage. */
export const SERVICE_TAGS_BLOB = 'enrichment/service-tags.json';
export const SERVICE_TAGS_API_VERSION = '2024-05-01';

type Json = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The API gives change numbers as strings ("63"); the download and the loader use numbers. */
function changeNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

export interface ServiceTagsDownload {
  readonly changeNumber: number;
  readonly cloud: string;
  readonly values: Json[];
}

/** The API's pages in the download's shape (values of every page, change numbers as numbers). */
export function toDownloadFormat(pages: readonly unknown[], where: string): ServiceTagsDownload {
  const first = pages[0];
  const top = isObject(first) ? changeNumber(first['changeNumber']) : undefined;
  if (!isObject(first) || top === undefined)
    throw new ArmError(
      `${where}: the answer has no changeNumber; is this the Service Tag Discovery API?`,
      200,
      false,
    );
  const values: Json[] = [];
  for (const page of pages) {
    const list = isObject(page) ? page['values'] : undefined;
    if (!Array.isArray(list)) throw new ArmError(`${where}: a page has no values array`, 200, false);
    for (const v of list) {
      if (!isObject(v)) continue;
      const props = isObject(v['properties']) ? v['properties'] : {};
      const tagChange = changeNumber(props['changeNumber']);
      values.push({
        name: v['name'],
        id: v['id'],
        properties: {
          ...props,
          ...(tagChange === undefined ? {} : { changeNumber: tagChange }),
        },
      });
    }
  }
  return { changeNumber: top, cloud: typeof first['cloud'] === 'string' ? first['cloud'] : '', values };
}

export interface ServiceTagsFetchOptions {
  readonly endpoint: URL;
  readonly credential: TokenCredential;
  readonly subscriptionId: string;
  readonly location: string;
  readonly retry?: ArmRetryOptions;
}

/** Every page of the Discovery API (following `nextLink`), as a download-format document. */
export async function fetchServiceTags(options: ServiceTagsFetchOptions): Promise<ServiceTagsDownload> {
  const get = armJsonGetter(options);
  const first = new URL(
    `/subscriptions/${encodeURIComponent(options.subscriptionId)}/providers/Microsoft.Network/locations/${encodeURIComponent(options.location)}/serviceTags`,
    options.endpoint,
  );
  first.searchParams.set('api-version', SERVICE_TAGS_API_VERSION);
  const pages: unknown[] = [];
  let next: string | undefined = first.toString();
  while (next !== undefined) {
    const page = await get(next, `Service Tag Discovery API, page ${pages.length + 1}`);
    pages.push(page);
    const link = isObject(page) ? page['nextLink'] : undefined;
    next = typeof link === 'string' && link !== '' ? link : undefined;
    if (pages.length > 1000)
      throw new ArmError('Service Tag Discovery API: more than 1,000 pages', 200, false);
  }
  return toDownloadFormat(pages, 'Service Tag Discovery API');
}

export interface ServiceTagsRefreshOptions extends ServiceTagsFetchOptions {
  readonly blob: BlockBlobClient;
  readonly now: Date;
  /** Refresh only when the stored document is older than this. */
  readonly maxAgeMs: number;
}

export type ServiceTagsRefreshResult =
  | { readonly status: 'fresh'; readonly ageMs: number }
  | {
      readonly status: 'written';
      readonly changeNumber: number;
      readonly tags: number;
      readonly prefixes: number;
    };

/** Fetches the service tags and stores them, unless the stored document is younger than maxAgeMs. */
export async function refreshServiceTags(
  options: ServiceTagsRefreshOptions,
): Promise<ServiceTagsRefreshResult> {
  const age = await storedAgeMs(options.blob, options.now);
  if (age !== null && age < options.maxAgeMs) return { status: 'fresh', ageMs: age };
  const doc = await fetchServiceTags(options);
  // The loader's own parser: what is stored is what the enricher will accept.
  const parsed = parseServiceTags(doc, 'Service Tag Discovery API');
  const body = Buffer.from(JSON.stringify(doc));
  await options.blob.upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
  return {
    status: 'written',
    changeNumber: parsed.changeNumber,
    tags: parsed.tags.length,
    prefixes: parsed.prefixes.length,
  };
}
