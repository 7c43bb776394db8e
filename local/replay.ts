/**
 * Replays flow-log files through the whole app offline, the way Azure would deliver them: each file is
 * written into Azurite as a growing block blob (one record block per commit, closer re-committed last),
 * a BlobCreated event follows each commit (some duplicated, some out of order), and the sweep catches
 * whatever events were lost. With chaos, a share of activity executions and Event Hub sends fail and a
 * share of events is dropped.
 */
// The Functions host shim must be installed before anything loads @azure/functions.
import './functions-host';
import { readFile } from 'node:fs/promises';
import { summariesOfEvent } from '../adapters/event-hubs';
import { appServices } from '../app/services';
import { sweepOnce } from '../app/sweep';
import { names } from '../common/names';
import { blobIdentityFromName, parseHourPath } from '../domain/blob-identity';
import { blobKey } from '../domain/blob-ref';
import type { FlowLogError } from '../domain/errors';
import { RecordScanner } from '../domain/framing/record-scanner';
import { seededRandom } from '../domain/simulate/simulate';
import { BlobSummarizer } from '../domain/summarize';
import type { FlowSummary } from '../domain/summary/schema';
import { type SummaryEnricherLike, SummaryReader, wholeSummaryText } from '../domain/summary/serialize';
import { blobCreatedEvent, type CommitInfo } from './azure-writer';
import type { ReceivedEvent } from './eventhubs';
import { NSG_CONTAINER, type OfflineStack, VNET_CONTAINER } from './offline-stack';

export interface ReplayOptions {
  /**
   * Shorthand: the share of activity executions that fail, of Event Hub sends that are refused and of
   * BlobCreated events that are lost, in [0, 1). The three shares below override it one by one.
   */
  readonly chaos?: number;
  readonly activityFaults?: number;
  readonly sendFaults?: number;
  readonly lostEvents?: number;
  /**
   * Commit every record of every blob first, then deliver one BlobCreated per blob (an outage, a blob
   * first seen late, the sweep catching up): each run reads a whole backlog over many chunks.
   */
  readonly backlog?: boolean;
  readonly seed: number;
  /** Share of events delivered twice (default 0.1). */
  readonly duplicateShare?: number;
  /** Time limit for catching up (default 10 minutes). */
  readonly timeoutMs?: number;
  readonly onProgress?: (message: string) => void;
}

export interface ReplayInput {
  readonly path: string;
  /** Blob name in the Azure layout (from resourceId= / flowLogResourceID= on). */
  readonly name: string;
  readonly container: string;
}

export interface ReplayResult {
  readonly blobs: number;
  readonly records: number;
  readonly eventsSent: number;
  readonly eventsDropped: number;
  readonly eventsDuplicated: number;
  readonly sweeps: number;
  readonly hubEvents: ReceivedEvent[];
  readonly failedRuns: number;
  /** Activity executions replaced by an injected fault, and hub sends refused by one. */
  readonly activityFaultsInjected: number;
  readonly sendFaultsInjected: number;
  /** Runs replaced while they held a blob (stuck past the bound, or ended without releasing it). */
  readonly runsReplaced: number;
  readonly seconds: number;
}

/** Where a file goes in Azure: its Azure-layout name and container, or an error saying what is needed. */
export function replayTarget(path: string, identity: string): ReplayInput {
  const name = blobIdentityFromName(identity);
  if (!name?.endsWith('/PT1H.json'))
    throw new Error(
      `${path}: replay needs files in Azure's layout (resourceId=… or flowLogResourceID=…/y=/m=/d=/h=/m=00/macAddress=…/PT1H.json), as written by flowlog simulate or downloaded from a flow-log container`,
    );
  return { path, name, container: name.startsWith('flowLogResourceID=') ? VNET_CONTAINER : NSG_CONTAINER };
}

