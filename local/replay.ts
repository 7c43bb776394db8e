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
import { names } from '../app/names';
import { appServices } from '../app/services';
import { sweepOnce } from '../app/sweep';
import { blobIdentityFromName, parseHourPath } from '../domain/blob-identity';
import { RecordScanner } from '../domain/framing/record-scanner';
import { seededRandom } from '../domain/simulate/simulate';
import { blobCreatedEvent, type CommitInfo } from './azure-writer';
import type { ReceivedEvent } from './eventhubs';
import { NSG_CONTAINER, type OfflineStack, VNET_CONTAINER } from './offline-stack';

export interface ReplayOptions {
  /** Share of activity executions, Event Hub sends and events that fail / are dropped, in [0, 1). */
  readonly chaos: number;
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
  if (options.chaos > 0) {
    stack.host.faults.chaos({ probability: options.chaos, seed: options.seed });
    stack.eventHubs.faults.failSendProbability(options.chaos, seededRandom(options.seed + 1));
  }
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
  while (written < total) {
    for (const q of queues) {
      const record = q.records[q.next];
      if (record === undefined) continue;
      q.next++;
      written++;
      const commit: CommitInfo = await stack.writer
        .forContainer(q.input.container)
        .appendRecord(q.input.name, record);
      const event = blobCreatedEvent(stack.account, q.input.container, q.input.name, commit);
      const roll = rnd();
      if (roll < options.chaos) {
        eventsDropped++;
        continue;
      }
      // Some events are held back and delivered after later ones (out of order), some twice.
      if (roll < options.chaos + 0.15) held.push(event);
      else await deliver(event);
      if (rnd() < (options.duplicateShare ?? 0.1)) {
        eventsDuplicated++;
        held.push(event);
      }
    }
    if (held.length > 8 || written >= total) {
      const late = held.reverse();
      held = [];
      for (const e of late) await deliver(e);
    }
    if (written % 50 === 0) log(`written ${written}/${total} records`);
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
  stack.host.faults.clear();
  stack.eventHubs.faults.reset();
  return {
    blobs: inputs.length,
    records: total,
    eventsSent,
    eventsDropped,
    eventsDuplicated,
    sweeps,
    hubEvents: stack.eventHubs.events('flow-summaries'),
    failedRuns: stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }).length,
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
