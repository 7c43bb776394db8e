/**
 * Figures of the Durable app in the local host (issue 4): block-commit → event-on-hub latency with many
 * blobs growing at once, history bytes and storage operations per processed block, and replay
 * throughput. Prints a Markdown section; bench/run.ts puts it into docs/benchmarks.md.
 */
import '../local/functions-host';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summariesOfEvent } from '../adapters/event-hubs';
import { resetStorageOps, storageOps, totalStorageOps } from '../adapters/storage-ops';
import { simulateToFolder } from '../cli/commands/simulate';
import { collectInputs } from '../cli/files';
import { names } from '../common/names';
import { blobIdentityFromName, blobIdOf } from '../domain/blob-identity';
import { simulateBlobs } from '../domain/simulate/simulate';
import { SummaryReader } from '../domain/summary/serialize';
import { blobCreatedEvent } from '../local/azure-writer';
import { NSG_CONTAINER, startOfflineStack, VNET_CONTAINER } from '../local/offline-stack';
import { checkReplay, replay, replayTarget } from '../local/replay';
import { runSection } from './markdown';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const SECTION_TITLE = '## The Durable app in the local host';

export async function measureLatency(blobCount: number, ticks: number, tickMs: number): Promise<string> {
  const stack = await startOfflineStack({ host: { clock: 'real' } });
  try {
    const half = Math.ceil(blobCount / 2);
    const blobs = [
      ...simulateBlobs({
        nsgs: half,
        vnets: blobCount - half,
        hours: 1,
        flowsPerMinute: 20,
        seed: 9,
        start: new Date('2026-11-30T05:00:00Z'),
        minutesPerHour: ticks,
      }),
    ];
    const committedAt = new Map<string, number>();
    const firstOnHub = new Map<string, number>();
    const wire = { events: 0, rows: 0, bytes: 0 };
    const reader = new SummaryReader();
    const off = stack.eventHubs.onEvent((e) => {
      const rows = summariesOfEvent(e, reader);
      wire.events++;
      wire.rows += rows.length;
      wire.bytes += e.bodyBytes?.length ?? 0;
      for (const row of rows) {
        const k = `${row.blob}#${row.recordOffset}`;
        if (!firstOnHub.has(k)) firstOnHub.set(k, performance.now());
      }
    });
    const historyPerRun: number[] = [];
    const offEpisodes = stack.host.durable.onEpisode((r) => {
      if (r.name === names.processBlob && r.runtimeStatus !== 'Running') historyPerRun.push(r.historyBytes);
    });
    resetStorageOps();
    const counters0 = { ...stack.host.durable.counters };
    const deliveries: Promise<void>[] = [];
    const started = performance.now();
    // Azure's NICs commit independently, each about once a minute: every blob gets a fixed offset in the
    // tick, so commits arrive spread over it (time-compressed: one tick stands for one minute).
    const offsets = blobs.map((_, i) => (i * tickMs) / blobs.length);
    for (let m = 0; m < ticks; m++) {
      const tickStart = performance.now();
      const writes = blobs.map(async (b, i) => {
        await sleep(Math.max(0, tickStart + offsets[i]! - performance.now()));
        const container = b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER;
        const commit = await stack.writer.forContainer(container).appendRecord(b.name, b.records[m]!);
        committedAt.set(
          `${blobIdOf(blobIdentityFromName(b.name)!)}#${commit.recordOffset}`,
          performance.now(),
        );
        deliveries.push(
          stack.host.sendEventGridEvent(
            names.blobCreated,
            blobCreatedEvent(stack.account, container, b.name, commit),
          ),
        );
      });
      await Promise.all(writes);
      await sleep(Math.max(0, tickMs - (performance.now() - tickStart)));
    }
    await Promise.all(deliveries);
    await stack.host.waitForIdle({ timeoutMs: 300_000 });
    const seconds = (performance.now() - started) / 1000;
    off();
    offEpisodes();
    const latencies: number[] = [];
    let missing = 0;
    for (const [k, t] of committedAt) {
      const arrived = firstOnHub.get(k);
      if (arrived === undefined) missing++;
      else latencies.push(arrived - t);
    }
    latencies.sort((a, b) => a - b);
    const blocks = committedAt.size;
    const c = stack.host.durable.counters;
    const ops = { ...storageOps };
    const lines = [
      `### Block commit → summary on the hub, ${blobCount} blobs growing at once`,
      '',
      `${blobCount} blobs (${half} NSG v2, ${blobCount - half} VNet v4), ${ticks} blocks each, one block per blob every ${tickMs} ms (a time-compressed minute), commits spread evenly over the tick as independent NICs do, events delivered concurrently; ${seconds.toFixed(1)} s in all.`,
      '',
      '| blocks | p50 ms | p90 ms | p99 ms | max ms | target p99 | blocks without summaries |',
      '|---|---|---|---|---|---|---|',
      `| ${blocks} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 90).toFixed(0)} | ${percentile(latencies, 99).toFixed(0)} | ${(latencies[latencies.length - 1] ?? Number.NaN).toFixed(0)} | ≤ 2000 ms: ${percentile(latencies, 99) <= 2000 ? 'met' : 'NOT met'} | ${missing} |`,
      '',
      '### Per processed block',
      '',
      `| figure | per block | total |`,
      '|---|---|---|',
      `| orchestration history bytes at the end of a run (mean / max over ${historyPerRun.length} runs) | ${(historyPerRun.reduce((a, b) => a + b, 0) / Math.max(1, historyPerRun.length)).toFixed(0)} / ${Math.max(...historyPerRun)} | — |`,
      `| app storage operations (block list, ranged read, staging, ledger) | ${(totalStorageOps() / blocks).toFixed(1)} | ${totalStorageOps()} |`,
      `| … of which: ${Object.entries(ops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} | | |`,
      `| activity executions | ${((c.activityExecutions - counters0.activityExecutions) / blocks).toFixed(1)} | ${c.activityExecutions - counters0.activityExecutions} |`,
      `| entity operations | ${((c.entityOperations - counters0.entityOperations) / blocks).toFixed(1)} | ${c.entityOperations - counters0.entityOperations} |`,
      `| hub events (several summaries each) | ${(wire.events / blocks).toFixed(2)} | ${wire.events} |`,
      `| summaries on the hub (rows), bytes per row on the wire | ${(wire.rows / blocks).toFixed(1)} rows, ${(wire.bytes / Math.max(1, wire.rows)).toFixed(0)} B/row | ${wire.rows} rows, ${wire.bytes} B |`,
      `| orchestrator episodes | ${((c.orchestratorEpisodes - counters0.orchestratorEpisodes) / blocks).toFixed(1)} | ${c.orchestratorEpisodes - counters0.orchestratorEpisodes} |`,
      `| runs (orchestrations started) | ${((c.orchestrationsStarted - counters0.orchestrationsStarted) / blocks).toFixed(2)} | ${c.orchestrationsStarted - counters0.orchestrationsStarted} |`,
      '',
    ];
    return lines.join('\n');
  } finally {
    await stack.stop();
  }
}

