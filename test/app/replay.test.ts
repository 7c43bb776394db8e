import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadEnricher } from '../../adapters/enrichment';
import '../../local/functions-host';
import { appServices } from '../../app/services';
import { simulateToFolder } from '../../cli/commands/simulate';
import { collectInputs } from '../../cli/files';
import { names } from '../../common/names';
import { type OfflineStackOptions, startOfflineStack } from '../../local/offline-stack';
import { checkReplay, type ReplayOptions, replay, replayTarget } from '../../local/replay';
import { eventSummaries } from './support';

async function simulated(seed: number, longTail = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-replay-'));
  await simulateToFolder(dir, {
    nsgs: 2,
    vnets: 2,
    hours: 1,
    flowsPerMinute: 4,
    seed,
    start: new Date('2026-11-30T02:00:00Z'),
    minutesPerHour: 8,
    ...(longTail > 0 ? { longTail, longTailSpace: 'internet' as const } : {}),
  });
  return (await collectInputs([dir])).map((f) => replayTarget(f.path, f.identity));
}

interface Scenario {
  readonly name: string;
  readonly stack: OfflineStackOptions;
  /** Public addresses drawn from the whole IPv4 space (an internet-facing NIC): most enriched anew. */
  readonly longTail?: number;
  /** Activity executions that run a second time after their result was delivered (at-least-once). */
  readonly duplicateActivities?: number;
  readonly replay: Omit<ReplayOptions, 'seed'>;
  /** What the scenario must have made happen, so that a lenient run cannot pass for it. */
  readonly expect: {
    /** `most`: runs read several chunks (a backlog); `some`: at least one did. */
    readonly chunksPerRun?: 'most' | 'some';
    readonly batchesPerEmit?: boolean;
    readonly runsReplaced?: boolean;
    readonly faults?: boolean;
    readonly duplicates?: boolean;
    /** Rows carry GeoIP fields (compared with `flowlog process` enriched by the same data). */
    readonly enriched?: boolean;
  };
}

// Every path that branches on sizes and timings: several chunks per run, several batches per emit, a
// backlog committed before its events, runs replaced while alive, faults in the middle of a fan-out. After
// dedup by id the hub must equal `flowlog process` on the same files: nothing lost, nothing counted twice.
const scenarios: Scenario[] = [
  {
    name: 'no faults: one summary per id, nothing sent twice',
    stack: {},
    replay: { chaos: 0 },
    expect: {},
  },
  {
    name: 'backlog committed before its events, many chunks per run, failing activities and hub sends',
    stack: { parseChunkBytes: 3000 },
    replay: { backlog: true, activityFaults: 0.1, sendFaults: 0.1, lostEvents: 0 },
    expect: { chunksPerRun: 'most', faults: true },
  },
  {
    name: 'growing blobs, many chunks and batches, faults everywhere, lost and duplicated events',
    // Events of at most 900 bytes of rows (a row or two) on a hub whose batches take 2,500: a few events per batch
    // and several batches per emit.
    stack: { parseChunkBytes: 3000, maxMessageSize: 2500, settings: { FLOWLOG_EVENT_MAX_BYTES: '900' } },
    replay: { chaos: 0.2 },
    expect: { chunksPerRun: 'some', batchesPerEmit: true, faults: true },
  },
  {
    name: 'enriched (installed GeoIP/ASN), internet-wide addresses, many chunks and batches, faults everywhere',
    stack: {
      enrich: true,
      parseChunkBytes: 3000,
      maxMessageSize: 2500,
      settings: { FLOWLOG_EVENT_MAX_BYTES: '900' },
    },
    longTail: 100_000,
    replay: { backlog: true, activityFaults: 0.1, sendFaults: 0.1, lostEvents: 0 },
    expect: { chunksPerRun: 'most', batchesPerEmit: true, faults: true, enriched: true },
  },
  {
    name: 'overlapping runs: runs replaced while still alive (a 50 ms stuck bound), with faults',
    stack: { parseChunkBytes: 3000, settings: { FLOWLOG_STUCK_RUN_MINUTES: String(50 / 60_000) } },
    replay: { activityFaults: 0.05, sendFaults: 0.05, lostEvents: 0.05 },
    expect: { chunksPerRun: 'some', runsReplaced: true, faults: true },
  },
  {
    name: 'at-least-once runtime: completed activities run a second time, with faults',
    stack: { parseChunkBytes: 3000 },
    duplicateActivities: 60,
    replay: { chaos: 0.1 },
    expect: { chunksPerRun: 'some', faults: true, duplicates: true },
  },
];

describe('flowlog replay: after dedup by id the hub equals flowlog process', () => {
  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      const inputs = await simulated(7, scenario.longTail);
      // The reference enriched with the data the app loads (FLOWLOG_ENRICH=true, installed defaults).
      const reference = scenario.stack.enrich ? (await loadEnricher({ enabled: true })).enricher : undefined;
      const stack = await startOfflineStack({ host: { clock: 'real' }, ...scenario.stack });
      try {
        if (scenario.duplicateActivities)
          stack.host.faults.duplicateActivity(() => true, scenario.duplicateActivities);
        const result = await replay(stack, inputs, { seed: 5, timeoutMs: 240_000, ...scenario.replay });
        const check = await checkReplay(result.hubEvents, inputs, 60, reference);
        assert.deepEqual(
          {
            lost: check.lost,
            doubleCounted: check.unexpected,
            differing: check.differing,
            samples: check.samples,
          },
          { lost: 0, doubleCounted: 0, differing: 0, samples: [] },
        );
        assert.equal(check.distinct, check.expected);
        assert.deepEqual(check.sums.hub, check.sums.expected);
        assert.equal(result.records, 32);
        const counters = stack.host.durable.counters;
        const executions = (name: string) => counters.activityExecutionsByName[name] ?? 0;
        if (scenario.expect.chunksPerRun)
          assert.ok(
            executions(names.parseChunk) >
              (scenario.expect.chunksPerRun === 'most' ? 2 : 1) * executions(names.planBlobRead),
            `several chunks per run (${executions(names.parseChunk)} parses, ${executions(names.planBlobRead)} plans)`,
          );
        if (scenario.expect.batchesPerEmit) {
          const batches = appServices().counters.get('emit.batches');
          assert.ok(
            batches > 2 * executions(names.emitChunk),
            `several batches per emit (${batches} batches)`,
          );
        }
        if (scenario.expect.enriched) {
          const rows = eventSummaries(result.hubEvents);
          const located = new Set(rows.filter((r) => r.dstCountry !== null).map((r) => r.dstIp));
          assert.ok(located.size > 20, `${located.size} distinct located destinations`);
        }
        if (scenario.expect.runsReplaced)
          assert.ok(result.runsReplaced > 0, 'some runs were replaced while alive');
        if (scenario.expect.duplicates) {
          assert.equal(
            counters.duplicateActivityExecutions,
            scenario.duplicateActivities,
            'activities ran twice',
          );
        }
        if (scenario.expect.faults) {
          assert.ok(result.activityFaultsInjected + result.sendFaultsInjected > 0, 'faults were injected');
        } else {
          assert.equal(
            eventSummaries(result.hubEvents).length,
            check.expected,
            'no duplicates without faults',
          );
        }
      } finally {
        await stack.stop();
      }
    });
  }

  test('files outside the Azure layout are refused with a clear message', () => {
    assert.throws(
      () => replayTarget('/tmp/x.json', 'x.json'),
      /\/tmp\/x\.json: replay needs files in Azure's layout/,
    );
  });
});
