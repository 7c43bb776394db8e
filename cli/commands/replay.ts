// The local Functions host shim must be installed before anything loads @azure/functions.
import '../../local/functions-host';
import { createWriteStream } from 'node:fs';
import { rowsOfEvent } from '../../adapters/event-hubs';
import { startOfflineStack } from '../../local/offline-stack';
import { checkReplay, type ReplayCheck, type ReplayResult, replay, replayTarget } from '../../local/replay';
import { nonNegativeInt, parseCommandArgs, positiveInt, probability, UsageError } from '../args';
import { collectInputs } from '../files';

export const REPLAY_USAGE = `Usage: flowlog replay <files or folders...> [--out FILE] [options]

Runs the whole Functions app offline (Azurite, an Event Hubs AMQP test server, the local Functions host)
and replays each PT1H.json the way Azure writes it: a growing block blob, one record block per commit,
a BlobCreated event after each commit (some duplicated, some out of order). Waits until every blob's
cursor has caught up, then checks the hub against "flowlog process" on the same files: after dedup by
"id" (what ADX's dedup view does) every row must be there once, with the same measures. With --out,
writes every event that reached the Event Hub as NDJSON (duplicates included).

Inputs must be in Azure's layout (resourceId=... or flowLogResourceID=.../y=/m=/d=/h=/m=00/macAddress=.../PT1H.json),
as "flowlog simulate" writes them or as downloaded from a flow-log container.

Options:
  --out FILE              where to write the hub's events, one line per summary row or group line (NDJSON; with --seeds, of the last seed)
  --window SECONDS        window length                                              (default 60)
  --chaos P               shorthand for the three fault shares below                 (default 0)
  --activity-faults P     share of activity executions that fail                     (default: --chaos)
  --send-faults P         share of Event Hub sends the hub refuses                   (default: --chaos)
  --lost-events P         share of BlobCreated events that are lost (the sweep finds them) (default: --chaos)
  --backlog               commit every record first, then deliver one event per blob
  --parse-chunk-bytes N   bytes one parse activity reads at most (small: many chunks per run)
  --stuck-run-ms N        a run without progress for N ms is replaced (small: overlapping runs)
  --seed N                seed of the faults and of the event order                   (default 1)
  --seeds K               run K seeds (seed, seed+1, ...), each on a fresh stack      (default 1)
  -h, --help              this text

Exit codes: 0 every seed caught up and the hub equals "flowlog process"; 1 a seed lost, doubled or
changed rows, or did not catch up (see stderr); 2 usage error.`;

function describe(seed: number, r: ReplayResult, c: ReplayCheck): string {
  return (
    `seed ${seed}: ${r.blobs} blobs, ${r.records} records; ${r.eventsSent} events delivered ` +
    `(${r.eventsDuplicated} duplicated, ${r.eventsDropped} lost), ${r.sweeps} sweeps; faults injected: ` +
    `${r.activityFaultsInjected} activity, ${r.sendFaultsInjected} send; runs replaced ${r.runsReplaced}, ` +
    `failed instances ${r.failedRuns}; hub ${r.hubEvents.length} events, ${c.distinct} distinct ids of ` +
    `${c.expected} expected; lost ${c.lost}, double counted ${c.unexpected}, differing ${c.differing}; ` +
    `tuples ${c.sums.hub.tuples}/${c.sums.expected.tuples}; ${r.seconds.toFixed(1)} s`
  );
}

export async function runReplay(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string', short: 'o' },
    window: { type: 'string', short: 'w' },
    chaos: { type: 'string' },
    'activity-faults': { type: 'string' },
    'send-faults': { type: 'string' },
    'lost-events': { type: 'string' },
    backlog: { type: 'boolean' },
    'parse-chunk-bytes': { type: 'string' },
    'stuck-run-ms': { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder to replay');
  const windowSeconds = positiveInt(values.window as string | undefined, 'window', 60);
  const chaos = probability(values.chaos as string | undefined, 'chaos', 0);
  const share = (name: 'activity-faults' | 'send-faults' | 'lost-events') =>
    probability(values[name] as string | undefined, name, chaos);
  const firstSeed = nonNegativeInt(values.seed as string | undefined, 'seed', 1);
  const seeds = positiveInt(values.seeds as string | undefined, 'seeds', 1);
  const chunkBytes = values['parse-chunk-bytes'] as string | undefined;
  const stuckMs = values['stuck-run-ms'] as string | undefined;
  const files = await collectInputs(positionals);
  if (files.length === 0) throw new UsageError('no *.json files found in the inputs');
  let inputs: ReturnType<typeof replayTarget>[];
  try {
    inputs = files.map((f) => replayTarget(f.path, f.identity));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let failed = false;
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const stack = await startOfflineStack({
      windowSeconds,
      host: { clock: 'real' },
      ...(chunkBytes !== undefined
        ? { parseChunkBytes: positiveInt(chunkBytes, 'parse-chunk-bytes', 0) }
        : {}),
      ...(stuckMs !== undefined
        ? {
            settings: { FLOWLOG_STUCK_RUN_MINUTES: String(positiveInt(stuckMs, 'stuck-run-ms', 0) / 60_000) },
          }
        : {}),
    });
    try {
      const result = await replay(stack, inputs, {
        seed,
        activityFaults: share('activity-faults'),
        sendFaults: share('send-faults'),
        lostEvents: share('lost-events'),
        backlog: values.backlog === true,
        onProgress: (m) => process.stderr.write(`flowlog replay: ${m}\n`),
      });
      const check = await checkReplay(result.hubEvents, inputs, windowSeconds);
      process.stderr.write(`flowlog replay: ${describe(seed, result, check)}\n`);
      for (const s of check.samples) process.stderr.write(`flowlog replay:   ${s}\n`);
      if (check.lost + check.unexpected + check.differing > 0) failed = true;
      if (typeof values.out === 'string' && seed === firstSeed + seeds - 1) {
        const out = createWriteStream(values.out);
        // One summary per line, as `flowlog process` writes them (events carry several rows each).
        for (const e of result.hubEvents)
          for (const row of rowsOfEvent(e.bodyBytes ?? e.body, e.properties))
            if (!out.write(`${row}\n`))
              await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        await new Promise<void>((resolve, reject) =>
          out.end((err?: Error | null) => (err ? reject(err) : resolve())),
        );
      }
    } catch (error) {
      process.stderr.write(`flowlog replay: seed ${seed}: ${(error as Error).message}\n`);
      failed = true;
    } finally {
      await stack.stop();
    }
  }
  return failed ? 1 : 0;
}
