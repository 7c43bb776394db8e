import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../../../cli/args';
import {
  LIVE_USAGE,
  type LiveIo,
  type LiveOptions,
  parseLiveArgs,
  runLive,
} from '../../../cli/commands/live';
import { simulateToFolder } from '../../../cli/commands/simulate';
import { collectInputs } from '../../../cli/files';
import type { LiveResult } from '../../../local/live/session';
import { expectedSummaries } from '../../app/support';

export function sink() {
  let text = '';
  return {
    write(t: string) {
      text += t;
      return true;
    },
    get text() {
      return text;
    },
  };
}

/** Runs the command with captured output; returns its exit code and result. */
export async function live(argv: readonly string[], extra: Partial<LiveIo> = {}) {
  const stdout = sink();
  const stderr = sink();
  const signals = new EventEmitter();
  let result: LiveResult | undefined;
  const code = await runLive(argv, {
    stdout,
    stderr,
    signals,
    onResult: (r) => {
      result = r;
    },
    ...extra,
  });
  assert.equal(
    signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM'),
    0,
    'signal handlers removed',
  );
  return { code, result, stdout: stdout.text, stderr: stderr.text };
}

/** Every blob written is shown (none retired in a short run) and was read to its last block. */
function assertCaughtUp(result: LiveResult) {
  const v = result.view;
  assert.equal(result.caughtUp, true);
  assert.equal(v.blobs.length, v.writer?.blobsCreated);
  for (const b of v.blobs) {
    assert.equal(b.lagBytes, 0, `${b.label} ${b.hour} lag bytes`);
    assert.equal(b.lagBlocks, 0, `${b.label} ${b.hour} lag blocks`);
    assert.equal(b.consumedRecords, b.committedRecords);
  }
  assert.equal(v.blobTotals.lagBytes, 0);
  assert.equal(v.totals.runsFailed, 0);
  // Every block committed reached the hub (its first summary is one latency sample).
  assert.equal(v.latency.samples, v.writer?.blocks);
}

describe('flowlog live, end to end', () => {
  test('--duration 3 --no-ui: summaries reach the hub, every blob catches up, exit 0', async () => {
    const r = await live(['--nsgs', '1', '--vnets', '1', '--interval', '0.2', '--duration', '3', '--no-ui']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.result);
    assert.equal(r.result.reason, 'duration');
    assertCaughtUp(r.result);
    const v = r.result.view;
    assert.ok(v.totals.hubEvents > 0, 'summaries on the hub');
    assert.ok((v.writer?.blocks ?? 0) >= 6, `blocks written: ${v.writer?.blocks}`);
    // 10 blocks per hour: a NIC that wrote more than 10 blocks rolled over to the next hour's blob
    // (at 0.2 s that happens within 3 s unless the machine is very busy).
    const perNic = (v.writer?.blocks ?? 0) / 2;
    assert.equal(v.writer?.blobsCreated, 2 * Math.ceil(perNic / 10));
    assert.ok(v.talkers.length > 0 && v.denied.length > 0 && v.windows.length > 0);
    // Enrichment is on by default: public destinations get a service tag, AS organisation or country.
    assert.match(r.stderr, /enrich on/);
    assert.ok(
      v.talkers.some((t) => t.dstLabel !== null),
      JSON.stringify(v.talkers.map((t) => [t.dst, t.dstLabel])),
    );
    assert.match(
      r.stdout,
      /^flowlog live: 00:00:\d\d, \d+ blocks written to \d blobs, [\d.k]+ summaries reached the hub/m,
    );
    assert.match(r.stdout, /lag at exit: 0 B \/ 0 blocks in 0 blob\(s\)/);
    assert.match(r.stderr, /simulated 1 NSG \+ 1 VNet NICs/);
  });

  test('--from-folder replays real-layout files block by block and ends by itself; the hub gets what process gives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-live-'));
    try {
      await simulateToFolder(dir, {
        nsgs: 1,
        vnets: 1,
        hours: 2,
        flowsPerMinute: 8,
        seed: 5,
        start: new Date('2026-11-30T01:00:00Z'),
        minutesPerHour: 3,
      });
      const r = await live(['--from-folder', dir, '--interval', '0.1', '--no-ui']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.result);
      assert.equal(r.result.reason, 'exhausted');
      assertCaughtUp(r.result);
      const v = r.result.view;
      assert.equal(v.writer?.exhausted, true);
      assert.equal(v.writer?.blocks, 12);
      assert.equal(v.writer?.blobsCreated, 4);
      let expected = 0;
      for (const f of await collectInputs([dir]))
        expected += expectedSummaries(f.identity, readFileSync(f.path, 'utf8')).length;
      assert.equal(v.totals.hubEvents, expected);
      assert.match(r.stderr, /replaying 4 files \(2 NICs\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--help, and options that do not go together', async () => {
    const r = await live(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${LIVE_USAGE}\n`);
    assert.match(LIVE_USAGE, /docs\/deployment\.md/);
    await assert.rejects(live(['--from-folder', '/tmp', '--nsgs', '2']), UsageError);
    await assert.rejects(live(['--interval', '0']), /--interval must be a number of seconds > 0/);
    await assert.rejects(live(['--duration', '-1']), UsageError);
    await assert.rejects(live(['--nsgs', '0', '--vnets', '0']), /nothing to simulate/);
    await assert.rejects(live(['extra']), /unexpected argument/);
    assert.equal((parseLiveArgs([], false) as LiveOptions).enrich, true);
    assert.equal((parseLiveArgs(['--no-enrich'], false) as LiveOptions).enrich, false);
    await assert.rejects(live(['--from-folder', join(tmpdir(), 'flowlog-live-missing')]), UsageError);
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-live-'));
    try {
      writeFileSync(join(dir, 'not-azure-layout.json'), '{"records":[]}');
      await assert.rejects(
        live(['--from-folder', dir]),
        (e: Error) => e instanceof UsageError && /Azure's layout/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