export async function measureReplay(chaos: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-bench-replay-'));
  const sim = await simulateToFolder(dir, {
    nsgs: 4,
    vnets: 4,
    hours: 1,
    flowsPerMinute: 40,
    seed: 3,
    start: new Date('2026-11-30T06:00:00Z'),
  });
  const files = await collectInputs([dir]);
  const stack = await startOfflineStack({ host: { clock: 'real' } });
  try {
    const r = await replay(
      stack,
      files.map((f) => replayTarget(f.path, f.identity)),
      { chaos, seed: 11, timeoutMs: 900_000 },
    );
    const reader = new SummaryReader();
    const rows = r.hubEvents.flatMap((e) => summariesOfEvent(e, reader));
    const distinct = new Set(rows.map((row) => row.id)).size;
    const check = await checkReplay(
      r.hubEvents,
      files.map((f) => replayTarget(f.path, f.identity)),
      60,
    );
    return `| ${chaos} | ${r.blobs} | ${r.records} | ${sim.tuples} | ${r.seconds.toFixed(1)} | ${(r.records / r.seconds).toFixed(1)} | ${(sim.tuples / r.seconds / 1000).toFixed(1)} k | ${r.eventsDropped} | ${r.hubEvents.length} | ${rows.length} | ${distinct} | ${check.lost} / ${check.unexpected} / ${check.differing} |`;
  } finally {
    await stack.stop();
  }
}

export async function appSection(quick: boolean): Promise<string> {
  const latency = await measureLatency(quick ? 20 : 60, quick ? 4 : 10, 10_000);
  const rows = [await measureReplay(0)];
  if (!quick) rows.push(await measureReplay(0.2));
  return [
    SECTION_TITLE,
    '',
    'The real durable-functions replay engine, Azurite and the real @azure/event-hubs client against the',
    'loopback AMQP server, all in one process on this machine (bench/app-pipeline.ts).',
    '',
    latency,
    '### `flowlog replay` throughput',
    '',
    'Every record committed as its own block with a BlobCreated event (10 % duplicated, 15 % late); with chaos, that share of activity executions and hub sends fails and of events is lost (the sweep finds them).',
    '',
    '| chaos | blobs | records (blocks) | tuples | seconds | blocks/s | tuples/s | events lost | hub events | rows on the hub | distinct row ids | rows lost / double counted / differing vs `flowlog process` |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) runSection(SECTION_TITLE, appSection);
