/**
 * A live run of the whole app offline: the offline stack (Azurite, Event Hubs test server, local Functions
 * host with the app), a writer that commits one record block per blob per tick the way Azure does and sends
 * a BlobCreated event after each commit (redelivered on failure, like Event Grid), a sweep every so often
 * (the timer trigger, on the simulated clock), and a LiveModel fed with everything that reaches the hub.
 * `stop()` stops writing, lets the app catch up and finish its runs (bounded), then stops the stack.
 */
// The Functions host shim must be installed before anything loads @azure/functions.
import '../functions-host';
import { summariesOfEvent } from '../../adapters/event-hubs';
import { appServices } from '../../app/services';
import { sweepOnce } from '../../app/sweep';
import { names } from '../../common/names';
import { blobIdentityFromName, blobIdOf, parseHourPath } from '../../domain/blob-identity';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import type { FlowSummary } from '../../domain/summary/schema';
import { SummaryReader } from '../../domain/summary/serialize';
import { blobCreatedEvent } from '../azure-writer';
import type { LogRecord } from '../functions-host';
import {
  EMULATORS_SETTING,
  type EmulatorMode,
  emulatorMode,
  LOCAL_HUB,
  type OfflineStack,
  startOfflineStack,
} from '../offline-stack';
import {
  type BlobSnapshot,
  blobLabel,
  blobRow,
  LiveModel,
  type LiveModelOptions,
  type LivePhase,
  type LiveView,
  type StackSnapshot,
} from './model';
import type { TrafficRecord, TrafficSource } from './traffic';

export interface LiveSessionOptions {
  readonly traffic: TrafficSource;
  /** Time between two blocks of one blob. */
  readonly intervalMs: number;
  readonly enrich: boolean;
  /** Stop by itself after this long (0: only on stop()). */
  readonly durationMs: number;
  /** Stop by itself once the source is exhausted and everything was read (folder mode). */
  readonly stopWhenExhausted?: boolean;
  readonly windowSeconds?: number;
  /** Longest wait for the app to catch up and finish its runs at stop (default 20 s). */
  readonly drainTimeoutMs?: number;
  /**
   * Each NIC commits at its own offset in the tick (NIC i of n at i/n of the interval), as Azure's writers
   * and the capacity bench do; false commits every NIC's block at the start of the tick (default true).
   */
  readonly spreadCommits?: boolean;
  /** Where Azurite and Event Hubs run: default FLOWLOG_LOCAL_EMULATORS, else a child process. */
  readonly emulators?: EmulatorMode;
  /** How often the sweep runs (default 30 s), as the timer trigger would. */
  readonly sweepEveryMs?: number;
  /** Longest time between two sweeps of Azurite's blob GC (default 10 s; Azurite's own is 10 minutes). */
  readonly azuriteGcMs?: number;
  /** Events the local hub keeps (default 20,000); the view folds each event as it arrives. */
  readonly retainEvents?: number;
  /** How long a finished blob stays on screen once read to its end (default 6 s or 3 intervals). */
  readonly lingerMs?: number;
  /** How often a snapshot is taken and onFrame called (default 500 ms). */
  readonly frameEveryMs?: number;
  /** Shown under the title (interval, minutes per hour, enrichment...). */
  readonly detail?: string;
  readonly model?: LiveModelOptions;
  readonly onFrame?: (view: LiveView) => void;
  /** The summaries of each event that reaches the hub (the live dashboard's feed). */
  readonly onSummaries?: (rows: readonly FlowSummary[]) => void;
  /** More local endpoints for the header (the dashboard's URL). */
  readonly endpoints?: readonly string[];
  /** Progress before the first frame and during stop ("starting the offline stack", ...). */
  readonly onMessage?: (text: string) => void;
}

export type StopReason = 'duration' | 'interrupted' | 'exhausted' | 'stopped';

export interface LiveResult {
  readonly reason: StopReason;
  readonly view: LiveView;
  /** Every blob written was read to its end and no run was left active. */
  readonly caughtUp: boolean;
  readonly drainMs: number;
}

interface TrackedBlob {
  readonly key: string;
  /** The NIC (traffic stream) writing it. */
  readonly stream: number;
  readonly container: string;
  readonly name: string;
  readonly identity: string;
  /** The `blob` field of its rows. */
  readonly blobId: string;
  readonly logType: 'nsg' | 'vnet';
  readonly hourStart: number | undefined;
  committedRecords: number;
  committedLength: number;
  current: boolean;
  finishedAt: number;
  /** Appends to one blob are serialized (the writer keeps its block list). */
  chain: Promise<void>;
}

