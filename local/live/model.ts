/**
 * The live view's model: folds what reaches the Event Hub (summaries), what the writer committed, and
 * periodic snapshots of the offline stack into one plain `LiveView` that the renderer draws. Pure: no I/O,
 * no clock; every input carries its own time, so tests feed known events and read exact figures.
 */

/** The summary fields the view reads (a subset of FlowSummary; enrichment fields are optional). */
export interface SummaryFields {
  /** The rows' 16-hex blob id (blobIdOf the identity). */
  readonly blob: string;
  readonly recordOffset: number;
  readonly windowStart: string;
  readonly decision: string;
  readonly rule: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly tuples: number;
  readonly flowsDenied: number;
  readonly packetsSrcToDst: number;
  readonly bytesSrcToDst: number;
  readonly packetsDstToSrc: number;
  readonly bytesDstToSrc: number;
  readonly dstServiceTag?: string | null;
  readonly dstAsOrg?: string | null;
  readonly dstCountry?: string | null;
}

export type LivePhase = 'starting' | 'running' | 'draining' | 'stopping' | 'stopped';

/** A blob the writer knows, with what the app's entity says about it (null before its first event). */
export interface BlobSnapshot {
  readonly key: string;
  readonly container: string;
  readonly name: string;
  readonly logType: 'nsg' | 'vnet';
  /** Record blocks committed so far (header and closer not counted). */
  readonly committedRecords: number;
  /** Committed contentLength (header + records + closer), 0 before the first commit. */
  readonly committedLength: number;
  /** Still being written (false once its NIC rolled over to the next hour, or the folder's file ended). */
  readonly current: boolean;
  readonly entity: {
    readonly cursorByteOffset: number;
    /** Records consumed: the cursor's next record ordinal. */
    readonly consumedRecords: number;
    readonly generation: number;
    readonly lastError: string | null;
    readonly failureCount: number;
    readonly runs: number;
  } | null;
  /** The blob's orchestration (instance id = blob key), when one exists. */
  readonly runtimeStatus: string | null;
}

export interface WriterSnapshot {
  /** Record blocks committed in all blobs. */
  readonly blocks: number;
  readonly blobsCreated: number;
  readonly eventsSent: number;
  readonly eventsRedelivered: number;
  readonly eventsGivenUp: number;
  /** Ticks that started late because the previous one overran the interval. */
  readonly lateTicks: number;
  /** Time of the latest record written (simulated or replayed), ISO, or null. */
  readonly dataTime: string | null;
  /** Folder mode: everything was written. */
  readonly exhausted: boolean;
}

export interface StackSnapshot {
  readonly at: number;
  readonly phase: LivePhase;
  readonly writer: WriterSnapshot;
  /** Blobs to show: those being written and those still behind or recently finished. */
  readonly blobs: readonly BlobSnapshot[];
  /** Blobs written during the run and no longer shown (all were caught up when they were hidden). */
  readonly retiredBlobs: number;
  /** The app's metric counters (appServices().counters.snapshot()). */
  readonly app: Readonly<Record<string, number>>;
  readonly host: {
    readonly activityExecutions: number;
    readonly activityFailures: number;
    readonly orchestratorEpisodes: number;
    readonly orchestrationsStarted: number;
    readonly entityOperations: number;
  };
  readonly instances: { readonly active: number; readonly failed: number; readonly completed: number };
  /** processBlob executions that ended: completed (or continued as new for another round) and failed. */
  readonly runs: { readonly completed: number; readonly failed: number };
  readonly sweeps: number;
  readonly rssBytes: number;
}

export interface Header {
  readonly source: string;
  readonly detail: string;
  readonly endpoints: readonly string[];
}

export type BlobStateLabel = 'new' | 'running' | 'behind' | 'caught up' | 'done' | 'failed';

export interface BlobRow {
  readonly key: string;
  readonly label: string;
  readonly hour: string;
  readonly logType: 'nsg' | 'vnet';
  readonly committedRecords: number;
  readonly consumedRecords: number;
  readonly lagBytes: number;
  readonly lagBlocks: number;
  readonly state: BlobStateLabel;
  readonly generation: number;
  readonly runs: number;
  readonly lastError: string | null;
}

export interface Talker {
  readonly src: string;
  readonly dst: string;
  readonly bytes: number;
  readonly packets: number;
  /** What enrichment says about the destination (service tag, AS organisation or country), if anything. */
  readonly dstLabel: string | null;
}

