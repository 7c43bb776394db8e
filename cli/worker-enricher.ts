import { join } from 'node:path';
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  type TransferListItem,
  Worker,
} from 'node:worker_threads';
import type { DataSourceInfo, EnrichmentOptions } from '../adapters/enrichment';
import { type EnrichmentStats, type SideEnrichment, writeSides } from '../domain/enrich/enricher';
import { type FlowSide, flowTypeOf, SIDE_CLASSES, type SideClass } from '../domain/enrich/flow-type';
import { l7Protocol } from '../domain/enrich/l7';
import type { FlowSummary } from '../domain/summary/schema';
import type { SummaryEnricherLike } from '../domain/summary/serialize';
import type { AddressRow, WorkerReply, WorkerRequest } from './enrichment-worker';

/** One address's fields and flow-type class, flat (one hidden class), shared by every row naming it. */
class Side implements SideEnrichment, FlowSide {
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

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const sideClass = (v: unknown): SideClass =>
  SIDE_CLASSES.includes(v as SideClass) ? (v as SideClass) : 'other';
function sideOf(r: AddressRow): Side {
  return new Side(
    str(r[0]),
    str(r[1]),
    num(r[2]),
    num(r[3]),
    num(r[4]),
    str(r[5]),
    str(r[6]),
    str(r[7]),
    str(r[8]),
    sideClass(r[9]),
  );
}

/**
 * A large young generation for the loader: parsing a 5 MB service tags file and building its tables
 * makes millions of short-lived objects, and with the default semi-space most of the load is scavenging.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: Number(process.env.FLOWLOG_WORKER_YOUNG_MB ?? 96) };

/** Addresses kept before the table is emptied. */
const MAX_ADDRESSES = 2_000_000;

/** What a client talks to: the enrichment worker itself, or a MessagePort it serves. */
export interface EnrichmentEndpoint {
  postMessage(message: WorkerRequest): void;
  on(event: 'message', listener: (message: WorkerReply) => void): unknown;
}

/**
 * The enricher of `flowlog process`: the data is loaded on a worker thread (enrichment-worker.ts), which
 * looks each distinct address up once, in batches, before the rows naming it are written (`prepare`):
 * the per-side fields and the address's flow-type class, exactly what the loaded enricher's own enrich()
 * uses. `enrich` then copies the fields of both sides, decides the flow type from the two classes
 * (domain/enrich/flow-type.ts) and adds the l7Protocol of the row's port.
 *
 * A client talks to the worker over an endpoint: the Worker (WorkerEnricher), or a MessagePort the
 * worker serves (`WorkerEnricher.connect`), so that summarizing worker threads share one copy of the data.
 */
export class EnrichmentClient implements SummaryEnricherLike {
  /** Resolves when the data has loaded; rejects with the loader's error (message names the file). */
  readonly ready: Promise<void>;
  sources: readonly DataSourceInfo[] = [];
  /** Milliseconds from start to the data being ready. */
  loadMs = 0;

  private readonly endpoint: EnrichmentEndpoint;
  private readonly sides = new Map<string, Side>();
  private readonly waiting = new Map<number, (rows: AddressRow[]) => void>();
  private nextId = 1;
  protected failed: Error | undefined;
  private summaries = 0;
  private misses = 0;
  private resets = 0;
  private rejectReady: (error: Error) => void = () => undefined;

  constructor(endpoint: EnrichmentEndpoint) {
    const started = performance.now();
    this.endpoint = endpoint;
    this.ready = new Promise<void>((resolve, reject) => {
      this.rejectReady = reject;
      endpoint.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') {
          this.sources = m.sources;
          this.loadMs = performance.now() - started;
          resolve();
        } else if (m.type === 'error') this.fail(new Error(m.message));
        else {
          const done = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          done?.(m.rows);
        }
      });
    });
    this.ready.catch(() => undefined);
  }

  /** Stops the client: `ready` rejects (if pending) and pending requests get no rows. */
  protected fail(error: Error): void {
    if (this.failed !== undefined) return;
    this.failed = error;
    this.rejectReady(error);
    for (const done of this.waiting.values()) done([]);
    this.waiting.clear();
  }

  known(srcIp: string, dstIp: string): boolean {
    return this.sides.has(srcIp) && this.sides.has(dstIp);
  }

  /** Learns the addresses of the pairs (flattened: src0, dst0, src1, dst1, …) it does not know yet. */
  async prepare(pairs: readonly string[]): Promise<void> {
    await this.ready;
    let wanted = [...new Set(pairs.filter((a) => !this.sides.has(a)))];
    if (wanted.length === 0) return;
    if (this.sides.size + wanted.length > MAX_ADDRESSES) {
      this.sides.clear();
      this.resets++;
      wanted = [...new Set(pairs)];
    }
    const id = this.nextId++;
    const rows = await new Promise<AddressRow[]>((resolve) => {
      this.waiting.set(id, resolve);
      this.endpoint.postMessage({ type: 'resolve', id, addresses: wanted } satisfies WorkerRequest);
    });
    if (this.failed !== undefined) throw this.failed;
    if (rows.length !== wanted.length)
      throw new Error('the enrichment worker answered fewer addresses than asked');
    wanted.forEach((address, i) => {
      this.sides.set(address, sideOf(rows[i]!));
      this.misses++;
    });
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
    if (src === undefined || dst === undefined)
      throw new Error(`enrichment of ${summary.srcIp} → ${summary.dstIp} was not prepared`);
    writeSides(summary, src, dst);
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
      cachedAddresses: this.sides.size,
      cacheResets: this.resets,
    };
  }
}

/** The enrichment worker thread, and the client of the main thread. */
export class WorkerEnricher extends EnrichmentClient {
  private readonly worker: Worker;

  constructor(options: EnrichmentOptions) {
    // Compiled: the worker's .js file. From the TypeScript sources (tests, a checkout without dist/):
    // a bootstrap that registers tsx in the worker first.
    const worker = startWorker('enrichment-worker', options, WORKER_LIMITS);
    super(worker);
    this.worker = worker;
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`the enrichment worker stopped (exit ${code})`));
    });
  }

  /**
   * A port for another thread's EnrichmentClient, served by the same worker (one copy of the data).
   * Transfer it to that thread and wrap it there: `new EnrichmentClient(port)`.
   */
  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ type: 'serve', port: port2 } satisfies WorkerRequest, [port2]);
    return port1;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * Starts one of the CLI's worker threads (`name` is its file next to this one). From the compiled
 * .js files as they are; from the TypeScript sources (tests, a checkout without dist/) through a
 * bootstrap that registers tsx in the worker first.
 */
export function startWorker(
  name: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
  transferList?: TransferListItem[],
): Worker {
  const ts = __filename.endsWith('.ts');
  const entry = join(__dirname, `${name}.${ts ? 'ts' : 'js'}`);
  const options = {
    workerData,
    ...(transferList === undefined ? {} : { transferList }),
    ...(resourceLimits === undefined ? {} : { resourceLimits }),
  };
  return ts
    ? new Worker(
        `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`,
        { ...options, eval: true },
      )
    : new Worker(entry, options);
}
