/**
 * The enrichment data, loaded and looked up on a worker thread for `flowlog process` (see
 * worker-enricher.ts): loading (reading ~140 MB of MMDB, the ASN table, parsing a 5 MB service tags
 * file) then happens next to the main thread's reading and summing instead of before or inside it.
 *
 * Protocol: workerData is the loader's options. The worker posts {type:'ready', sources} or
 * {type:'error', message}; then answers {type:'resolve', id, pairs: [src0, dst0, src1, dst1, …]} with
 * {type:'facts', id, rows}: per pair, the 9 src… fields, the 9 dst… fields and the flowType that the
 * loaded enricher's own enrich() writes for a row from src to dst. {type:'serve', port} makes it speak
 * the same protocol on a MessagePort too (a summarizing worker thread's client; one copy of the data).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { EnrichmentOptions, LoadedEnricher } from '../adapters/enrichment';
import { blankSummary, type FlowSummary } from '../domain/summary/schema';

/** Per pair: srcCountry … srcLabel, dstCountry … dstLabel, flowType (19 values). */
export type PairRow = (string | number | null)[];

export type WorkerRequest =
  | { type: 'resolve'; id: number; pairs: string[] }
  | { type: 'serve'; port: MessagePort };
export type WorkerReply =
  | { type: 'ready'; sources: LoadedEnricher['sources'] }
  | { type: 'error'; message: string }
  | { type: 'facts'; id: number; rows: PairRow[] };

/** A row handed to the loaded enricher: only its addresses matter (and the port, for l7Protocol). */
function probe(srcIp: string, dstIp: string): FlowSummary {
  return blankSummary({
    logType: 'nsg',
    direction: 'Outbound',
    decision: 'Allow',
    protocol: 'TCP',
    srcIp,
    dstIp,
  });
}

function rowOf(loaded: LoadedEnricher, srcIp: string, dstIp: string): PairRow {
  const s = probe(srcIp, dstIp);
  loaded.enricher.enrich(s);
  return [
    s.srcCountry,
    s.srcCity,
    s.srcLat,
    s.srcLon,
    s.srcAsn,
    s.srcAsOrg,
    s.srcServiceTag,
    s.srcAzureRegion,
    s.srcLabel,
    s.dstCountry,
    s.dstCity,
    s.dstLat,
    s.dstLon,
    s.dstAsn,
    s.dstAsOrg,
    s.dstServiceTag,
    s.dstAzureRegion,
    s.dstLabel,
    s.flowType,
  ];
}

/** Speaks the protocol on one endpoint (the parent, or a served port) once the data has loaded. */
function serve(endpoint: MessagePort | NonNullable<typeof parentPort>, loaded: Promise<LoadedEnricher>) {
  loaded.then(
    (enricher) => {
      endpoint.on('message', (m: WorkerRequest) => {
        if (m.type !== 'resolve') return;
        const rows: PairRow[] = [];
        for (let i = 0; i + 1 < m.pairs.length; i += 2)
          rows.push(rowOf(enricher, m.pairs[i]!, m.pairs[i + 1]!));
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