export interface DeniedSource {
  readonly src: string;
  /** Denied flow tuples. */
  readonly denied: number;
  readonly ports: number;
  readonly targets: number;
  readonly rule: string;
}

export interface WindowRow {
  readonly windowStart: string;
  readonly rows: number;
  readonly tuples: number;
  readonly bytes: number;
  readonly denied: number;
  readonly blobs: number;
}

export interface Latency {
  /** Samples in the last `latencyWindowMs`. */
  readonly samples: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface Rates {
  readonly hubEvents: number | null;
  readonly summaries: number | null;
  readonly tuples: number | null;
  readonly blocks: number | null;
  readonly blobEvents: number | null;
}

export interface LogLine {
  readonly at: number;
  readonly level: 'warn' | 'error';
  readonly text: string;
}

export interface LiveView {
  readonly now: number;
  readonly startedAt: number;
  readonly phase: LivePhase;
  readonly header: Header;
  readonly writer: WriterSnapshot | null;
  readonly rates: Rates;
  readonly totals: {
    readonly hubEvents: number;
    readonly summaries: number;
    readonly tuples: number;
    readonly records: number;
    /** Runs started by a BlobCreated event (the others: continued rounds, sweeps). */
    readonly runsStarted: number;
    readonly runsCompleted: number;
    readonly runsCoalesced: number;
    readonly runsFailed: number;
    readonly newGenerations: number;
    readonly emitRetries: number;
    readonly eventsStale: number;
    readonly sweepPoked: number;
  };
  readonly latency: Latency;
  readonly latencyWindowMs: number;
  readonly blobs: readonly BlobRow[];
  readonly blobTotals: {
    readonly written: number;
    readonly shown: number;
    readonly lagging: number;
    readonly failed: number;
    readonly lagBytes: number;
    readonly lagBlocks: number;
  };
  readonly talkers: readonly Talker[];
  readonly denied: readonly DeniedSource[];
  readonly windows: readonly WindowRow[];
  readonly recentWindows: number;
  readonly host: StackSnapshot['host'] | null;
  readonly instances: StackSnapshot['instances'] | null;
  readonly sweeps: number;
  readonly rssBytes: number | null;
  readonly logs: readonly LogLine[];
}

export interface LiveModelOptions {
  /** How many of the latest windows top talkers, denied sources and the window list cover (default 10). */
  readonly recentWindows?: number;
  /** Latency percentiles cover this much time (default 60 s). */
  readonly latencyWindowMs?: number;
  /** Rates are measured over this much time (default 5 s). */
  readonly rateWindowMs?: number;
  /** Rows kept for top talkers and denied sources (default 10). */
  readonly top?: number;
  /** Recent warnings and errors kept (default 5). */
  readonly logLines?: number;
}

interface PairAgg {
  readonly src: string;
  readonly dst: string;
  bytes: number;
  packets: number;
  dstLabel: string | null;
}

interface DenyAgg {
  readonly src: string;
  denied: number;
  readonly ports: Set<number>;
  readonly targets: Set<string>;
  rule: string;
}

interface WindowAgg {
  readonly start: number;
  readonly iso: string;
  rows: number;
  tuples: number;
  bytes: number;
  denied: number;
  readonly blobs: Set<string>;
  readonly pairs: Map<string, PairAgg>;
  readonly deny: Map<string, DenyAgg>;
}

interface RateSample {
  readonly at: number;
  readonly hubEvents: number;
  readonly summaries: number;
  readonly tuples: number;
  readonly blocks: number;
  readonly blobEvents: number;
}

const PENDING_TTL_MS = 10 * 60_000;

/** Nearest-rank percentile of ascending `sorted` (p in (0, 1]). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function isSummary(body: unknown): body is SummaryFields {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b['blob'] === 'string' &&
    typeof b['recordOffset'] === 'number' &&
    typeof b['windowStart'] === 'string' &&
    typeof b['srcIp'] === 'string' &&
    typeof b['dstIp'] === 'string' &&
    typeof b['tuples'] === 'number'
  );
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Short, readable name of a flow-log blob: the NSG / flow-log resource and the NIC's MAC. */
export function blobLabel(name: string): { label: string; hour: string } {
  const hour = /\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\//.exec(name);
  const mac = /\/macAddress=([0-9A-Fa-f:-]+)\//.exec(name)?.[1]?.replace(/[-:]/g, '').toUpperCase();
  const head = name.split('/y=')[0] ?? name;
  const resource = head.split('/').filter((p) => p !== '');
  const last = resource[resource.length - 1] ?? name;
  const short = last.includes('=') ? (last.split('=')[1] ?? last) : last;
  return {
    label: mac ? `${short} ${mac.slice(-6)}` : short,
    hour: hour ? `${hour[2]}-${hour[3]} ${hour[4]}h` : '',
  };
}

/** Lag and state of one blob as the view shows it. */
export function blobRow(b: BlobSnapshot): BlobRow {
  const { label, hour } = blobLabel(b.name);
  const e = b.entity;
  const consumedRecords = e?.consumedRecords ?? 0;
  // Data ends two bytes before the committed length (the closing `]}`).
  const lagBytes =
    b.committedLength === 0 ? 0 : Math.max(0, b.committedLength - 2 - (e?.cursorByteOffset ?? 0));
  const lagBlocks = Math.max(0, b.committedRecords - consumedRecords);
  const active = b.runtimeStatus === 'Running' || b.runtimeStatus === 'Pending';
  let state: BlobStateLabel;
  if (b.runtimeStatus === 'Failed' || (e !== null && e.failureCount > 0 && !active)) state = 'failed';
  else if (active) state = 'running';
  else if (e === null) state = 'new';
  else if (lagBytes > 0 || lagBlocks > 0) state = 'behind';
  else state = b.current ? 'caught up' : 'done';
  return {
    key: b.key,
    label,
    hour,
    logType: b.logType,
    committedRecords: b.committedRecords,
    consumedRecords,
    lagBytes,
    lagBlocks,
    state,
    generation: e?.generation ?? 0,
    runs: e?.runs ?? 0,
    lastError: e?.lastError ?? null,
  };
}

export class LiveModel {
  private readonly recentWindows: number;
  private readonly latencyWindowMs: number;
  private readonly rateWindowMs: number;
  private readonly top: number;
  private readonly logLines: number;
  private readonly pending = new Map<string, number>();
  /**
   * Blocks whose first summary reached the hub before the writer registered their commit: a run started
   * for an earlier block can list and read a block the writer has just committed, before `commit` runs.
   */
  private readonly arrivedFirst = new Map<string, number>();
  private latencies: { at: number; ms: number }[] = [];
  private readonly windows = new Map<number, WindowAgg>();
  private rateSamples: RateSample[] = [];
  private hubEvents = 0;
  private hubOther = 0;
  private lateEvents = 0;
  private last: StackSnapshot | null = null;
  private logs: LogLine[] = [];
  private header: Header = { source: '', detail: '', endpoints: [] };
  private phase: LivePhase = 'starting';

