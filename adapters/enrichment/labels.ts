/**
 * Topology and threat labels from a CSV file (`cidr,label,kind`) or from an Azure Table holding the same
 * columns as entity properties, so operators can edit them without redeploying.
 */

import { readFile } from 'node:fs/promises';
import type { TableClient } from '@azure/data-tables';
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

export interface LabelsTableLocation {
  readonly connectionString: string;
  readonly tableName: string;
}

/** A TableClient for a connection string; plain http (Azurite) is allowed only for loopback hosts. */
export function labelsTableClient(location: LabelsTableLocation): TableClient {
  const { TableClient: Client } = require('@azure/data-tables') as typeof import('@azure/data-tables');
  const endpoint = /TableEndpoint=([^;]+)/i.exec(location.connectionString)?.[1] ?? '';
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/i.test(endpoint);
  return Client.fromConnectionString(location.connectionString, location.tableName, {
    allowInsecureConnection: loopback || /UseDevelopmentStorage=true/i.test(location.connectionString),
  });
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
        : `cannot list the table (${status === undefined ? errorText(cause) : `HTTP ${status}`}); check the connection string and that the identity may read it`;
    throw new EnrichmentDataError(DATASET, source, 'missing', what, { cause });
  }
  return validateLabelRows(rows, source);
}
