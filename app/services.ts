/**
 * What activities and triggers use, created once per worker from the validated settings: storage
 * readers, staging, the ledger, the Event Hubs emitter and the enricher. Tests and the local runtime
 * reset it between environments.
 */

import type { BlockBlobClient } from '@azure/storage-blob';
import { FlowLogBlobs } from '../adapters/blob-source';
import { azureCredential, blobService, resetClients, tableEndpoint } from '../adapters/clients';
import { type AppConfig, appConfig, resetAppConfig, SettingsError } from '../adapters/config';
import { type LabelsTableLocation, type LoadedEnricher, loadEnricher } from '../adapters/enrichment';
import type { ArmRetryOptions } from '../adapters/enrichment/arm';
import { readRefreshConfig } from '../adapters/enrichment/refresh-config';
import { SERVICE_TAGS_BLOB } from '../adapters/enrichment/service-tags-refresh';
import { THREAT_FEEDS_BLOB } from '../adapters/enrichment/threat-feeds';
import { TOPOLOGY_BLOB } from '../adapters/enrichment/topology';
import { closeEmitters, emitterFor, type SummaryEmitter } from '../adapters/event-hubs';
import { Ledger } from '../adapters/ledger';
import { Staging } from '../adapters/staging';
import { Counters, type MetricLogger, record } from '../common/metrics';

export interface AppServices {
  readonly config: AppConfig;
  readonly blobs: FlowLogBlobs;
  readonly staging: Staging;
  readonly ledger: Ledger;
  readonly counters: Counters;
  emitter(): SummaryEmitter;
  /** The worker's enricher; service tags and labels are re-checked every ENRICHMENT_REFRESH_MS. */
  enricher(): Promise<LoadedEnricher>;
}

/** How often a worker re-checks service tags (changeNumber) and labels; a rebuild happens only on change. */
export const ENRICHMENT_REFRESH_MS = 10 * 60_000;

let services: AppServices | undefined;
let enricherPromise: Promise<LoadedEnricher> | undefined;
let lastRefresh = 0;

async function refreshed(loaded: Promise<LoadedEnricher>): Promise<LoadedEnricher> {
  const enricher = await loaded;
  if (enricher.enabled && Date.now() - lastRefresh > ENRICHMENT_REFRESH_MS) {
    lastRefresh = Date.now();
    await enricher.refresh();
  }
  return enricher;
}

/**
 * Where the labels table (FLOWLOG_LABELS_TABLE) is: in host storage, reached the way host storage is.
 * With `AzureWebJobsStorage__accountName` (Azure, managed identity) that is the account's table endpoint
 * and the worker's DefaultAzureCredential; with an `AzureWebJobsStorage` connection string (Azurite,
 * local runs) the connection string. A name Azure Tables would refuse stops start-up with a SettingsError.
 */
export function labelsTableLocation(config: AppConfig, tableName: string): LabelsTableLocation {
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(tableName) || tableName.toLowerCase() === 'tables')
    throw new SettingsError(
      'FLOWLOG_LABELS_TABLE',
      `"${tableName}" is not an Azure Table name (3-63 letters and digits, starting with a letter, not "tables"); create the table in host storage and set its name, or use FLOWLOG_LABELS_PATH for a CSV`,
    );
  const host = config.hostStorage;
  if (host.kind === 'connection-string') return { connectionString: host.connectionString, tableName };
  return { endpoint: tableEndpoint(host), credential: azureCredential(), tableName };
}

/** A document the refresh timers keep in the staging container of host storage (enrichment/…). */
export function enrichmentBlob(config: AppConfig, name: string): BlockBlobClient {
  return blobService(config.hostStorage).getContainerClient(config.stagingContainer).getBlockBlobClient(name);
}

/**
 * After a refresh timer stored new data: this worker's enricher re-reads it now instead of within
 * ENRICHMENT_REFRESH_MS (other workers still take up to that long). Nothing to do before the first load.
 */
export async function refreshEnricherNow(): Promise<void> {
  if (enricherPromise === undefined) return;
  lastRefresh = Date.now();
  const loaded = await enricherPromise;
  if (loaded.enabled) await loaded.refresh();
}

/** Every ARM request and retry counted (`arm.requests`, `arm.retries`), each retry logged with its wait. */
export function countedArmRetries(counters: Counters, logger: MetricLogger, what: string): ArmRetryOptions {
  return {
    onRequest: () => counters.add('arm.requests'),
    onRetry: ({ status, delayMs }) =>
      record(counters, logger, { 'arm.retries': 1 }, { refresh: what, status: status ?? 'network', delayMs }),
  };
}

export function appServices(): AppServices {
  if (services) return services;
  const config = appConfig();
  services = {
    config,
    blobs: new FlowLogBlobs(config),
    staging: new Staging(config),
    ledger: new Ledger(config),
    counters: new Counters(),
    emitter: () => emitterFor(config),
    enricher: () => {
      if (enricherPromise) return refreshed(enricherPromise);
      lastRefresh = Date.now();
      const refresh = readRefreshConfig();
      enricherPromise = loadEnricher({
        enabled: config.enrich,
        ...(config.geoipPath ? { geoipPath: config.geoipPath } : {}),
        ...(config.asnPath ? { asnPath: config.asnPath } : {}),
        ...(config.serviceTagsPath ? { serviceTagsPath: config.serviceTagsPath } : {}),
        ...(config.labelsPath ? { labelsPath: config.labelsPath } : {}),
        ...(config.labelsTable ? { labelsTable: labelsTableLocation(config, config.labelsTable) } : {}),
        ...(refresh.topology ? { topologyBlob: enrichmentBlob(config, TOPOLOGY_BLOB) } : {}),
        ...(refresh.threatFeeds ? { threatFeedsBlob: enrichmentBlob(config, THREAT_FEEDS_BLOB) } : {}),
        ...(refresh.serviceTags
          ? { refreshedServiceTagsBlob: enrichmentBlob(config, SERVICE_TAGS_BLOB) }
          : {}),
      });
      return enricherPromise;
    },
  };
  return services;
}

/** Forget everything (settings, clients, producers): the next call reads the environment again. */
export async function resetAppServices(): Promise<void> {
  services = undefined;
  enricherPromise = undefined;
  resetAppConfig();
  resetClients();
  await closeEmitters();
}
