import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DataSourceInfo, EnrichmentOptions } from '../adapters/enrichment';
import { type EnrichmentStats, writeSides } from '../domain/enrich/enricher';
import { l7Protocol } from '../domain/enrich/l7';
import type { FlowSummary } from '../domain/summary/schema';
import type { SummaryEnricherLike } from '../domain/summary/serialize';
import type { PairRow, WorkerReply, WorkerRequest } from './enrichment-worker';

/** One side's fields of one address, flat (one hidden class), shared by every summary that names it. */
class Side {
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
  ) {}
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
function sideOf(r: PairRow, at: number): Side {
  return new Side(
    str(r[at]),
    str(r[at + 1]),
    num(r[at + 2]),
    num(r[at + 3]),
    num(r[at + 4]),
    str(r[at + 5]),
    str(r[at + 6]),
    str(r[at + 7]),
    str(r[at + 8]),
  );
}

/**
 * A large young generation for the loader: parsing a 5 MB service tags file and building its tables
 * makes millions of short-lived objects, and with the default semi-space most of the load is scavenging.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: Number(process.env.FLOWLOG_WORKER_YOUNG_MB ?? 96) };

/** Pairs kept before the tables are emptied. */
const MAX_PAIRS = 2_000_000;

/**
 * The enricher of `flowlog process`: the data is loaded on a worker thread (enrichment-worker.ts), which
 * runs the loaded enricher's own enrich() once per distinct (srcIp, dstIp) pair, in batches, before the
 * rows naming the pair are written (`prepare`). `enrich` then copies those fields (per address), the
 * pair's flow type, and the l7Protocol of the row's port: exactly what the loaded enricher writes.
 */
export class WorkerEnricher implements SummaryEnricherLike {
  /** Resolves when the data has loaded; rejects with the loader's error (message names the file). */
  readonly ready: Promise<void>;
  sources: readonly DataSourceInfo[] = [];
  /** Milliseconds from start to the data being ready. */
  loadMs = 0;

  private readonly worker: Worker;
  private readonly sides = new Map<string, Side>();
  private readonly flows = new Map<string, Map<string, string | null>>();
  private pairCount = 0;
  private readonly waiting = new Map<number, (rows: PairRow[]) => void>();
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
      : new Worker(entry, { workerData: options, resourceLimits: WORKER_LIMITS });
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
          done?.(m.rows);
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

  known(srcIp: string, dstIp: string): boolean {
    return this.flows.get(srcIp)?.has(dstIp) === true;
  }

  /** Learns the pairs (flattened: src0, dst0, src1, dst1, …) not known yet; call before enriching them. */
  async prepare(pairs: readonly string[]): Promise<void> {
    await this.ready;
    let wanted: string[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2)
      if (!this.known(pairs[i]!, pairs[i + 1]!)) wanted.push(pairs[i]!, pairs[i + 1]!);
    if (wanted.length === 0) return;
    if (this.pairCount + wanted.length / 2 > MAX_PAIRS) {
      this.sides.clear();
      this.flows.clear();
      this.pairCount = 0;
      this.resets++;
      wanted = [...pairs];
    }
    const id = this.nextId++;
    const rows = await new Promise<PairRow[]>((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ type: 'resolve', id, pairs: wanted } satisfies WorkerRequest);
    });
    if (this.failed !== undefined) throw this.failed;
    for (let i = 0; i < wanted.length / 2; i++) {
      const r = rows[i];
      if (r === undefined) throw new Error('the enrichment worker answered fewer pairs than asked');
      const src = wanted[2 * i]!;
      const dst = wanted[2 * i + 1]!;
      for (const [address, at] of [
        [src, 0],
        [dst, 9],
      ] as const) {
        if (!this.sides.has(address)) {
          this.sides.set(address, sideOf(r, at));
          this.misses++;
        }
      }
      let byDst = this.flows.get(src);
      if (byDst === undefined) {
        byDst = new Map();
        this.flows.set(src, byDst);
      }
      if (!byDst.has(dst)) this.pairCount++;
      byDst.set(dst, str(r[18]));
    }
  }

  /** Its fields come from the row's addresses, port and protocol only (see SummaryEnricherLike). */
  readonly fieldsDependOnAddressesAndPort = true;

  /** Rows got the fields rendered for an earlier row with the same addresses, port and protocol. */
  reused(rows: number): void {
    this.summaries += rows;
  }

  enrich(summary: FlowSummary): void {
    this.summaries++;
    const src = this.sides.get(summary.srcIp);
    const dst = this.sides.get(summary.dstIp);
    const flowType = this.flows.get(summary.srcIp)?.get(summary.dstIp);
    if (src === undefined || dst === undefined || flowType === undefined)
      throw new Error(`enrichment of ${summary.srcIp} → ${summary.dstIp} was not prepared`);
    writeSides(summary, src, dst);
    summary.flowType = flowType as FlowSummary['flowType'];
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
      cachedAddresses: this.sides.size,
      cacheResets: this.resets,
    };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
