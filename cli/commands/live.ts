// The local Functions host shim must be installed before anything loads @azure/functions.
import '../../local/functions-host';
import { LiveDashboard } from '../../local/dashboard/live-feed';
import type { LiveView } from '../../local/live/model';
import { renderFrame, renderStatusLine, renderSummary } from '../../local/live/render';
import { type LiveResult, LiveSession, type StopReason } from '../../local/live/session';
import { type KeyInput, Screen, type ScreenStream } from '../../local/live/terminal';
import { FolderTraffic, SimulatedTraffic, type TrafficSource } from '../../local/live/traffic';
import { nonNegativeInt, parseCommandArgs, positiveInt, UsageError } from '../args';

export const LIVE_USAGE = `Usage: flowlog live [options]                                   (npm start runs this)

The offline demo of the whole app. Starts Azurite (Blob + Table), an Event Hubs AMQP server and the
local Functions host with the app, then writes flow-log blobs live the way Azure does: one record block
per blob per interval, a BlobCreated event after each commit, and the next hour's blob once an hour's
records are written. Time is compressed: one interval is one simulated minute. The screen shows the blobs
and their lag, events and summaries reaching the Event Hub, commit-to-hub latency, top talkers, denied
flows, the latest windows and what the app's runs and activities did.

Traffic:
  --nsgs N                 NICs logged by NSG flow logs (v2)                   (default 4)
  --vnets N                NICs logged by VNet flow logs (v4)                  (default 4)
  --interval SECONDS       time between two blocks of one blob, may be < 1      (default 2)
  --minutes-per-hour M     blocks per blob before its NIC rolls over to the
                           next hour's blob (Azure: 60)                        (default 10)
  --flows-per-minute F     new flows per NIC per simulated minute               (default 50)
  --seed S                 random seed of the simulation                        (default 1)
  --from-folder DIR        instead of simulating, replay a folder of real flow logs in Azure's layout
                           (a downloaded flow-log container, or flowlog simulate --out): one block per
                           blob per interval, each NIC's hours in turn; the run ends by itself once all
                           was written and read
App:
  --no-enrich              no enrichment (GeoIP, ASN, service tags are on by default; the data loads in
                           ~0.1 s from the on-disk cache, ~1 s the first time on a machine)
  --window SECONDS         summary window                                       (default 60)
Dashboard:
  --dashboard-port N       port of the live web dashboard on 127.0.0.1 (the same panels as the Grafana
                           dashboard, from the summaries on the hub); taken: any free port  (default 8077)
  --no-dashboard           no web dashboard
Run:
  --duration SECONDS       stop by itself after this long; 0 = until Ctrl-C     (default 0)
  --no-ui                  a plain status line every 5 s instead of the live screen (the default when
                           stdout is not a terminal, e.g. in CI)
  -h, --help               this text

Ctrl-C (or q) stops cleanly: writing stops, the app catches up and finishes its runs (at most 20 s), the
stack stops, the terminal is restored and a summary is printed. Ctrl-C a second time quits at once.

While it runs, the local endpoints shown on screen are live: the app's HTTP API (GET /api/blobs,
GET /api/blobs?state=lagging, GET /api/blobs/{key}, POST /api/blobs/rerun ...) and the Event Hub
(AMQP, hub flow-summaries) that any @azure/event-hubs consumer can read.

Real Azure: this command is the offline demo only. To summarize real flow logs as Azure writes them, deploy
the Functions app itself (docs/deployment.md: azd up creates the app, Event Hubs and the Event Grid
subscriptions on the flow-log storage accounts). To watch real logs here, download them and use
--from-folder.

Exit codes: 0 stopped (by Ctrl-C, or by itself with every blob read to its end); 1 stopped by itself
(--duration, a replayed folder) but the app had not caught up 20 s later; 2 usage error; 130 quit with a
second Ctrl-C.`;

/** Where the command writes and listens; tests pass their own. */
export interface LiveIo {
  readonly stdout: ScreenStream;
  readonly stderr: { write(text: string): boolean };
  readonly stdin?: KeyInput;
  /** Emits SIGINT / SIGTERM (the process by default). */
  readonly signals?: NodeJS.EventEmitter;
  /** Quit at once (a second Ctrl-C); process.exit by default. */
  readonly exit?: (code: number) => void;
  /** Receives the run's result before runLive returns (tests read the final view from it). */
  readonly onResult?: (result: LiveResult) => void;
}