  constructor(
    readonly startedAt: number,
    options: LiveModelOptions = {},
  ) {
    this.recentWindows = options.recentWindows ?? 10;
    this.latencyWindowMs = options.latencyWindowMs ?? 60_000;
    this.rateWindowMs = options.rateWindowMs ?? 5000;
    this.top = options.top ?? 10;
    this.logLines = options.logLines ?? 5;
  }

  setHeader(header: Header): void {
    this.header = header;
  }

  setPhase(phase: LivePhase): void {
    this.phase = phase;
  }

  /**
   * A record block was committed (and its BlobCreated event is on its way) at `at`: the blob's row id
   * (blobIdOf) and the record's byte offset, which its summaries carry as `blob` and `recordOffset`.
   */
  commit(blobId: string, recordOffset: number, at: number): void {
    const key = `${blobId}\u0000${recordOffset}`;
    const arrived = this.arrivedFirst.get(key);
    if (arrived !== undefined) {
      // Its summaries were on the hub before the commit was registered (`at` is taken after the commit
      // returned): a sample all the same, of the time since then (0 when the hub was first).
      this.arrivedFirst.delete(key);
      this.latencies.push({ at: Math.max(at, arrived), ms: Math.max(0, arrived - at) });
      return;
    }
    this.pending.set(key, at);
  }

