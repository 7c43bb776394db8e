/**
 * The enrichment data, loaded and looked up on a worker thread for `flowlog process` (see
 * worker-enricher.ts): loading (opening the MMDB files, reading the cached ASN table and service-tags
 * index, or building them) then happens next to the main thread's reading and summing.
 *
 * Protocol: workerData is the loader's options. The worker posts {type:'ready', sources} or
 * {type:'error', message}; then answers {type:'resolve', id, addresses} with {type:'facts', id, rows}:
 * per address, the 9 per-side fields and the flow-type class the loaded enricher's own enrich() uses
 * (Enricher.addressFacts). {type:'serve', port} makes it speak the same protocol on a MessagePort too
 * (a summarizing worker thread's client; one copy of the data).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { EnrichmentOptions, LoadedEnricher } from '../adapters/enrichment';

/** Per address: Country, City, Lat, Lon, Asn, AsOrg, ServiceTag, AzureRegion, Label, flow-type class. */
export type AddressRow = (string | number | null)[];

export type WorkerRequest =
  | { type: 'resolve'; id: number; addresses: string[] }
  | { type: 'serve'; port: MessagePort };
export type WorkerReply =
  | { type: 'ready'; sources: LoadedEnricher['sources'] }
  | { type: 'error'; message: string }
  | { type: 'facts'; id: number; rows: AddressRow[] };

function rowOf(loaded: LoadedEnricher, ip: string): AddressRow {
  const f = loaded.addressFacts(ip);
  return [f.country, f.city, f.lat, f.lon, f.asn, f.asOrg, f.serviceTag, f.azureRegion, f.label, f.sideClass];
}

/** Speaks the protocol on one endpoint (the parent, or a served port) once the data has loaded. */
function serve(endpoint: MessagePort | NonNullable<typeof parentPort>, loaded: Promise<LoadedEnricher>) {
  loaded.then(
    (enricher) => {
      endpoint.on('message', (m: WorkerRequest) => {
        if (m.type !== 'resolve') return;
        const rows = m.addresses.map((ip) => rowOf(enricher, ip));
        endpoint.postMessage({ type: 'facts', id: m.id, rows } satisfies WorkerReply);
      });
      endpoint.postMessage({ type: 'ready', sources: enricher.sources } satisfies WorkerReply);
    },
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      endpoint.postMessage({ type: 'error', message } satisfies WorkerReply);
    },
  );
}

function main(): void {
  const port = parentPort;
  if (port === null) throw new Error('enrichment-worker runs as a worker thread');
  const adapters = require('../adapters/enrichment') as typeof import('../adapters/enrichment');
  const loaded = adapters.loadEnricher(workerData as EnrichmentOptions);
  loaded.catch(() => undefined);
  // Ports to serve may arrive before the data has loaded: each gets 'ready' (or 'error') when it has.
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'serve') serve(m.port, loaded);
  });
  serve(port, loaded);
}

try {
  main();
} catch (error) {
  parentPort?.postMessage({
    type: 'error',
    message: `enrichment worker: ${String(error)}`,
  } satisfies WorkerReply);
}
