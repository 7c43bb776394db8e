/**
 * What activities and triggers use, created once per worker from the validated settings: storage
 * readers, staging, the ledger, the Event Hubs emitter and the enricher. Tests and the local runtime
 * reset it between environments.
 */

import { FlowLogBlobs } from '../adapters/blob-source';
import { resetClients } from '../adapters/clients';
import { type AppConfig, appConfig, resetAppConfig } from '../adapters/config';
import { type LoadedEnricher, loadEnricher } from '../adapters/enrichment';
import { closeEmitters, emitterFor, type SummaryEmitter } from '../adapters/event-hubs';
import { Ledger } from '../adapters/ledger';
import { Staging } from '../adapters/staging';
import { Counters } from './metrics';

export interface AppServices {
  readonly config: AppConfig;
  readonly blobs: FlowLogBlobs;
  readonly staging: Staging;
  readonly ledger: Ledger;
  readonly counters: Counters;
  emitter(): SummaryEmitter;
  enricher(): Promise<LoadedEnricher>;
}

let services: AppServices | undefined;
let enricherPromise: Promise<LoadedEnricher> | undefined;

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
      enricherPromise ??= loadEnricher({
        enabled: config.enrich,
        ...(config.geoipPath ? { geoipPath: config.geoipPath } : {}),
        ...(config.asnPath ? { asnPath: config.asnPath } : {}),
        ...(config.serviceTagsPath ? { serviceTagsPath: config.serviceTagsPath } : {}),
        ...(config.labelsPath ? { labelsPath: config.labelsPath } : {}),
        ...(config.labelsTable && config.hostStorage.kind === 'connection-string'
          ? {
              labelsTable: {
                connectionString: config.hostStorage.connectionString,
                tableName: config.labelsTable,
              },
            }
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