  /** An event reached the hub at `at` (its enqueued time); bodies that are not summaries are counted apart. */
  hubEvent(body: unknown, at: number): void {
    if (!isSummary(body)) {
      this.hubOther++;
      return;
    }
    this.hubEvents++;
    const key = `${body.blob}\u0000${body.recordOffset}`;
    const committed = this.pending.get(key);
    if (committed !== undefined) {
      // First summary of that block: its end-to-end latency. Later ones (and redeliveries) are not samples.
      this.pending.delete(key);
      this.latencies.push({ at, ms: Math.max(0, at - committed) });
    } else if (!this.arrivedFirst.has(key)) this.arrivedFirst.set(key, at);
    this.addToWindow(body);
  }

  log(level: LogLine['level'], text: string, at: number): void {
    this.logs.push({ at, level, text: text.replace(/\s+/g, ' ').trim() });
    if (this.logs.length > this.logLines) this.logs = this.logs.slice(-this.logLines);
  }

  snapshot(s: StackSnapshot): void {
    this.last = s;
    this.phase = s.phase;
    this.rateSamples.push({
      at: s.at,
      hubEvents: this.hubEvents,
      summaries: num(s.app['summaries.built']),
      tuples: num(s.app['tuples.parsed']),
      blocks: s.writer.blocks,
      blobEvents: num(s.app['events.received']),
    });
    // Keep one sample older than the rate window, so the rate always spans the whole window.
    const cutoff = s.at - this.rateWindowMs;
    while (this.rateSamples.length > 2 && this.rateSamples[1]!.at <= cutoff) this.rateSamples.shift();
    for (const [key, at] of this.pending) if (s.at - at > PENDING_TTL_MS) this.pending.delete(key);
    for (const [key, at] of this.arrivedFirst) if (s.at - at > PENDING_TTL_MS) this.arrivedFirst.delete(key);
  }

  /** Hub events whose body is not a summary. */
  get otherEvents(): number {
    return this.hubOther;
  }

  /** Summaries that arrived for windows older than every window kept (not counted in the panels). */
  get late(): number {
    return this.lateEvents;
  }

  view(now: number): LiveView {
    this.latencies = this.latencies.filter((l) => now - l.at <= this.latencyWindowMs);
    const sorted = this.latencies.map((l) => l.ms).sort((a, b) => a - b);
    const s = this.last;
    const blobs = (s?.blobs ?? []).map(blobRow);
    const app = s?.app ?? {};
    return {
      now,
      startedAt: this.startedAt,
      phase: this.phase,
      header: this.header,
      writer: s?.writer ?? null,
      rates: this.rates(),
      totals: {
        hubEvents: this.hubEvents,
        summaries: num(app['summaries.built']),
        tuples: num(app['tuples.parsed']),
        records: num(app['records.parsed']),
        runsStarted: num(app['runs.started']),
        runsCompleted: s?.runs.completed ?? 0,
        runsCoalesced: num(app['runs.coalesced']),
        runsFailed: s?.runs.failed ?? 0,
        newGenerations: num(app['runs.newGeneration']),
        emitRetries: num(app['emit.retries']),
        eventsStale: num(app['events.stale']),
        sweepPoked: num(app['sweep.blobsPoked']),
      },
      latency: {
        samples: sorted.length,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted.length > 0 ? sorted[sorted.length - 1]! : null,
      },
      latencyWindowMs: this.latencyWindowMs,
      blobs,
      blobTotals: {
        written: blobs.length + (s?.retiredBlobs ?? 0),
        shown: blobs.length,
        lagging: blobs.filter((b) => b.lagBytes > 0 || b.lagBlocks > 0).length,
        failed: blobs.filter((b) => b.state === 'failed').length,
        lagBytes: blobs.reduce((n, b) => n + b.lagBytes, 0),
        lagBlocks: blobs.reduce((n, b) => n + b.lagBlocks, 0),
      },
      talkers: this.talkers(),
      denied: this.deniedSources(),
      windows: [...this.windows.values()]
        .sort((a, b) => b.start - a.start)
        .map((w) => ({
          windowStart: w.iso,
          rows: w.rows,
          tuples: w.tuples,
          bytes: w.bytes,
          denied: w.denied,
          blobs: w.blobs.size,
        })),
      recentWindows: this.recentWindows,
      host: s?.host ?? null,
      instances: s?.instances ?? null,
      sweeps: s?.sweeps ?? 0,
      rssBytes: s?.rssBytes ?? null,
      logs: [...this.logs],
    };
  }