export interface LiveOptions {
  readonly nsgs: number;
  readonly vnets: number;
  readonly intervalMs: number;
  readonly minutesPerHour: number;
  readonly flowsPerMinute: number;
  readonly seed: number;
  readonly fromFolder: string | undefined;
  readonly enrich: boolean;
  readonly windowSeconds: number;
  readonly durationMs: number;
  readonly ui: boolean;
  /** The web dashboard's port (0: any free one), or null for none. */
  readonly dashboardPort: number | null;
}

const REPORT_EVERY_MS = 5000;

function seconds(value: string | undefined, name: string, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || value.trim() === '')
    throw new UsageError(
      `--${name} must be a number of seconds${allowZero ? ' ≥ 0' : ' > 0'}, got "${value}"`,
    );
  return n;
}

export function parseLiveArgs(argv: readonly string[], stdoutIsTty: boolean): LiveOptions | 'help' {
  const { values, positionals } = parseCommandArgs(argv, {
    nsgs: { type: 'string' },
    vnets: { type: 'string' },
    interval: { type: 'string' },
    'minutes-per-hour': { type: 'string' },
    'flows-per-minute': { type: 'string' },
    seed: { type: 'string' },
    'from-folder': { type: 'string' },
    'no-enrich': { type: 'boolean' },
    window: { type: 'string' },
    duration: { type: 'string' },
    'no-ui': { type: 'boolean' },
    'dashboard-port': { type: 'string' },
    'no-dashboard': { type: 'boolean' },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const str = (k: string) =>
    (values as Record<string, string | boolean | undefined>)[k] as string | undefined;
  const fromFolder = str('from-folder');
  if (fromFolder !== undefined) {
    const simOnly = ['nsgs', 'vnets', 'minutes-per-hour', 'flows-per-minute', 'seed'].filter(
      (k) => str(k) !== undefined,
    );
    if (simOnly.length > 0)
      throw new UsageError(`--${simOnly[0]} shapes simulated traffic; it does not apply with --from-folder`);
  }
  const options: LiveOptions = {
    nsgs: nonNegativeInt(str('nsgs'), 'nsgs', 4),
    vnets: nonNegativeInt(str('vnets'), 'vnets', 4),
    intervalMs: Math.round(seconds(str('interval'), 'interval', 2, false) * 1000),
    minutesPerHour: positiveInt(str('minutes-per-hour'), 'minutes-per-hour', 10),
    flowsPerMinute: positiveInt(str('flows-per-minute'), 'flows-per-minute', 50),
    seed: nonNegativeInt(str('seed'), 'seed', 1),
    fromFolder,
    enrich: values['no-enrich'] !== true,
    windowSeconds: positiveInt(str('window'), 'window', 60),
    durationMs: Math.round(seconds(str('duration'), 'duration', 0, true) * 1000),
    ui: values['no-ui'] !== true && stdoutIsTty,
    dashboardPort:
      values['no-dashboard'] === true ? null : nonNegativeInt(str('dashboard-port'), 'dashboard-port', 8077),
  };
  if (options.minutesPerHour > 60) throw new UsageError('--minutes-per-hour is at most 60');
  if (fromFolder === undefined && options.nsgs + options.vnets === 0)
    throw new UsageError('--nsgs and --vnets are both 0: nothing to simulate');
  if (options.intervalMs < 50) throw new UsageError('--interval must be at least 0.05 seconds');
  return options;
}

function describeRun(o: LiveOptions): string {
  const every =
    o.intervalMs % 1000 === 0 ? `${o.intervalMs / 1000} s` : `${(o.intervalMs / 1000).toFixed(2)} s`;
  return [
    `1 block/blob every ${every}`,
    ...(o.fromFolder === undefined
      ? [`${o.minutesPerHour} min/hour`, `${o.flowsPerMinute} flows/min`, `seed ${o.seed}`]
      : []),
    `window ${o.windowSeconds} s`,
    `enrich ${o.enrich ? 'on' : 'off'}`,
    ...(o.durationMs > 0 ? [`stops after ${o.durationMs / 1000} s`] : []),
  ].join(' · ');
}

async function openTraffic(o: LiveOptions): Promise<TrafficSource> {
  if (o.fromFolder !== undefined) {
    try {
      return await FolderTraffic.open(o.fromFolder);
    } catch (error) {
      // A missing folder or files outside Azure's layout: say so with the usage, not a stack trace.
      throw new UsageError(`--from-folder: ${(error as Error).message}`);
    }
  }
  const now = new Date();
  return new SimulatedTraffic({
    nsgs: o.nsgs,
    vnets: o.vnets,
    seed: o.seed,
    flowsPerMinute: o.flowsPerMinute,
    minutesPerHour: o.minutesPerHour,
    start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), now.getUTCHours())),
  });
}

