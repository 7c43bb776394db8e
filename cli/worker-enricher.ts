import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DataSourceInfo, EnrichmentOptions } from '../adapters/enrichment';
import type { EnrichmentStats } from '../domain/enrich/enricher';
import { type FlowSide, flowTypeOf, type SideClass } from '../domain/enrich/flow-type';
import { l7Protocol } from '../domain/enrich/l7';
import type { FlowSummary } from '../domain/summary/schema';
import type { SummaryEnricherLike } from '../domain/summary/serialize';
import type { FactsRow, WorkerReply, WorkerRequest } from './enrichment-worker';

/** One address's facts, flat (one hidden class), shared by every summary that names it. */
class Facts implements FlowSide {
  constructor(
    readonly country: string | null,
    readonly city: string | null,
    readonly lat: number | null,
    readonly lon: number | null,
    readonly asn: number | null,
    readonly asOrg: string | null,
    readonly serviceTag: string | null,
    readonly azureRegion: string | null,
    readonly label: string | null,
    readonly sideClass: SideClass,
  ) {}
}

/** Addresses kept before the table is emptied (the in-process enricher's default cap). */
const MAX_ADDRESSES = 1_000_000;

/**
 * The enricher of `flowlog process`: the data is loaded on a worker thread (enrichment-worker.ts), and
 * the facts of each distinct address are fetched from it once, in batches, before the rows that need
 * them are written (`prepare`). `enrich` is then what domain/enrich's Enricher.enrich does (same fields,
 * same flow type and l7Protocol) from the local table: two Map lookups and field copies.
 */
export class WorkerEnricher implements SummaryEnricherLike {
  /** Resolves when the data has loaded; rejects with the loader's error (message names the file). */
  readonly ready: Promise<void>;
  sources: readonly DataSourceInfo[] = [];
  /** Milliseconds from start to the data being ready. */
  loadMs = 0;

  private readonly worker: Worker;
  private readonly facts = new Map<string, Facts>();
  private readonly waiting = new Map<number, (rows: FactsRow[]) => void>();
  private nextId = 1;
  private failed: Error | undefined;
  private summaries = 0;
  private misses = 0;
  private resets = 0;

  constructor(options: EnrichmentOptions) {
    const started = performance.now();
    // Compiled: the worker's .js file. From the TypeScript sources (tests, a checkout without dist/):
    // a bootstrap that registers tsx in the worker first.
    const ts = __filename.endsWith('.ts');
    const entry = join(__dirname, `enrichment-worker.${ts ? 'ts' : 'js'}`);
    this.worker = ts
      ? new Worker(
          `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`,
          {
            eval: true,
            workerData: options,
          },
        )
      : new Worker(entry, { workerData: options });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') {
          this.sources = m.sources;
          this.loadMs = performance.now() - started;
          resolve();
        } else if (m.type === 'error') {
          this.failed = new Error(m.message);
          reject(this.failed);
        } else {
          const done = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          done?.(m.facts);
        }
      });
      this.worker.on('error', (error) => {
        this.failed = error;
        reject(error);
        for (const done of this.waiting.values()) done([]);
      });
      this.worker.on('exit', (code) => {
        if (code !== 0 && this.failed === undefined) {
          this.failed = new Error(`the enrichment worker stopped (exit ${code})`);
          reject(this.failed);
        }
      });
    });
    this.ready.catch(() => undefined);
  }

  known(address: string): boolean {
    return this.facts.has(address);
  }

  /** Fetches the facts of the addresses not known yet (call before enriching rows that name them). */
  async prepare(addresses: readonly string[]): Promise<void> {
    await this.ready;
    let wanted = addresses.filter((a) => !this.facts.has(a));
    if (wanted.length === 0) return;
    if (this.facts.size + wanted.length > MAX_ADDRESSES) {
      this.facts.clear();
      this.resets++;
      wanted = [...new Set(addresses)];
    }
    const id = this.nextId++;
    const rows = await new Promise<FactsRow[]>((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ type: 'resolve', id, addresses: wanted } satisfies WorkerRequest);
    });
    if (this.failed !== undefined) throw this.failed;
    for (let i = 0; i < wanted.length; i++) {
      const r = rows[i];
      if (r === undefined) throw new Error('the enrichment worker answered fewer addresses than asked');
      this.facts.set(wanted[i]!, new Facts(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]));
    }
    this.misses += wanted.length;
  }

  enrich(summary: FlowSummary): void {
    this.summaries++;
    const src = this.facts.get(summary.srcIp);
    const dst = this.facts.get(summary.dstIp);
    if (src === undefined || dst === undefined)
      throw new Error(
        `enrichment facts of ${src === undefined ? summary.srcIp : summary.dstIp} were not prepared`,
      );
    summary.srcCountry = src.country;
    summary.srcCity = src.city;
    summary.srcLat = src.lat;
    summary.srcLon = src.lon;
    summary.srcAsn = src.asn;
    summary.srcAsOrg = src.asOrg;
    summary.srcServiceTag = src.serviceTag;
    summary.srcAzureRegion = src.azureRegion;
    summary.srcLabel = src.label;
    summary.dstCountry = dst.country;
    summary.dstCity = dst.city;
    summary.dstLat = dst.lat;
    summary.dstLon = dst.lon;
    summary.dstAsn = dst.asn;
    summary.dstAsOrg = dst.asOrg;
    summary.dstServiceTag = dst.serviceTag;
    summary.dstAzureRegion = dst.azureRegion;
    summary.dstLabel = dst.label;
    summary.flowType = flowTypeOf(src, dst);
    summary.l7Protocol = l7Protocol(summary.dstPort, summary.protocol);
  }

  /** Same meaning as the in-process enricher's: two address lookups per summary, a miss per first sight. */
  stats(): EnrichmentStats {
    const lookups = 2 * this.summaries;
    const misses = Math.min(this.misses, lookups);
    return {
      summaries: this.summaries,
      lookups,
      hits: lookups - misses,
      misses,
      hitRate: lookups === 0 ? 0 : (lookups - misses) / lookups,
      cachedAddresses: this.facts.size,
      cacheResets: this.resets,
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