/** The raw text of each record of a flow-log file, in order, exactly as written (no re-serialization). */
export async function recordsOf(path: string): Promise<string[]> {
  const bytes = await readFile(path);
  const scanner = new RecordScanner({ source: path, start: 'document', byteOffset: 0, firstOrdinal: 0 });
  const records = scanner.push(bytes).map((r) => Buffer.from(r.bytes).toString('utf8'));
  scanner.end(true);
  return records;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function replay(
  stack: OfflineStack,
  inputs: readonly ReplayInput[],
  options: ReplayOptions,
): Promise<ReplayResult> {
  const started = Date.now();
  const rnd = seededRandom(options.seed);
  const log = options.onProgress ?? (() => undefined);
  const activityFaults = options.activityFaults ?? options.chaos ?? 0;
  const sendFaults = options.sendFaults ?? options.chaos ?? 0;
  const lostEvents = options.lostEvents ?? options.chaos ?? 0;
  const faultsBefore = {
    activity: stack.host.faults.injected,
    send: stack.eventHubs.counters.faultsInjected,
  };
  if (activityFaults > 0) stack.host.faults.chaos({ probability: activityFaults, seed: options.seed });
  if (sendFaults > 0) stack.eventHubs.faults.failSendProbability(sendFaults, seededRandom(options.seed + 1));
  // Interleave the blobs' commits like Azure does (every NIC adds a block each minute).
  const queues = await Promise.all(
    inputs.map(async (i) => ({ input: i, records: await recordsOf(i.path), next: 0 })),
  );
  const total = queues.reduce((n, q) => n + q.records.length, 0);
  let eventsSent = 0;
  let eventsDropped = 0;
  let eventsDuplicated = 0;
  let held: object[] = [];
  let written = 0;
  // Event Grid delivers concurrently: a delivery that waits for its blob's active run holds up nothing else.
  const deliveries: Promise<void>[] = [];
  const deliver = async (event: object) => {
    eventsSent++;
    deliveries.push(stack.host.sendEventGridEvent(names.blobCreated, event).catch(() => undefined));
  };
  const lastCommit = new Map<ReplayInput, CommitInfo>();
  while (written < total) {
    for (const q of queues) {
      const record = q.records[q.next];
      if (record === undefined) continue;
      q.next++;
      written++;
      const commit: CommitInfo = await stack.writer
        .forContainer(q.input.container)
        .appendRecord(q.input.name, record);
      if (options.backlog) {
        lastCommit.set(q.input, commit);
        continue;
      }
      const event = blobCreatedEvent(stack.account, q.input.container, q.input.name, commit);
      const roll = rnd();
      if (roll < lostEvents) {
        eventsDropped++;
        continue;
      }
      // Some events are held back and delivered after later ones (out of order), some twice.
      if (roll < lostEvents + 0.15) held.push(event);
      else await deliver(event);
      if (rnd() < (options.duplicateShare ?? 0.1)) {
        eventsDuplicated++;
        // Half of the duplicates come at once, while the first delivery is still starting its instance
        // (the start race of the Azure Storage backend); the others later.
        if (rnd() < 0.5) await deliver(event);
        else held.push(event);
      }
    }
    if (held.length > 8 || written >= total) {
      const late = held.reverse();
      held = [];
      for (const e of late) await deliver(e);
    }
    if (written % 50 === 0) log(`written ${written}/${total} records`);
  }
  // The backlog's events: one per blob, for its last commit, all at once.
  for (const [input, commit] of lastCommit) {
    if (rnd() < lostEvents) {
      eventsDropped++;
      continue;
    }
    await deliver(blobCreatedEvent(stack.account, input.container, input.name, commit));
  }

  await Promise.all(deliveries);
  // Catch up: wait for runs, then sweep (it finds blobs whose events were lost) until nothing is behind.
  const deadline = started + (options.timeoutMs ?? 600_000);
  const hours = [...new Set(inputs.map((i) => parseHourPath(i.name)?.hourStart.getTime() ?? 0))];
  let sweeps = 0;
  for (;;) {
    await stack.host.waitForIdle({ timeoutMs: Math.max(1000, deadline - Date.now()), fastForward: true });
    if (await caughtUp(stack, inputs)) break;
    if (Date.now() > deadline)
      throw new Error('replay did not catch up in time; see GET /api/blobs?state=failed');
    sweeps++;
    // Failed runs are rerun from their checkpoint, as an operator (or the next event) would.
    await stack.host.http({ method: 'POST', url: '/api/blobs/rerun-failed' });
    // The timer sweeps the current and previous hour of the wall clock; replayed blobs can be of any hour.
    for (const hour of hours)
      await sweepOnce(stack.host.durableClient(), appServices(), new Date(hour + 30 * 60_000), console);
    await sleep(50);
  }
  const activityFaultsInjected = stack.host.faults.injected - faultsBefore.activity;
  const sendFaultsInjected = stack.eventHubs.counters.faultsInjected - faultsBefore.send;
  stack.host.faults.clear();
  stack.eventHubs.faults.reset();
  let runsReplaced = 0;
  for (const i of inputs) {
    const key = blobKey({ account: stack.account, container: i.container, name: i.name });
    const entity = stack.host.durable.readEntityState(names.blobStateEntity, key);
    runsReplaced +=
      (JSON.parse(entity.stateJson ?? '{}') as { stuckRunsReplaced?: number }).stuckRunsReplaced ?? 0;
  }
  return {
    blobs: inputs.length,
    records: total,
    eventsSent,
    eventsDropped,
    eventsDuplicated,
    sweeps,
    hubEvents: stack.eventHubs.events('flow-summaries'),
    failedRuns: stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }).length,
    activityFaultsInjected,
    sendFaultsInjected,
    runsReplaced,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Every input blob's data was read (ledger: consumed = length - 2) and its last run did not fail. */
async function caughtUp(stack: OfflineStack, inputs: readonly ReplayInput[]): Promise<boolean> {
  const rows = new Map((await appServices().ledger.list()).map((r) => [`${r.container}/${r.name}`, r]));
  const service = stack.azurite.blobServiceClient();
  for (const i of inputs) {
    const row = rows.get(`${i.container}/${i.name}`);
    if (!row || row.state === 'failed') return false;
    const props = await service.getContainerClient(i.container).getBlobClient(i.name).getProperties();
    if (row.consumedBytes < (props.contentLength ?? 0) - 2) return false;
  }
  return true;
}

/** How the hub, deduplicated by id as ADX does, compares with `flowlog process` on the same files. */
export interface ReplayCheck {
  /** Summaries `flowlog process` gives. */
  readonly expected: number;
  /** Distinct ids on the hub. */
  readonly distinct: number;
  /** Expected ids the hub never got: rows lost. */
  readonly lost: number;
  /** Ids on the hub that `flowlog process` does not give (the same data under another id counts twice). */
  readonly unexpected: number;
  /** Ids on the hub with other measures than `flowlog process` gives, or sent with two bodies. */
  readonly differing: number;
  /** Tuples, bytes and packets summed over the expected rows and over the deduplicated hub. */
  readonly sums: { readonly expected: MeasureSums; readonly hub: MeasureSums };
  /** A few ids of each problem, for the report. */
  readonly samples: readonly string[];
}

export interface MeasureSums {
  tuples: number;
  bytes: number;
  packets: number;
}

const sumOf = (rows: Iterable<FlowSummary>): MeasureSums => {
  const s: MeasureSums = { tuples: 0, bytes: 0, packets: 0 };
  for (const r of rows) {
    s.tuples += r.tuples;
    s.bytes += r.bytesSrcToDst + r.bytesDstToSrc;
    s.packets += r.packetsSrcToDst + r.packetsDstToSrc;
  }
  return s;
};

/** What `flowlog process` writes for one file: the summaries every path must reproduce. */
/**
 * The summaries of one input by the general path (JSON.parse, summary objects), enriched one by one when
 * an enricher is given: the reference the app's byte-level path must reproduce.
 */
export async function processedSummaries(
  input: ReplayInput,
  windowSeconds: number,
  enricher?: SummaryEnricherLike,
): Promise<FlowSummary[]> {
  const s = new BlobSummarizer({ blob: blobIdentityFromName(input.name) ?? input.name, windowSeconds });
  const out: FlowSummary[] = [];
  const problems: FlowLogError[] = [];
  s.push(await readFile(input.path), out, problems);
  s.end(true, problems);
  if (enricher) for (const summary of out) enricher.enrich(summary);
  return out;
}

/**
 * Compares the hub's events with `flowlog process` on the same inputs, after dedup by id (enriched by
 * `enricher` when the app ran with enrichment: give it the same data).
 */
export async function checkReplay(
  hubEvents: readonly ReceivedEvent[],
  inputs: readonly ReplayInput[],
  windowSeconds: number,
  enricher?: SummaryEnricherLike,
): Promise<ReplayCheck> {
  const expected = new Map<string, FlowSummary>();
  for (const input of inputs)
    for (const s of await processedSummaries(input, windowSeconds, enricher)) expected.set(s.id, s);
  const hub = new Map<string, FlowSummary>();
  const samples: string[] = [];
  let differing = 0;
  // Rows are compared whole: their own fields and their group's (a row whose group line never reached
  // the hub throws UnknownGroupError: that is a loss too).
  const whole = wholeSummaryText;
  const reader = new SummaryReader();
  for (const e of hubEvents)
    for (const body of summariesOfEvent(e, reader)) {
      const previous = hub.get(body.id);
      if (previous && whole(previous) !== whole(body)) {
        differing++;
        if (samples.length < 6) samples.push(`sent with two bodies: ${body.id}`);
      }
      hub.set(body.id, body);
    }
  let lost = 0;
  for (const [id, want] of expected) {
    const got = hub.get(id);
    if (!got) {
      lost++;
      if (samples.length < 6)
        samples.push(`lost: ${id} (record at byte ${want.recordOffset} of ${want.resourceId})`);
    } else if (whole(got) !== whole(want)) {
      differing++;
      if (samples.length < 6) samples.push(`differs: ${id}`);
    }
  }
  let unexpected = 0;
  for (const id of hub.keys()) {
    if (expected.has(id)) continue;
    unexpected++;
    if (samples.length < 6) samples.push(`not from flowlog process: ${id}`);
  }
  return {
    expected: expected.size,
    distinct: hub.size,
    lost,
    unexpected,
    differing,
    sums: { expected: sumOf(expected.values()), hub: sumOf(hub.values()) },
    samples,
  };
}