/** When in its tick a stream commits: stream i of n at i/n of the interval. */
export function commitOffsetMs(stream: number, streams: number, intervalMs: number): number {
  return streams <= 1 ? 0 : ((stream % streams) * intervalMs) / streams;
}

/**
 * The emulators of a live run: FLOWLOG_LOCAL_EMULATORS when set, else a child process, so the host and the
 * app get one core and Azurite and the hub the other (local/README.md).
 */
export function liveEmulatorMode(asked?: EmulatorMode): EmulatorMode {
  return asked ?? (process.env[EMULATORS_SETTING] === undefined ? 'child' : emulatorMode());
}

/** Delays of Event Grid-like redeliveries of an event whose function invocation failed. */
const REDELIVERY_MS = [2000, 5000, 10_000];

export class LiveSession {
  readonly model: LiveModel;
  readonly done: Promise<LiveResult>;
  private resolveDone!: (r: LiveResult) => void;
  private readonly tracked = new Map<string, TrackedBlob>();
  private retired = 0;
  private readonly finishedByStream = new Map<number, TrackedBlob[]>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private phase: LivePhase = 'starting';
  private stopping: Promise<LiveResult> | undefined;
  private writerLoop: Promise<void> = Promise.resolve();
  private readonly wakers = new Set<() => void>();
  private sweeping = false;
  private sweeps = 0;
  private dataTime: string | null = null;
  private readonly counts = { blocks: 0, blobs: 0, sent: 0, redelivered: 0, givenUp: 0, lateTicks: 0 };
  private readonly runs = { completed: 0, failed: 0 };
  private unsubscribe: () => void = () => undefined;

