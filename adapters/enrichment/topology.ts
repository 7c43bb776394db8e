/**
 * Topology labels read from Azure Resource Graph with the app's identity (Reader), kept as one JSON blob
 * in host storage that every worker's enricher loads under the user's CSV / table labels.
 *
 * Why Resource Graph (`@azure/arm-resourcegraph`) and not the ARM network SDK: one paged KQL query covers
 * every subscription the identity can see (or a list) and every resource type needed, where
 * `@azure/arm-network` needs a subscription listing plus one list call per type per subscription, and the
 * package is a small fraction of `@azure/arm-network`'s size. Both are generated and released by the
 * Azure SDK team; Resource Graph's index lags ARM by seconds to minutes, well inside an hourly refresh.
 */

import type { QueryRequest, QueryResponse } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/identity';
import type { BlobClient, BlockBlobClient } from '@azure/storage-blob';
import {
  EnrichmentDataError,
  type Label,
  type LabelRowInput,
  type PrefixEntry,
  validateLabelRows,
} from '../../domain/enrich';
import { TOPOLOGY_RESOURCE_TYPES, type TopologyRow, topologyRows } from '../../domain/enrich/topology';
import {
  ArmError,
  type ArmRetryOptions,
  armCredential,
  armScope,
  isLoopbackEndpoint,
  useLocalAuthOnLoopback,
  withArmRetries,
} from './arm';
import { readStoredDocument } from './stored-document';

/** Where the refreshed topology is kept, in the staging container of host storage. */
export const TOPOLOGY_BLOB = 'enrichment/topology.json';
export const TOPOLOGY_FORMAT = 'flowlog-topology/1';

/** Resource Graph takes at most 1,000 subscriptions per request and 1,000 rows per page. */
const SUBSCRIPTIONS_PER_QUERY = 1000;
const PAGE_ROWS = 1000;

export const TOPOLOGY_QUERY = [
  'Resources',
  `| where type in~ (${TOPOLOGY_RESOURCE_TYPES.map((t) => `'${t}'`).join(', ')})`,
  // `id` keeps the pages in a stable order (Resource Graph's paging needs it).
  '| project id, name, type, subscriptionId, properties',
  '| order by id asc',
].join('\n');

/** Which subscriptions: every one the identity can see, or a list. */
export type TopologyScope = 'all' | readonly string[];

/** What the query needs of the Resource Graph client (tests may pass their own). */
export interface ResourceGraphLike {
  resources(query: QueryRequest): Promise<QueryResponse>;
}

/** A Resource Graph client on the endpoint, with its own retries off (withArmRetries owns them). */
export function resourceGraphClient(endpoint: URL, identity: () => TokenCredential): ResourceGraphLike {
  const { ResourceGraphClient } =
    require('@azure/arm-resourcegraph') as typeof import('@azure/arm-resourcegraph');
  const credential = armCredential(endpoint, identity);
  const client = new ResourceGraphClient(credential, {
    endpoint: endpoint.origin,
    credentials: { scopes: [armScope(endpoint)] },
    retryOptions: { maxRetries: 0 },
    // Plain http only for the loopback test server (armEndpoint refuses it anywhere else).
    allowInsecureConnection: isLoopbackEndpoint(endpoint),
  });
  useLocalAuthOnLoopback(client.pipeline, endpoint, credential);
  return client;
}

/** Every resource of the topology types in scope, page by page (`$skipToken`). */
export async function queryTopology(
  graph: ResourceGraphLike,
  scope: TopologyScope,
  retry: ArmRetryOptions = {},
): Promise<unknown[]> {
  const batches: (readonly string[] | null)[] = [];
  if (scope === 'all') batches.push(null);
  else
    for (let i = 0; i < scope.length; i += SUBSCRIPTIONS_PER_QUERY)
      batches.push(scope.slice(i, i + SUBSCRIPTIONS_PER_QUERY));
  const out: unknown[] = [];
  for (const subscriptions of batches) {
    let skipToken: string | undefined;
    let page = 0;
    do {
      page++;
      const request: QueryRequest = {
        query: TOPOLOGY_QUERY,
        ...(subscriptions === null ? {} : { subscriptions: [...subscriptions] }),
        options: {
          resultFormat: 'objectArray',
          ...(skipToken === undefined ? { top: PAGE_ROWS } : { skipToken }),
          // Without a subscription list the query runs at tenant scope; more subscriptions than one
          // request may cover then give the covered part instead of an error.
          ...(subscriptions === null ? { allowPartialScopes: true } : {}),
        },
      };
      const response = await withArmRetries(
        `Resource Graph query, page ${page}`,
        () => graph.resources(request),
        retry,
      );
      if (!Array.isArray(response.data))
        throw new ArmError(
          `Resource Graph query, page ${page}: data is not an array of rows (resultFormat objectArray)`,
          200,
          false,
        );
      out.push(...(response.data as unknown[]));
      if (response.resultTruncated === 'true' && response.skipToken === undefined)
        throw new ArmError(
          `Resource Graph query, page ${page}: the result is truncated and has no $skipToken`,
          200,
          false,
        );
      skipToken = response.skipToken ?? undefined;
    } while (skipToken !== undefined && skipToken !== '');
  }
  return out;
}

