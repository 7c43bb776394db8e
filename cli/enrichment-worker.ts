/**
 * The enrichment data, loaded and looked up on a worker thread for `flowlog process` (see
 * worker-enricher.ts): loading (reading ~140 MB of MMDB, the ASN table, parsing a 5 MB service tags
 * file) then happens next to the main thread's reading and summing instead of before or inside it.
 *
 * Protocol: workerData is the loader's options. The worker posts {type:'ready', sources} or
 * {type:'error', message}; then answers {type:'resolve', id, addresses} with {type:'facts', id, facts},
 * one FactsRow per address, exactly the per-address facts the in-process enricher would use.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EnrichmentOptions, LoadedEnricher } from '../adapters/enrichment';
import { parseIp, type SideClass } from '../domain/enrich';

/** Country, City, Lat, Lon, Asn, AsOrg, ServiceTag, AzureRegion, Label, side class. */
export type FactsRow = [
  string | null,
  string | null,
  number | null,
  number | null,
  number | null,
  string | null,
  string | null,
  string | null,
  string | null,
  SideClass,
];

export type WorkerRequest = { type: 'resolve'; id: number; addresses: string[] };
export type WorkerReply =
  | { type: 'ready'; sources: LoadedEnricher['sources'] }
  | { type: 'error'; message: string }
  | { type: 'facts'; id: number; facts: FactsRow[] };

const NOT_AN_ADDRESS: FactsRow = [null, null, null, null, null, null, null, null, null, 'other'];

/**
 * The facts the in-process enricher gives an address. It resolves the text as written, so text with
 * surrounding blanks is not an address there (lookup() would trim it): such text gets no facts here too.
 */
function factsOf(loaded: LoadedEnricher, address: string): FactsRow {
  if (address !== address.trim() || parseIp(address) === null) return NOT_AN_ADDRESS;
  const info = loaded.lookup(address);
  const f = info.fields;
  return [
    f.Country,
    f.City,
    f.Lat,
    f.Lon,
    f.Asn,
    f.AsOrg,
    f.ServiceTag,
    f.AzureRegion,
    f.Label,
    info.sideClass,
  ];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('enrichment-worker runs as a worker thread');
  let loaded: LoadedEnricher;
  try {
    const adapters = require('../adapters/enrichment') as typeof import('../adapters/enrichment');
    loaded = await adapters.loadEnricher(workerData as EnrichmentOptions);
  } catch (error) {
    port.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
    } satisfies WorkerReply);
    return;
  }
  port.on('message', (m: WorkerRequest) => {
    if (m.type !== 'resolve') return;
    const facts = m.addresses.map((a) => factsOf(loaded, a));
    port.postMessage({ type: 'facts', id: m.id, facts } satisfies WorkerReply);
  });
  port.postMessage({ type: 'ready', sources: loaded.sources } satisfies WorkerReply);
}

main().catch((error: unknown) => {
  parentPort?.postMessage({
    type: 'error',
    message: `enrichment worker: ${String(error)}`,
  } satisfies WorkerReply);
});
