import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import '../../local/functions-host';
import { simulateToFolder } from '../../cli/commands/simulate';
import { collectInputs } from '../../cli/files';
import { startOfflineStack } from '../../local/offline-stack';
import { replay, replayTarget } from '../../local/replay';
import { assertSameSummaries, dedupById, expectedFromFile } from './support';

async function simulated(seed: number) {
  const dir = mkdtempSync(join(tmpdir(), 'flowlog-replay-'));
  await simulateToFolder(dir, {
    nsgs: 2,
    vnets: 2,
    hours: 1,
    flowsPerMinute: 4,
    seed,
    start: new Date('2026-11-30T02:00:00Z'),
    minutesPerHour: 8,
  });
  return collectInputs([dir]);
}

describe('flowlog replay: after dedup by id the hub equals flowlog process', () => {
  for (const chaos of [0, 0.2]) {
    test(`chaos ${chaos}`, async () => {
      const files = await simulated(7);
      const expected = files.flatMap((f) => expectedFromFile(f.path, f.identity));
      const stack = await startOfflineStack({ host: { clock: 'real' } });
      try {
        const result = await replay(
          stack,
          files.map((f) => replayTarget(f.path, f.identity)),
          { chaos, seed: 5, timeoutMs: 240_000 },
        );
        assert.equal(assertSameSummaries(dedupById(result.hubEvents), expected), undefined);
        assert.equal(result.records, 32);
        if (chaos > 0) {
          assert.ok(result.eventsDropped > 0, 'some events were lost');
          assert.ok(
            stack.host.faults.injected > 0 || stack.eventHubs.counters.faultsInjected > 0,
            'faults were injected',
          );
        } else {
          assert.equal(result.eventsDropped, 0);
          assert.equal(result.hubEvents.length, expected.length, 'no duplicates without faults');
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
