/**
 * Streaming capacity of the local stack (issue 12): N NICs (half NSG v2, half VNet v4) each commit one
 * block per interval, spread over the interval as independent NICs do, with a BlobCreated event after
 * each commit (redelivered on failure) and the sweep every 120 s (the app's schedule), as `flowlog live --nsgs N/2 --vnets N/2
 * --interval 60 --no-enrich` runs the app. Reports blocks/s, commit → hub latency (a block's first
 * summary on the hub, as the live view measures it), the backlog when writing stops, and CPU per block
 * of this process (Functions host + app) apart from the emulator process (Azurite + Event Hubs).
 *
 *   node dist/bench/capacity.js [--points 300:child,1000:child,1000:in-process] [--minutes 5]
 *     [--interval 60] [--quick] [--write docs/benchmarks.md] [--profile-emulators DIR] [--dump PREFIX]
 * `--dump PREFIX` writes PREFIX-<nics>-<mode>.json: each block's commit and hub times, the sweeps' start
 * and end, and main-thread lags over 20 ms, to line the latency tail up with what happened then.
 * Profile the main process with `node --cpu-prof dist/bench/capacity.js ...`.
 */
import '../local/functions-host';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { appServices } from '../app/services';
import { sweepOnce } from '../app/sweep';
import { names } from '../common/names';
import { blobIdentityFromName } from '../domain/blob-identity';
import { murmur128Hex } from '../domain/hash';
import { simulateBlobs } from '../domain/simulate/simulate';
import { blobCreatedEvent } from '../local/azure-writer';
import type { ReceivedEvent } from '../local/eventhubs';
import {
  type EmulatorMode,
  NSG_CONTAINER,
  type OfflineStack,
  type ProcessUsage,
  startOfflineStack,
  VNET_CONTAINER,
} from '../local/offline-stack';
import { runSection } from './markdown';

const SECTION_TITLE = '## Streaming capacity of the local stack';
const REDELIVERY_MS = [2000, 5000, 10_000];
/** The app's sweep schedule in Azure (triggers/sweep.ts: every 2 minutes); `--sweep-seconds` changes it. */
const SWEEP_EVERY_MS = Number(arg('sweep-seconds') ?? 120) * 1000;
const CALIBRATION_BLOCKS = 600;

interface Point {
  readonly nics: number;
  readonly mode: EmulatorMode;
}

