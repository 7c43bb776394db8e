/**
 * Topology and threat labels from a CSV file (`cidr,label,kind`) or from an Azure Table holding the same
 * columns as entity properties, so operators can edit them without redeploying.
 */

import { readFile } from 'node:fs/promises';
import type { TableClient, TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import {
  EnrichmentDataError,
  type Label,
  type LabelRowInput,
  type PrefixEntry,
  parseLabelsCsv,
  validateLabelRows,
} from '../../domain/enrich';
import { errorText } from './mmdb';

const DATASET = 'labels';

export async function loadLabelsCsv(path: string): Promise<PrefixEntry<Label>[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EnrichmentDataError(
      DATASET,
      path,
      'missing',
      `cannot read the file (${errorText(cause)}); pass a CSV with header cidr,label,kind with --labels (FLOWLOG_LABELS_PATH)`,
      { cause },
    );
  }
  return parseLabelsCsv(text, path);
}

/** A labels table reached with a connection string (Azurite, local runs, `flowlog` with a key). */
export interface LabelsTableByConnectionString {
  readonly tableName: string;
  readonly connectionString: string;
}

/**
 * A labels table reached with a Microsoft Entra identity: the account's table endpoint
 * (`https://<account>.table.core.windows.net`) and a token credential (the app passes its shared
 * DefaultAzureCredential, i.e. the managed identity on Azure). No key or SAS is involved.
 */
export interface LabelsTableByIdentity {
  readonly tableName: string;
  readonly endpoint: string;
  /** Default: a new DefaultAzureCredential from @azure/identity. */
  readonly credential?: TokenCredential;
}

export type LabelsTableLocation = LabelsTableByConnectionString | LabelsTableByIdentity;

/** Only for tests: the HTTP client the table client sends through (e.g. to see the request it makes). */
export interface LabelsTableClientOptions {
  readonly httpClient?: TableServiceClientOptions['httpClient'];
}

function sourceOf(location: LabelsTableLocation): string {
  return 'connectionString' in location
    ? `table ${location.tableName}`
    : `table ${location.tableName} at ${location.endpoint}`;
}

/**
 * A TableClient for the location. With a connection string, plain http (Azurite) is allowed only for
 * loopback hosts; with an identity the endpoint must be https (a bearer token is never sent in clear).
 */
export function labelsTableClient(
  location: LabelsTableLocation,
  options: LabelsTableClientOptions = {},
): TableClient {
  const { TableClient: Client } = require('@azure/data-tables') as typeof import('@azure/data-tables');
  const httpClient = options.httpClient === undefined ? {} : { httpClient: options.httpClient };
  if ('connectionString' in location) {
    const endpoint = /TableEndpoint=([^;]+)/i.exec(location.connectionString)?.[1] ?? '';
    const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/i.test(endpoint);
    return Client.fromConnectionString(location.connectionString, location.tableName, {
      allowInsecureConnection: loopback || /UseDevelopmentStorage=true/i.test(location.connectionString),
      ...httpClient,
    });
  }
  let url: URL;
  try {
    url = new URL(location.endpoint);
  } catch (cause) {
    throw new EnrichmentDataError(
      DATASET,
      sourceOf(location),
      'missing',
      'the table endpoint is not a URL; it must look like https://<account>.table.core.windows.net',
      { cause },
    );
  }
  if (url.protocol !== 'https:' || url.search !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new EnrichmentDataError(
      DATASET,
      sourceOf(location),
      'missing',
      'an identity-based table endpoint must be https with no path or query, like https://<account>.table.core.windows.net',
    );
  }
  const credential =
    location.credential ??
    new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential();
  return new Client(url.origin, location.tableName, credential, httpClient);
}

function prop(entity: Record<string, unknown>, name: string): unknown {
  if (name in entity) return entity[name];
  const capital = name[0]?.toUpperCase() + name.slice(1);
  if (capital in entity) return entity[capital];
  return entity[name.toUpperCase()];
}

/**
 * Reads every entity of the table; each needs string properties `cidr`, `label` and `kind` (PartitionKey
 * and RowKey are free; rows are taken in key order, which decides ties between rows of one kind).
 */
export async function loadLabelsTable(client: TableClient, source: string): Promise<PrefixEntry<Label>[]> {
  const rows: LabelRowInput[] = [];
  try {
    for await (const entity of client.listEntities<Record<string, unknown>>()) {
      rows.push({
        cidr: prop(entity, 'cidr'),
        label: prop(entity, 'label'),
        kind: prop(entity, 'kind'),
        where: `entity ${entity.partitionKey ?? ''}/${entity.rowKey ?? ''}`,
      });
    }
  } catch (cause) {
    const status =
      typeof cause === 'object' && cause !== null && 'statusCode' in cause
        ? Number(cause.statusCode)
        : undefined;
    const what =
      status === 404
        ? `the table does not exist; create it and add entities with properties cidr, label, kind (vnet|s2s|p2s|threat)`
        : status === 401 || status === 403
          ? `not allowed to list the table (HTTP ${status}) at ${client.url}; with a managed identity, give it Storage Table Data Reader (or Contributor) on that storage account (the template grants Table Data Contributor on host storage); with a connection string, check its key or SAS`
          : `cannot list the table (${status === undefined ? errorText(cause) : `HTTP ${status}`}) at ${client.url}; check the endpoint or connection string and that the identity may read it`;
    throw new EnrichmentDataError(DATASET, source, 'missing', what, { cause });
  }
  return validateLabelRows(rows, source);
}