/** The web dashboard on the port asked for, or on any free port when that one is taken. */
async function startDashboard(port: number): Promise<LiveDashboard> {
  try {
    return await LiveDashboard.start(port, 'live session');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    return LiveDashboard.start(0, 'live session');
  }
}

/** Runs the live demo with parsed options; resolves with the session's result once it stopped. */
export async function runLiveSession(options: LiveOptions, io: LiveIo): Promise<LiveResult> {
  const signals = io.signals ?? process;
  const exit = io.exit ?? ((code: number) => process.exit(code));
  const screen = options.ui ? new Screen(io.stdout, io.stdin) : undefined;
  const say = (text: string) => {
    if (!screen?.isActive) io.stderr.write(`flowlog live: ${text}\n`);
  };
  let session: LiveSession | undefined;
  let requested: StopReason | undefined;
  let lastReport = Date.now();
  let lastLogAt = 0;
  let lastView: LiveView | undefined;
  let dashboard: LiveDashboard | undefined;

  const draw = () => {
    if (screen && lastView)
      screen.draw(renderFrame(lastView, { width: screen.width, height: screen.height, color: true }));
  };
  const requestStop = () => {
    if (requested !== undefined) {
      // Second request: quit now, leaving the terminal as it was.
      screen?.leave();
      io.stderr.write('flowlog live: quit without waiting\n');
      exit(130);
      return;
    }
    requested = 'interrupted';
    say('stopping: writing stopped, letting the app catch up (Ctrl-C again quits at once)…');
    void session?.stop('interrupted');
  };
  signals.on('SIGINT', requestStop);
  signals.on('SIGTERM', requestStop);
  try {
    const traffic = await openTraffic(options);
    dashboard = options.dashboardPort === null ? undefined : await startDashboard(options.dashboardPort);
    if (dashboard) say(`dashboard: ${dashboard.url}`);
    session = await LiveSession.start({
      ...dashboard?.sessionOptions(),
      traffic,
      intervalMs: options.intervalMs,
      enrich: options.enrich,
      durationMs: options.durationMs,
      stopWhenExhausted: options.fromFolder !== undefined,
      windowSeconds: options.windowSeconds,
      detail: describeRun(options),
      onMessage: say,
      onFrame: (view) => {
        lastView = view;
        if (screen) draw();
        else {
          // Plain mode: new warnings and errors as they come, a status line every few seconds.
          for (const l of view.logs)
            if (l.at > lastLogAt)
              io.stderr.write(`flowlog live: ${l.level === 'error' ? 'error' : 'warning'}: ${l.text}\n`);
          lastLogAt = Math.max(lastLogAt, ...view.logs.map((l) => l.at));
          if (view.now - lastReport >= REPORT_EVERY_MS && view.phase === 'running') {
            lastReport = view.now;
            io.stdout.write(`${renderStatusLine(view)}\n`);
          }
        }
      },
    });
    dashboard?.attach(session);
    if (screen)
      screen.enter({
        onResize: draw,
        onStopKey: requestStop,
        onConsole: (level, text) => session?.model.log(level, text, Date.now()),
      });
    else say(`${traffic.description}; ${describeRun(options)}; Ctrl-C stops`);
    if (requested !== undefined) void session.stop(requested);
    const result = await session.done;
    screen?.leave();
    const width = io.stdout.columns ?? 100;
    if (screen) io.stdout.write(`${renderFrame(result.view, { width, color: true }).join('\n')}\n\n`);
    else io.stdout.write(`${renderStatusLine(result.view)}\n`);
    io.stdout.write(`${renderSummary(result.view).join('\n')}\n`);
    if (!result.caughtUp) say('some blobs were still behind when the stack stopped (see the lag column)');
    return result;
  } finally {
    screen?.leave();
    await dashboard?.close();
    signals.off('SIGINT', requestStop);
    signals.off('SIGTERM', requestStop);
  }
}

export async function runLive(argv: readonly string[], io?: LiveIo): Promise<number> {
  const streams: LiveIo = io ?? { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  const options = parseLiveArgs(argv, streams.stdout.isTTY === true);
  if (options === 'help') {
    streams.stdout.write(`${LIVE_USAGE}\n`);
    return 0;
  }
  const result = await runLiveSession(options, streams);
  streams.onResult?.(result);
  // Stopped by the user: a clean stop is success (the summary shows any lag). Stopped by itself (--duration,
  // a finished folder): the app must have caught up.
  return result.caughtUp || result.reason === 'interrupted' ? 0 : 1;
}