interface PointResult extends Point {
  readonly intervalS: number;
  readonly minutes: number;
  readonly steadyS: number;
  readonly committed: number;
  readonly arrived: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly backlogAtEnd: number;
  readonly drainS: number | null;
  readonly mainCpuMsPerBlock: number;
  readonly appCpuMsPerBlock: number;
  readonly emulatorCpuMsPerBlock: number | null;
  readonly emulatorNetMsPerBlock: number | null;
  readonly mainElu: number;
  readonly writerMsPerBlock: number;
  readonly observerMsPerBlock: number;
  readonly redelivered: number;
  readonly givenUp: number;
  readonly failedRuns: number;
  readonly rssMb: number;
  readonly childRssMb: number | null;
  /** The 1-minute load average when the point started (the machine is shared; 2 cores). */
  readonly loadAtStart: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

async function emulatorCpuMs(stack: OfflineStack): Promise<{ ms: number; usage: ProcessUsage } | null> {
  const p = stack.emulatorProcess;
  if (p === undefined) return null;
  const usage = await p.usage();
  return { ms: cpuMs(usage.cpu), usage };
}

/** The blob id of each flow group seen on the hub (FlowGroups events come before their rows). */
const blobOfGroup = new Map<string, string>();

/**
 * The (blob, record) keys of the rows of one hub event, whatever the packing: one JSON summary, or NDJSON
 * rows (gzip when a property says so). Rows carry the blob as its identity or its 16-hex id, and the
 * record as its ordinal or byte offset; the commit side registers every form.
 */
function rowKeys(e: ReceivedEvent): string[] {
  let rows: unknown[];
  if (e.bodyBytes === undefined) rows = [e.body];
  else {
    const gzip = Object.values(e.properties).some((v) => String(v).toLowerCase() === 'gzip');
    const text = (gzip ? gunzipSync(e.bodyBytes) : e.bodyBytes).toString('utf8');
    rows = text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  }
  const keys: string[] = [];
  for (const row of rows) {
    if (row === null || typeof row !== 'object') continue;
    const r = row as Record<string, unknown>;
    // Contract v3: a flow-group line (before its rows) names the blob; rows name their group.
    if (typeof r['id'] !== 'string' && typeof r['group'] === 'string' && typeof r['blob'] === 'string') {
      blobOfGroup.set(r['group'], r['blob']);
      continue;
    }
    const blob = r['blob'] ?? (typeof r['group'] === 'string' ? blobOfGroup.get(r['group']) : undefined);
    const record = r['recordOffset'] ?? r['recordOrdinal'];
    if (typeof blob === 'string' && typeof record === 'number') keys.push(`${blob}\u0000${record}`);
  }
  return keys;
}

/** CPU this process and the emulators spend per block of the writer alone (no events, no app work). */
async function calibrateWriter(stack: OfflineStack): Promise<{ main: number; emulator: number | null }> {
  const container = 'capacity-calibration';
  await stack.azurite.blobServiceClient().getContainerClient(container).createIfNotExists();
  const writer = stack.writer.forContainer(container);
  const [blob] = simulateBlobs({
    nsgs: 1,
    vnets: 0,
    hours: 1,
    flowsPerMinute: 50,
    seed: 5,
    start: new Date('2026-11-30T05:00:00Z'),
    minutesPerHour: 1,
  });
  const record = blob!.records[0]!;
  const blobs = 60;
  const write = (i: number, k: number) => writer.appendRecord(`calib/${i}/PT1H.json`, record).then(() => k);
  // Warm up the clients and connections first.
  await Promise.all(Array.from({ length: blobs }, (_, i) => write(i, 0)));
  const c0 = process.cpuUsage();
  const e0 = await emulatorCpuMs(stack);
  for (let k = 0; k < CALIBRATION_BLOCKS / blobs; k++)
    await Promise.all(Array.from({ length: blobs }, (_, i) => write(i, k)));
  const main = cpuMs(process.cpuUsage(c0)) / CALIBRATION_BLOCKS;
  const e1 = await emulatorCpuMs(stack);
  return { main, emulator: e0 && e1 ? (e1.ms - e0.ms) / CALIBRATION_BLOCKS : null };
}

async function runPoint(point: Point, minutes: number, intervalMs: number, say: (s: string) => void) {
  const profileDir = arg('profile-emulators');
  const { loadavg } = await import('node:os');
  const loadAtStart = loadavg()[0]!;
  const stack = await startOfflineStack({
    emulators: point.mode,
    // The child is started with its own flags (node's own --cpu-prof applies to this process only).
    ...(profileDir !== undefined ? { emulatorExecArgv: ['--cpu-prof', '--cpu-prof-dir', profileDir] } : {}),
    retainEvents: 20_000,
    azurite: { blobGcIntervalMs: 10_000 },
    enrich: false,
    windowSeconds: 60,
    host: { clock: 'real' },
  });
  try {
    const calibration = await calibrateWriter(stack);
    const nsgs = Math.ceil(point.nics / 2);
    const start = new Date('2026-11-30T05:00:00Z');
    const blobs = [
      ...simulateBlobs({
        nsgs,
        vnets: point.nics - nsgs,
        hours: 1,
        flowsPerMinute: 50,
        seed: 1,
        start,
        minutesPerHour: minutes,
      }),
    ];
    // Pending blocks: every key form a row may carry → commit time; removed at the first row.
    const pending = new Map<string, { at: number; block: number }>();
    const committedAt: number[] = [];
    const arrivedAt: (number | undefined)[] = [];
    let observerMs = 0;
    const off = stack.eventHubs.onEvent((e) => {
      const t0 = performance.now();
      for (const key of rowKeys(e)) {
        const p = pending.get(key);
        if (p === undefined) continue;
        pending.delete(key);
        if (arrivedAt[p.block] === undefined) arrivedAt[p.block] = e.enqueuedTime.getTime();
      }
      observerMs += performance.now() - t0;
    });

    let redelivered = 0;
    let givenUp = 0;
    let writing = true;
    const deliveries = new Set<Promise<void>>();
    const deliver = (event: object, attempt: number): void => {
      const p = stack.host
        .sendEventGridEvent(names.blobCreated, event)
        .catch(async () => {
          const delay = REDELIVERY_MS[attempt];
          if (delay === undefined || !writing) {
            givenUp++;
            return;
          }
          redelivered++;
          await sleep(delay);
          deliver(event, attempt + 1);
        })
        .finally(() => deliveries.delete(p));
      deliveries.add(p);
    };

    const commitBlock = async (b: (typeof blobs)[number], m: number) => {
      const container = b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER;
      const record = b.records[m]!;
      const commit = await stack.writer.forContainer(container).appendRecord(b.name, record);
      const at = Date.now();
      const block = committedAt.push(at) - 1;
      const identity = blobIdentityFromName(b.name) ?? b.name;
      const recordOffset = commit.contentLength - 2 - Buffer.byteLength(record);
      for (const key of [
        `${identity}\u0000${m}`,
        `${murmur128Hex(identity).slice(0, 16)}\u0000${recordOffset}`,
      ])
        pending.set(key, { at, block });
      deliver(blobCreatedEvent(stack.account, container, b.name, commit), 0);
    };

    const sweepTimes: [number, number][] = [];
    const sweep = setInterval(() => {
      const sweptAt = Date.now();
      void sweepOnce(stack.host.durableClient(), appServices(), new Date(start.getTime() + 30 * 60_000), {
        log: () => undefined,
        info: () => undefined,
        debug: () => undefined,
        trace: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      } as unknown as Console)
        .catch(() => undefined)
        .finally(() => sweepTimes.push([sweptAt, Date.now()]));
    }, SWEEP_EVERY_MS);
    // Main-thread lag, sampled every 50 ms: when the dump is asked for, to line bursts up with latency.
    const lag: [number, number][] = [];
    let lagExpected = performance.now() + 50;
    const lagTimer = setInterval(() => {
      const now = performance.now();
      lag.push([Date.now(), now - lagExpected]);
      lagExpected = now + 50;
    }, 50);

    // Each NIC has a fixed offset in the interval: commits arrive spread over it, ~N / interval per second.
    const offsets = blobs.map((_, i) => (i * intervalMs) / blobs.length);
    let steadyFrom = { wall: 0, block: 0, cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() };
    let steadyEmu: Awaited<ReturnType<typeof emulatorCpuMs>> = null;
    let observerAtSteady = 0;
    let steadyFromDate = Date.now();
    const began = performance.now();
    for (let m = 0; m < minutes; m++) {
      const tickStart = began + m * intervalMs;
      if (m === 1) {
        // The first interval warms up (connections, JIT, first runs of every blob); measure from here.
        steadyEmu = await emulatorCpuMs(stack);
        steadyFrom = {
          wall: performance.now(),
          block: committedAt.length,
          cpu: process.cpuUsage(),
          elu: performance.eventLoopUtilization(),
        };
        observerAtSteady = observerMs;
        steadyFromDate = Date.now();
      }
      await Promise.all(
        blobs.map(async (b, i) => {
          await sleep(Math.max(0, tickStart + offsets[i]! - performance.now()));
          await commitBlock(b, m);
        }),
      );
      say(
        `  ${point.nics} NICs (${point.mode}): interval ${m + 1}/${minutes}, ${committedAt.length} blocks committed, ${arrivedAt.filter((x) => x !== undefined).length} on the hub`,
      );
      await sleep(Math.max(0, tickStart + intervalMs - performance.now()));
    }
    // The steady window ends one interval after its last commits began: what the app did in the window.
    const steadyMs = performance.now() - steadyFrom.wall;
    const mainCpu = cpuMs(process.cpuUsage(steadyFrom.cpu));
    const elu = performance.eventLoopUtilization(steadyFrom.elu).utilization;
    const emuEnd = await emulatorCpuMs(stack);
    const steadyBlocks = committedAt.length - steadyFrom.block;
    const arrivedInWindow = arrivedAt.filter((t) => t !== undefined && t >= steadyFromDate).length;
    const processed = Math.max(1, arrivedInWindow);
    const backlogAtEnd = committedAt.length - arrivedAt.filter((x) => x !== undefined).length;
    writing = false;
    clearInterval(sweep);
    clearInterval(lagTimer);

    const drainStart = performance.now();
    let drainS: number | null = null;
    while (performance.now() - drainStart < 120_000) {
      if (arrivedAt.filter((x) => x !== undefined).length === committedAt.length) {
        drainS = (performance.now() - drainStart) / 1000;
        break;
      }
      await sleep(200);
    }
    await Promise.allSettled([...deliveries]);
    off();

    const latencies: number[] = [];
    for (let i = steadyFrom.block; i < committedAt.length; i++) {
      const a = arrivedAt[i];
      // A block never seen counts as the longest wait observed (the drain's end).
      latencies.push((a ?? Date.now()) - committedAt[i]!);
    }
    const dump = arg('dump');
    if (dump !== undefined) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        `${dump}-${point.nics}-${point.mode}.json`,
        JSON.stringify({
          steadyFrom: steadyFromDate,
          sweeps: sweepTimes,
          lag: lag.filter(([, l]) => l > 20),
          blocks: committedAt.map((c, i) => [c, arrivedAt[i] ?? null]),
        }),
      );
    }
    latencies.sort((a, b) => a - b);
    const observer = observerMs - observerAtSteady;
    const failedRuns = stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }).length;
    const result: PointResult = {
      ...point,
      intervalS: intervalMs / 1000,
      minutes,
      steadyS: steadyMs / 1000,
      committed: steadyBlocks,
      arrived: arrivedInWindow,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? Number.NaN,
      backlogAtEnd,
      drainS,
      mainCpuMsPerBlock: mainCpu / processed,
      // The writer's appends are per committed block, the app's work per processed block.
      appCpuMsPerBlock: (mainCpu - observer - calibration.main * steadyBlocks) / processed,
      emulatorCpuMsPerBlock: emuEnd && steadyEmu ? (emuEnd.ms - steadyEmu.ms) / processed : null,
      emulatorNetMsPerBlock:
        emuEnd && steadyEmu && calibration.emulator !== null
          ? (emuEnd.ms - steadyEmu.ms - calibration.emulator * steadyBlocks) / processed
          : null,
      mainElu: elu,
      writerMsPerBlock: calibration.main,
      observerMsPerBlock: observer / processed,
      redelivered,
      givenUp,
      failedRuns,
      rssMb: process.memoryUsage.rss() / 2 ** 20,
      childRssMb: emuEnd ? emuEnd.usage.rssBytes / 2 ** 20 : null,
      loadAtStart,
    };
    return result;
  } finally {
    await stack.stop();
  }
}