export interface TopologyDocument {
  readonly format: typeof TOPOLOGY_FORMAT;
  readonly refreshedAt: string;
  readonly scope: 'all' | string[];
  readonly resources: number;
  readonly rows: TopologyRow[];
  readonly skipped: string[];
}

export function topologyDocument(
  resources: readonly unknown[],
  scope: TopologyScope,
  now: Date,
): TopologyDocument {
  const { rows, skipped } = topologyRows(resources);
  return {
    format: TOPOLOGY_FORMAT,
    refreshedAt: now.toISOString(),
    scope: scope === 'all' ? 'all' : [...scope],
    resources: resources.length,
    rows,
    skipped,
  };
}

/** The stored topology as label entries, or null when nothing was stored yet (before the first refresh). */
export async function readTopologyLabels(blob: BlobClient): Promise<PrefixEntry<Label>[] | null> {
  const source = `topology ${blob.url}`;
  const doc = await readStoredDocument(blob, 'labels', source, 'the stored topology');
  if (doc === null) return null;
  const rows =
    typeof doc === 'object' &&
    doc !== null &&
    'format' in doc &&
    doc.format === TOPOLOGY_FORMAT &&
    'rows' in doc
      ? doc.rows
      : undefined;
  if (!Array.isArray(rows))
    throw new EnrichmentDataError(
      'labels',
      source,
      'corrupt',
      `not a ${TOPOLOGY_FORMAT} document; delete it, the next refresh writes it again`,
    );
  const inputs: LabelRowInput[] = rows.map((r: unknown, i) => {
    const row = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    return {
      cidr: row['cidr'],
      label: row['label'],
      kind: row['kind'],
      where: `row ${i} (${typeof row['resource'] === 'string' ? row['resource'] : 'unknown resource'})`,
    };
  });
  return validateLabelRows(inputs, source);
}

export interface TopologyRefreshOptions {
  readonly graph: ResourceGraphLike;
  readonly blob: BlockBlobClient;
  readonly scope: TopologyScope;
  readonly now: Date;
  /** Refresh only when the stored document is older than this (0: always). */
  readonly maxAgeMs: number;
  readonly retry?: ArmRetryOptions;
}

export type TopologyRefreshResult =
  | { readonly status: 'fresh'; readonly ageMs: number }
  | {
      readonly status: 'written';
      readonly resources: number;
      readonly rows: number;
      readonly skipped: number;
    };

/** Time the stored blob was last written, or null when there is none. */
export async function storedAgeMs(blob: BlobClient, now: Date): Promise<number | null> {
  try {
    const props = await blob.getProperties();
    return props.lastModified === undefined ? null : now.getTime() - props.lastModified.getTime();
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'statusCode' in e && e.statusCode === 404) return null;
    throw e;
  }
}

/** Reads the topology from Resource Graph and stores it, unless the stored one is still fresh. */
export async function refreshTopology(options: TopologyRefreshOptions): Promise<TopologyRefreshResult> {
  const age = await storedAgeMs(options.blob, options.now);
  if (age !== null && age < options.maxAgeMs) return { status: 'fresh', ageMs: age };
  const resources = await queryTopology(options.graph, options.scope, options.retry);
  const doc = topologyDocument(resources, options.scope, options.now);
  const body = Buffer.from(JSON.stringify(doc));
  await options.blob.upload(body, body.length, { blobHTTPHeaders: { blobContentType: 'application/json' } });
  return { status: 'written', resources: doc.resources, rows: doc.rows.length, skipped: doc.skipped.length };
}