  private constructor(
    private readonly stack: OfflineStack,
    private readonly options: LiveSessionOptions,
    model: LiveModel,
  ) {
    this.model = model;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  static async start(options: LiveSessionOptions): Promise<LiveSession> {
    const model = new LiveModel(Date.now(), options.model);
    const say = options.onMessage ?? (() => undefined);
    say('starting the offline stack (Azurite, Event Hubs, Functions host with the app)…');
    const t0 = Date.now();
    const stack = await startOfflineStack({
      emulators: liveEmulatorMode(options.emulators),
      // A long run would otherwise hold every event the hub ever received (~7 KB each).
      retainEvents: options.retainEvents ?? 20_000,
      azurite: { blobGcIntervalMs: options.azuriteGcMs ?? 10_000 },
      enrich: options.enrich,
      ...(options.windowSeconds !== undefined ? { windowSeconds: options.windowSeconds } : {}),
      host: {
        clock: 'real',
        onLog: (r: LogRecord) => {
          if (r.level === 'error' || r.level === 'critical' || r.level === 'warning')
            model.log(
              r.level === 'warning' ? 'warn' : 'error',
              `${r.functionName || 'host'}: ${r.message}`,
              r.time.getTime(),
            );
        },
      },
    });
    say(`offline stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const session = new LiveSession(stack, options, model);
    session.begin();
    return session;
  }

  /** Stops writing, lets the app catch up (bounded), stops the stack. Idempotent. */
  stop(reason: StopReason = 'stopped'): Promise<LiveResult> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  /** The blobs shown: key, the `blob` id their rows carry, and name (the dashboard's per-blob lag). */
  blobIdentities(): { key: string; blobId: string; name: string }[] {
    return [...this.tracked.values()].map((t) => ({ key: t.key, blobId: t.blobId, name: t.name }));
  }

  /** The running stack (tests look inside). */
  get offlineStack(): OfflineStack {
    return this.stack;
  }

  private begin(): void {
    const { stack, options, model } = this;
    const ehPort = stack.eventHubs.port;
    model.setHeader({
      source: options.traffic.description,
      detail: options.detail ?? '',
      endpoints: [
        `API ${stack.host.origin}/api/blobs (x-functions-key: ${stack.host.keys.function}; rerun/replay: ${stack.host.keys.master})`,
        `Event Hub amqp://127.0.0.1:${ehPort}/${LOCAL_HUB}`,
        `Azurite ${new URL(stack.azurite.blobEndpoint).host}`,
        ...(options.endpoints ?? []),
      ],
    });
    // One reader for the hub: a FlowGroups event comes before the rows of its groups.
    const reader = new SummaryReader();
    const offHub = stack.eventHubs.onEvent((e) => {
      // Several summaries per event: each is a row of its own for the view.
      let rows: unknown[];
      let summaries: FlowSummary[] | undefined;
      try {
        rows = summaries = summariesOfEvent(e, reader);
      } catch {
        rows = [e.body];
      }
      if (summaries) options.onSummaries?.(summaries);
      for (const row of rows) model.hubEvent(row, e.enqueuedTime.getTime());
    });
    const offEpisodes = stack.host.durable.onEpisode((r) => {
      if (r.name !== names.processBlob) return;
      if (r.runtimeStatus === 'Completed' || r.runtimeStatus === 'ContinuedAsNew') this.runs.completed++;
      else if (r.runtimeStatus === 'Failed') this.runs.failed++;
    });
    this.unsubscribe = () => {
      offHub();
      offEpisodes();
    };
    this.phase = 'running';
    model.setPhase('running');
    this.writerLoop = this.writeLoop().catch((error: unknown) => {
      // A source that cannot be read further (a file gone, say): writing stops, the rest keeps running.
      this.model.log('error', `writing stopped: ${(error as Error).message}`, Date.now());
    });
    this.every(options.frameEveryMs ?? 500, () => this.frame());
    this.every(options.sweepEveryMs ?? 30_000, () => void this.sweep());
    if (options.durationMs > 0) this.later(options.durationMs, () => void this.stop('duration'));
    this.frame();
  }

  // ---- writing ---------------------------------------------------------------------------------------

  private async writeLoop(): Promise<void> {
    const { intervalMs, traffic } = this.options;
    const spread = this.options.spreadCommits ?? true;
    let due = Date.now();
    while (this.phase === 'running') {
      const records = await traffic.next();
      if (records.length === 0) {
        if (this.options.stopWhenExhausted) void this.stopWhenCaughtUp();
        return;
      }
      const tickStart = due;
      await Promise.all(
        records.map(async (r) => {
          // Each NIC commits at its own offset in the tick, as Azure's writers do, not all at once. stop()
          // wakes the waits: the tick in progress is written at once, so every NIC stops at the same block
          // count, as when a tick was committed all at once.
          if (spread)
            await this.sleepUntil(tickStart + commitOffsetMs(r.stream, traffic.streams, intervalMs));
          await this.write(r);
        }),
      );
      due += intervalMs;
      const wait = due - Date.now();
      if (wait < 0) {
        // The tick overran its interval: start the next one now and keep the cadence from here.
        this.counts.lateTicks++;
        due = Date.now();
        continue;
      }
      await this.sleepUntil(due);
    }
  }

  /** Waits until `at`; stop() wakes every waiter at once. */
  private sleepUntil(at: number): Promise<void> {
    const wait = at - Date.now();
    if (wait <= 0 || this.phase !== 'running') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, wait);
      this.timers.add(timer);
      this.wakers.add(wake);
    });
  }

  private track(r: TrafficRecord): TrackedBlob {
    const key = blobKey({ account: this.stack.account, container: r.container, name: r.name });
    let t = this.tracked.get(key);
    if (!t) {
      t = {
        key,
        stream: r.stream,
        container: r.container,
        name: r.name,
        identity: blobIdentityFromName(r.name) ?? r.name,
        blobId: blobIdOf(blobIdentityFromName(r.name) ?? r.name),
        logType: r.logType,
        hourStart: parseHourPath(r.name)?.hourStart.getTime(),
        committedRecords: 0,
        committedLength: 0,
        current: true,
        finishedAt: 0,
        chain: Promise.resolve(),
      };
      this.tracked.set(key, t);
      this.counts.blobs++;
    }
    return t;
  }

  private write(r: TrafficRecord): Promise<void> {
    const t = this.track(r);
    const run = async () => {
      try {
        const commit = await this.stack.writer.forContainer(r.container).appendRecord(r.name, r.json);
        const at = Date.now();
        t.committedRecords = Math.max(t.committedRecords, r.ordinal + 1);
        t.committedLength = commit.contentLength;
        this.counts.blocks++;
        if (r.time && (this.dataTime === null || r.time > this.dataTime)) this.dataTime = r.time;
        this.model.commit(t.blobId, commit.recordOffset ?? -1, at);
        if (r.lastOfBlob) {
          t.current = false;
          t.finishedAt = at;
        }
        this.counts.sent++;
        this.deliver(blobCreatedEvent(this.stack.account, r.container, r.name, commit), 0);
      } catch (error) {
        this.model.log(
          'error',
          `writing ${blobLabel(r.name).label}: ${(error as Error).message}`,
          Date.now(),
        );
      }
    };
    t.chain = t.chain.then(run);
    return t.chain;
  }

  /** Hands the event to the app without waiting (a run may be active); failed deliveries are retried. */
  private deliver(event: object, attempt: number): void {
    const p = this.stack.host
      .sendEventGridEvent(names.blobCreated, event)
      .catch((error: unknown) => {
        if (this.phase !== 'running') return;
        const delay = REDELIVERY_MS[attempt];
        if (delay === undefined) {
          this.counts.givenUp++;
          this.model.log(
            'warn',
            `BlobCreated given up after ${attempt + 1} deliveries: ${String(error)}`,
            Date.now(),
          );
          return;
        }
        this.counts.redelivered++;
        this.later(delay, () => this.deliver(event, attempt + 1));
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  // ---- observing -------------------------------------------------------------------------------------

  private snapshotOf(t: TrackedBlob): BlobSnapshot {
    const e = this.stack.host.durable.readEntityState(names.blobStateEntity, t.key);
    const state = e.exists && e.stateJson ? (JSON.parse(e.stateJson) as BlobState) : null;
    return {
      key: t.key,
      container: t.container,
      name: t.name,
      logType: t.logType,
      committedRecords: t.committedRecords,
      committedLength: t.committedLength,
      current: t.current,
      entity: state
        ? {
            cursorByteOffset: state.cursor.byteOffset,
            consumedRecords: state.cursor.recordOrdinal,
            generation: state.generation,
            lastError: state.lastError,
            failureCount: state.failureCount,
            runs: state.stats.runs,
          }
        : null,
      runtimeStatus: this.stack.host.durable.getStatus(t.key)?.runtimeStatus ?? null,
    };
  }

  /** Blobs to show; finished blobs that were read to the end leave the list a little after their hour. */
  private visibleBlobs(now: number): BlobSnapshot[] {
    const linger = this.options.lingerMs ?? Math.max(6000, 3 * this.options.intervalMs);
    const out: BlobSnapshot[] = [];
    for (const t of [...this.tracked.values()]) {
      const s = this.snapshotOf(t);
      const row = blobRow(s);
      const finished = !t.current && row.state === 'done';
      if (finished && now - t.finishedAt > linger && this.phase === 'running') {
        this.retire(t);
        continue;
      }
      out.push(s);
    }
    // NSG NICs first, then VNet; each NIC's hours in order.
    const order = (b: BlobSnapshot) => `${b.logType === 'nsg' ? 0 : 1} ${blobLabel(b.name).label} ${b.name}`;
    return out
      .map((b) => ({ b, k: order(b) }))
      .sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0))
      .map((x) => x.b);
  }

  /**
   * A finished blob read to its end leaves the view. Storage keeps each NIC's last finished hour (what the
   * sweep looks at besides the current one); older ones are deleted with their orchestration's history, so
   * a long run holds a bounded amount of data in the in-memory Azurite and host.
   */
  private retire(t: TrackedBlob): void {
    this.tracked.delete(t.key);
    this.retired++;
    const kept = this.finishedByStream.get(t.stream) ?? [];
    kept.push(t);
    this.finishedByStream.set(t.stream, kept);
    while (kept.length > 1) {
      const old = kept.shift()!;
      // Every event and sweep poke of the blob started an instance of its own.
      for (const instance of this.stack.host.durable.listInstances({ instanceIdPrefix: `${old.key}-` }))
        this.stack.host.durable.purge(instance.instanceId);
      const blob = this.stack.azurite
        .blobServiceClient()
        .getContainerClient(old.container)
        .getBlobClient(old.name);
      const p = blob
        .deleteIfExists()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.model.log('warn', `deleting ${old.name}: ${String(error)}`, Date.now()),
        )
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  private snapshot(now: number): StackSnapshot {
    const durable = this.stack.host.durable;
    const c = durable.counters;
    return {
      at: now,
      phase: this.phase,
      writer: {
        blocks: this.counts.blocks,
        blobsCreated: this.counts.blobs,
        eventsSent: this.counts.sent,
        eventsRedelivered: this.counts.redelivered,
        eventsGivenUp: this.counts.givenUp,
        lateTicks: this.counts.lateTicks,
        dataTime: this.dataTime,
        exhausted: this.options.traffic.exhausted,
      },
      blobs: this.visibleBlobs(now),
      retiredBlobs: this.retired,
      app: appServices().counters.snapshot(),
      host: {
        activityExecutions: c.activityExecutions,
        activityFailures: c.activityFailures,
        orchestratorEpisodes: c.orchestratorEpisodes,
        orchestrationsStarted: c.orchestrationsStarted,
        entityOperations: c.entityOperations,
      },
      instances: {
        active: durable.listInstances({ runtimeStatus: ['Running', 'Pending', 'ContinuedAsNew'] }).length,
        failed: durable.listInstances({ runtimeStatus: ['Failed'] }).length,
        completed: durable.listInstances({ runtimeStatus: ['Completed'] }).length,
      },
      runs: { ...this.runs },
      sweeps: this.sweeps,
      rssBytes: process.memoryUsage.rss(),
    };
  }

  /** Takes a snapshot, folds it into the model and hands the view out. */
  private frame(): LiveView {
    const now = Date.now();
    this.model.snapshot(this.snapshot(now));
    const view = this.model.view(now);
    try {
      this.options.onFrame?.(view);
    } catch {
      // A failing view must not stop the run.
    }
    return view;
  }

  /** Every blob written is read to its end and no run is active. */
  private caughtUp(view: LiveView): boolean {
    return (
      view.blobs.every((b) => b.lagBytes === 0 && b.lagBlocks === 0) && (view.instances?.active ?? 0) === 0
    );
  }

  /** The timer trigger's sweep, on the simulated clock: the hours being written and the one before. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const hours = new Set<number>();
      for (const t of this.tracked.values()) if (t.hourStart !== undefined) hours.add(t.hourStart);
      const logger = this.quietLogger();
      for (const hour of hours)
        await sweepOnce(this.stack.host.durableClient(), appServices(), new Date(hour + 30 * 60_000), logger);
      this.sweeps++;
    } catch (error) {
      this.model.log('warn', `sweep: ${(error as Error).message}`, Date.now());
    } finally {
      this.sweeping = false;
    }
  }

  private quietLogger(): Console {
    const model = this.model;
    const quiet = () => undefined;
    return {
      log: quiet,
      info: quiet,
      debug: quiet,
      trace: quiet,
      warn: (...args: unknown[]) => model.log('warn', args.map(String).join(' '), Date.now()),
      error: (...args: unknown[]) => model.log('error', args.map(String).join(' '), Date.now()),
    } as unknown as Console;
  }

  // ---- stopping --------------------------------------------------------------------------------------

  private async stopWhenCaughtUp(): Promise<void> {
    while (this.phase === 'running') {
      await this.sleep(250);
      if (this.caughtUp(this.model.view(Date.now())) && this.inflight.size === 0) {
        void this.stop('exhausted');
        return;
      }
    }
  }

  private async shutdown(reason: StopReason): Promise<LiveResult> {
    const say = this.options.onMessage ?? (() => undefined);
    const drainStarted = Date.now();
    this.phase = 'draining';
    this.model.setPhase('draining');
    for (const wake of [...this.wakers]) wake();
    await this.writerLoop.catch(() => undefined);
    // Redeliveries still waiting are dropped: the sweep below finds whatever they would have told.
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.intervals) clearInterval(t);
    this.intervals.clear();

    const deadline = drainStarted + (this.options.drainTimeoutMs ?? 20_000);
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise<void>((resolve) => {
        drainTimer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(drainTimer);
    let view = this.frame();
    let lastSweep = 0;
    while (!this.caughtUp(view) && Date.now() < deadline) {
      // Behind with nothing running: an event was lost or redelivery was dropped; the sweep pokes it.
      if ((view.instances?.active ?? 0) === 0 && Date.now() - lastSweep > 1000) {
        lastSweep = Date.now();
        await this.sweep();
      }
      await this.sleep(200);
      view = this.frame();
    }
    const caughtUp = this.caughtUp(view);
    const drainMs = Date.now() - drainStarted;
    if (!caughtUp)
      say(
        `the app did not catch up within ${((this.options.drainTimeoutMs ?? 20_000) / 1000).toFixed(0)} s; stopping anyway`,
      );

    this.phase = 'stopping';
    view = this.frame();
    this.unsubscribe();
    await this.stack.stop();
    this.phase = 'stopped';
    this.model.setPhase('stopped');
    // The final view keeps the last snapshot of the blobs (taken while the stack was up).
    view = this.model.view(Date.now());
    const result: LiveResult = { reason, view, caughtUp, drainMs };
    this.resolveDone(result);
    return result;
  }

  // ---- timers ----------------------------------------------------------------------------------------

  private readonly intervals = new Set<NodeJS.Timeout>();

  private every(ms: number, fn: () => void): void {
    this.intervals.add(setInterval(fn, ms));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