function parsePoints(text: string): Point[] {
  return text.split(',').map((p) => {
    const [nics, mode] = p.split(':');
    const n = Number(nics);
    if (!Number.isInteger(n) || n < 2 || (mode !== 'child' && mode !== 'in-process'))
      throw new Error(`--points: "${p}" is not NICS:child or NICS:in-process`);
    return { nics: n, mode };
  });
}

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '—');
const f1 = (n: number | null) => (n !== null && Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number | null) => (n !== null && Number.isFinite(n) ? n.toFixed(2) : '—');

function render(results: readonly PointResult[], cores: number): string {
  const r0 = results[0];
  const lines = [
    SECTION_TITLE,
    '',
    `\`npm run bench:capacity\` (bench/capacity.ts). NICs half NSG v2, half VNet v4, 50 flows per NIC-minute, no enrichment; each NIC commits one block per ${r0?.intervalS ?? 60} s at its own offset in the interval (so N NICs give N / ${r0?.intervalS ?? 60} blocks/s, spread as Azure's writers are), a BlobCreated event after each commit (redelivered after 2, 5, 10 s on failure), the sweep every ${SWEEP_EVERY_MS / 1000} s (the app's schedule in Azure is 120 s): what \`flowlog live --nsgs N/2 --vnets N/2 --interval ${r0?.intervalS ?? 60} --no-enrich\` drives, with the commits spread. ${r0?.minutes ?? 0} intervals per point; the first warms up, the rest are the steady window measured. Latency: a block's commit to its first summary enqueued on the hub, over the blocks committed in the steady window (a block not seen by the end counts as its wait until then). Machine: ${cores} cores shared with other work, so figures are noisy; the load average (1 min) when each point started is given.`,
    '',
    '| NICs | emulators | blocks/s committed | blocks/s on hub | p50 ms | p90 ms | p99 ms | max ms | p99 ≤ 2 s | backlog at end (blocks) | drained in s | failed runs | redelivered events | load at start |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.nics} | ${r.mode} | ${f1(r.committed / r.steadyS)} | ${f1(r.arrived / r.steadyS)} | ${f0(r.p50)} | ${f0(r.p90)} | ${f0(r.p99)} | ${f0(r.max)} | ${r.p99 <= 2000 ? 'met' : 'NOT met'} | ${r.backlogAtEnd} | ${r.drainS === null ? '> 120' : r.drainS.toFixed(1)} | ${r.failedRuns} | ${r.redelivered} (${r.givenUp} given up) | ${r.loadAtStart.toFixed(2)} |`,
    ),
    '',
    'CPU per block processed (reaching the hub) in the steady window; a stack that falls behind processes fewer blocks than are committed, so this is what each processed block cost. Main process: Functions host + app + the bench\'s writer and hub observer; "host + app" subtracts the writer (calibrated alone: the same appends with no events) and the observer (timed). Emulator process: Azurite + Event Hubs server; "net" subtracts Azurite\'s share of the writer\'s appends (same calibration). Main-thread busy: event-loop utilisation of the main process.',
    '',
    '| NICs | emulators | main process ms/block | host + app ms/block | writer ms/block | observer ms/block | emulator process ms/block | emulators net ms/block | main-thread busy | RSS main / emulators MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.nics} | ${r.mode} | ${f1(r.mainCpuMsPerBlock)} | ${f1(r.appCpuMsPerBlock)} | ${f2(r.writerMsPerBlock)} | ${f2(r.observerMsPerBlock)} | ${f1(r.emulatorCpuMsPerBlock)} | ${f1(r.emulatorNetMsPerBlock)} | ${(r.mainElu * 100).toFixed(0)} % | ${f0(r.rssMb)} / ${r.childRssMb === null ? '—' : f0(r.childRssMb)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

runSection(SECTION_TITLE, async (quick) => {
  const points = parsePoints(arg('points') ?? (quick ? '40:child' : '300:child,1000:child,1000:in-process'));
  const minutes = Number(arg('minutes') ?? (quick ? 2 : 5));
  const intervalMs = Number(arg('interval') ?? (quick ? 10 : 60)) * 1000;
  const results: PointResult[] = [];
  for (const point of points) {
    process.stderr.write(`capacity: ${point.nics} NICs, emulators ${point.mode}\n`);
    results.push(await runPoint(point, minutes, intervalMs, (s) => process.stderr.write(`${s}\n`)));
  }
  const { availableParallelism } = await import('node:os');
  return render(results, availableParallelism());
});
