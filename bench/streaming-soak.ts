/**
 * The streaming path under everything Azure does, at a size the unit tests do not use: several seeds of
 * each scenario of test/app/replay.test.ts over 300 records (5 blobs of 60 one-record blocks), each run
 * checked against `flowlog process` after dedup by id. Prints a Markdown section; `--write FILE` puts it
 * into docs/benchmarks.md (replacing an earlier copy of this section only).
 */
import { summariesOfEvent } from '../adapters/event-hubs';
import { SummaryReader } from '../domain/summary/serialize';
import '../local/functions-host';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateToFolder } from '../cli/commands/simulate';
import { collectInputs } from '../cli/files';
import { type OfflineStackOptions, startOfflineStack } from '../local/offline-stack';
import { checkReplay, type ReplayOptions, replay, replayTarget } from '../local/replay';
import { runSection } from './markdown';

/** Summary rows in these hub events (group lines joined, not counted). */
function hubRows(events: readonly Parameters<typeof summariesOfEvent>[0][]): number {
  const reader = new SummaryReader();
  return events.reduce((n, e) => n + summariesOfEvent(e, reader).length, 0);
}

const SECTION_TITLE = '## Streaming path soak: nothing lost, nothing counted twice';

interface SoakScenario {
  readonly name: string;
  readonly stack: OfflineStackOptions;
  readonly replay: Omit<ReplayOptions, 'seed'>;
  readonly duplicateActivities?: number;
  readonly seeds: readonly number[];
}

const SCENARIOS: SoakScenario[] = [
  {
    name: 'backlog, 3 KB chunks, 10 % activity + 10 % send faults',
    stack: { parseChunkBytes: 3000 },
    replay: { backlog: true, activityFaults: 0.1, sendFaults: 0.1, lostEvents: 0 },
    seeds: [1, 2, 3],
  },
  {
    name: 'growing, 3 KB chunks, 6 KB batches, chaos 0.2',
    stack: { parseChunkBytes: 3000, maxMessageSize: 6000 },
    replay: { chaos: 0.2 },
    seeds: [1, 2, 3],
  },
  {
    name: 'overlapping runs (1 s stuck bound), chaos 0.1',
    stack: { parseChunkBytes: 3000, settings: { FLOWLOG_STUCK_RUN_MINUTES: String(1000 / 60_000) } },
    replay: { chaos: 0.1 },
    seeds: [1, 2],
  },
  {
    name: 'activities run twice (200), chaos 0.1',
    stack: { parseChunkBytes: 3000 },
    replay: { chaos: 0.1 },
    duplicateActivities: 200,
    seeds: [1, 2],
  },
];

export async function soakSection(quick: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-soak-'));
  const sim = await simulateToFolder(dir, {
    nsgs: 3,
    vnets: 2,
    hours: 1,
    flowsPerMinute: 4,
    seed: 1,
    start: new Date('2026-11-30T02:00:00Z'),
  });
  const inputs = (await collectInputs([dir])).map((f) => replayTarget(f.path, f.identity));
  const rows: string[] = [];
  const totals = { runs: 0, lost: 0, doubled: 0, differing: 0, activityFaults: 0, sendFaults: 0, events: 0 };
  for (const scenario of SCENARIOS) {
    for (const seed of quick ? scenario.seeds.slice(0, 1) : scenario.seeds) {
      const stack = await startOfflineStack({
        ...scenario.stack,
        host: { clock: 'real', ...scenario.stack.host },
      });
      try {
        if (scenario.duplicateActivities)
          stack.host.faults.duplicateActivity(() => true, scenario.duplicateActivities);
        const r = await replay(stack, inputs, { seed, timeoutMs: 900_000, ...scenario.replay });
        const c = await checkReplay(r.hubEvents, inputs, 60);
        totals.runs++;
        totals.lost += c.lost;
        totals.doubled += c.unexpected;
        totals.differing += c.differing;
        totals.activityFaults += r.activityFaultsInjected;
        totals.sendFaults += r.sendFaultsInjected;
        totals.events += r.eventsDropped;
        rows.push(
          `| ${scenario.name} | ${seed} | ${r.records} | ${c.expected} | ${r.hubEvents.length} (${hubRows(r.hubEvents)} rows) | ${c.lost} | ${c.unexpected} | ${c.differing} | ${r.activityFaultsInjected} | ${r.sendFaultsInjected} | ${r.eventsDropped} | ${r.runsReplaced} | ${r.failedRuns} | ${r.seconds.toFixed(1)} |`,
        );
        process.stderr.write(
          `soak: ${scenario.name}, seed ${seed}: lost ${c.lost}, doubled ${c.unexpected}\n`,
        );
      } finally {
        await stack.stop();
      }
    }
  }
  return [
    SECTION_TITLE,
    '',
    `\`node dist/bench/streaming-soak.js\` (part of \`npm run bench\`): ${sim.blobs} blobs, ${sim.records} records, ${sim.tuples} tuples (\`flowlog simulate --nsgs 3 --vnets 2 --flows-per-minute 4 --seed 1\`), each scenario of \`test/app/replay.test.ts\` with several seeds, each seed on a fresh stack. After dedup by id the hub is compared with \`flowlog process\` on the same files: **lost** = expected ids missing, **doubled** = ids \`flowlog process\` does not give (the same data counted under another id), **differing** = ids with other measures or two bodies. "Runs replaced" = runs taken over while they held a blob (stuck or ended); "failed" = instances that failed after their retries (the replay then reruns them as an operator would).`,
    '',
    '| scenario | seed | records | expected rows | hub events (rows in them) | lost | doubled | differing | activity faults | send faults | events lost | runs replaced | failed | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Totals: ${totals.runs} runs, ${totals.activityFaults} activity faults, ${totals.sendFaults} hub send faults and ${totals.events} lost events injected; **rows lost ${totals.lost}, rows double counted ${totals.doubled}, rows differing ${totals.differing}**.`,
    '',
  ].join('\n');
}

if (require.main === module) runSection(SECTION_TITLE, soakSection);
