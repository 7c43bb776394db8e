// The local Functions host shim must be installed before anything loads @azure/functions.
import '../../local/functions-host';
import { createWriteStream } from 'node:fs';
import { startOfflineStack } from '../../local/offline-stack';
import { replay, replayTarget } from '../../local/replay';
import { nonNegativeInt, parseCommandArgs, positiveInt, probability, UsageError } from '../args';
import { collectInputs } from '../files';

export const REPLAY_USAGE = `Usage: flowlog replay <files or folders...> --out FILE [--window SECONDS] [--chaos P] [--seed N]

Runs the whole Functions app offline (Azurite, an Event Hubs AMQP test server, the local Functions host)
and replays each PT1H.json the way Azure writes it: a growing block blob, one record block per commit,
a BlobCreated event after each commit (some duplicated, some out of order). Waits until every blob's
cursor has caught up, then writes every event that reached the Event Hub as NDJSON (duplicates
included: dedup by "id", as ADX does). After dedup the output equals "flowlog process" on the same files.

Inputs must be in Azure's layout (resourceId=... or flowLogResourceID=.../y=/m=/d=/h=/m=00/macAddress=.../PT1H.json),
as "flowlog simulate" writes them or as downloaded from a flow-log container.

Options:
  --out FILE        where to write the hub's events (NDJSON)                    (required)
  --window SECONDS  window length                                                (default 60)
  --chaos P         share of activity executions and Event Hub sends that fail,
                    and of BlobCreated events that are lost (the sweep finds them) (default 0)
  --seed N          seed of the chaos and of the event order                      (default 1)
  -h, --help        this text

Exit codes: 0 caught up and written; 1 did not catch up (see stderr); 2 usage error.`;

export async function runReplay(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string', short: 'o' },
    window: { type: 'string', short: 'w' },
    chaos: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder to replay');
  if (typeof values.out !== 'string') throw new UsageError('--out FILE is required');
  const windowSeconds = positiveInt(values.window as string | undefined, 'window', 60);
  const chaos = probability(values.chaos as string | undefined, 'chaos', 0);
  const seed = nonNegativeInt(values.seed as string | undefined, 'seed', 1);
  const files = await collectInputs(positionals);
  if (files.length === 0) throw new UsageError('no *.json files found in the inputs');
  let inputs: ReturnType<typeof replayTarget>[];
  try {
    inputs = files.map((f) => replayTarget(f.path, f.identity));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stack = await startOfflineStack({ windowSeconds, host: { clock: 'real' } });
  try {
    const result = await replay(stack, inputs, {
      chaos,
      seed,
      onProgress: (m) => process.stderr.write(`flowlog replay: ${m}\n`),
    });
    const out = createWriteStream(values.out);
    for (const e of result.hubEvents) {
      const body = e.body ?? JSON.parse(String(e.bodyBytes));
      if (!out.write(`${JSON.stringify(body)}\n`))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    const distinct = new Set(result.hubEvents.map((e) => e.messageId)).size;
    process.stderr.write(
      `flowlog replay: ${result.blobs} blobs, ${result.records} records; ${result.eventsSent} events sent ` +
        `(${result.eventsDuplicated} duplicated, ${result.eventsDropped} dropped); ${result.sweeps} sweeps; ` +
        `${result.hubEvents.length} hub events, ${distinct} distinct ids; ${result.seconds.toFixed(1)} s\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`flowlog replay: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await stack.stop();
  }
}