  private rates(): Rates {
    const first = this.rateSamples[0];
    const last = this.rateSamples[this.rateSamples.length - 1];
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    if (!first || !last || seconds < 0.4)
      return { hubEvents: null, summaries: null, tuples: null, blocks: null, blobEvents: null };
    const rate = (k: keyof Omit<RateSample, 'at'>) => (last[k] - first[k]) / seconds;
    return {
      hubEvents: rate('hubEvents'),
      summaries: rate('summaries'),
      tuples: rate('tuples'),
      blocks: rate('blocks'),
      blobEvents: rate('blobEvents'),
    };
  }

  private addToWindow(s: SummaryFields): void {
    const start = Date.parse(s.windowStart);
    if (Number.isNaN(start)) return;
    let w = this.windows.get(start);
    if (!w) {
      if (this.windows.size >= this.recentWindows && start < Math.min(...this.windows.keys())) {
        this.lateEvents++;
        return;
      }
      w = {
        start,
        iso: s.windowStart,
        rows: 0,
        tuples: 0,
        bytes: 0,
        denied: 0,
        blobs: new Set(),
        pairs: new Map(),
        deny: new Map(),
      };
      this.windows.set(start, w);
      while (this.windows.size > this.recentWindows) this.windows.delete(Math.min(...this.windows.keys()));
    }
    const bytes = num(s.bytesSrcToDst) + num(s.bytesDstToSrc);
    w.rows++;
    w.tuples += num(s.tuples);
    w.bytes += bytes;
    w.blobs.add(s.blob);
    if (bytes > 0) {
      // Talkers are pairs that moved bytes (denied and begin-only tuples carry no counters).
      const pairKey = `${s.srcIp}\u0000${s.dstIp}`;
      let pair = w.pairs.get(pairKey);
      if (!pair) {
        pair = { src: s.srcIp, dst: s.dstIp, bytes: 0, packets: 0, dstLabel: null };
        w.pairs.set(pairKey, pair);
      }
      pair.bytes += bytes;
      pair.packets += num(s.packetsSrcToDst) + num(s.packetsDstToSrc);
      pair.dstLabel ??= s.dstServiceTag ?? s.dstAsOrg ?? s.dstCountry ?? null;
    }
    const denied = s.decision === 'Deny' ? Math.max(num(s.flowsDenied), num(s.tuples)) : num(s.flowsDenied);
    if (denied > 0) {
      w.denied += denied;
      let d = w.deny.get(s.srcIp);
      if (!d) {
        d = { src: s.srcIp, denied: 0, ports: new Set(), targets: new Set(), rule: s.rule };
        w.deny.set(s.srcIp, d);
      }
      d.denied += denied;
      d.ports.add(s.dstPort);
      d.targets.add(s.dstIp);
      d.rule = s.rule;
    }
  }

  private talkers(): Talker[] {
    const merged = new Map<string, PairAgg>();
    for (const w of this.windows.values())
      for (const [key, p] of w.pairs) {
        const m = merged.get(key);
        if (m) {
          m.bytes += p.bytes;
          m.packets += p.packets;
          m.dstLabel ??= p.dstLabel;
        } else merged.set(key, { ...p });
      }
    return [...merged.values()]
      .sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || cmp(a.src, b.src) || cmp(a.dst, b.dst))
      .slice(0, this.top)
      .map((p) => ({ src: p.src, dst: p.dst, bytes: p.bytes, packets: p.packets, dstLabel: p.dstLabel }));
  }

  private deniedSources(): DeniedSource[] {
    const merged = new Map<
      string,
      { src: string; denied: number; ports: Set<number>; targets: Set<string>; rule: string }
    >();
    for (const w of [...this.windows.values()].sort((a, b) => a.start - b.start))
      for (const [src, d] of w.deny) {
        const m = merged.get(src);
        if (m) {
          m.denied += d.denied;
          for (const p of d.ports) m.ports.add(p);
          for (const t of d.targets) m.targets.add(t);
          m.rule = d.rule;
        } else
          merged.set(src, {
            src,
            denied: d.denied,
            ports: new Set(d.ports),
            targets: new Set(d.targets),
            rule: d.rule,
          });
      }
    return [...merged.values()]
      .sort((a, b) => b.denied - a.denied || cmp(a.src, b.src))
      .slice(0, this.top)
      .map((d) => ({
        src: d.src,
        denied: d.denied,
        ports: d.ports.size,
        targets: d.targets.size,
        rule: d.rule,
      }));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
