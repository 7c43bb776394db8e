// Nothing lost when events are lost for longer than the two-hour sweep looks: the hourly deep sweep
// finds a blob of an older hour whose events never came, reads it, and its rows reach the hub once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { appServices } from '../../app/services';
import { DEEP_SWEEP_HOURS, sweepOnce } from '../../app/sweep';
import { blobKey } from '../../domain/blob-ref';
import type { SimulatedBlob } from '../../domain/simulate/simulate';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries, simulatedNsgBlob } from './support';

describe('deep sweep (hourly, DEEP_SWEEP_HOURS back)', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  const keyOf = (b: SimulatedBlob) =>
    blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
  const text = (b: SimulatedBlob) => `{"records":[${b.records.join(',')}]}`;
  const now = new Date('2026-11-30T09:30:00Z');
  const sweep = async (hours?: number) => {
    const r = await sweepOnce(
      stack.host.durableClient(),
      appServices(),
      now,
      console,
      hours === undefined ? {} : { hours },
    );
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    return r;
  };

  test('a blob five hours old whose events were all lost: only the deep sweep reads it, every row arrives once', async () => {
    const old = simulatedNsgBlob(5101, 3, 4); // 04:00, five hours before `now`
    const previous = simulatedNsgBlob(5102, 3, 8); // 08:00, the previous hour
    const tooOld = simulatedNsgBlob(5103, 2, 9 - DEEP_SWEEP_HOURS); // outside the deep window
    // Committed, and no BlobCreated event delivered for any of them.
    for (const b of [old, previous, tooOld])
      for (const r of b.records) await stack.writer.forContainer(NSG_CONTAINER).appendRecord(b.name, r);

    const regular = await sweep();
    assert.deepEqual(regular.poked, [keyOf(previous)], 'the two-hour sweep sees the previous hour only');
    const deep = await sweep(DEEP_SWEEP_HOURS);
    assert.deepEqual(deep.poked, [keyOf(old)], 'the previous hour is read already; the old blob is found');
    assert.equal(deep.listed, 2, `listed ${deep.listed}: the blob ${DEEP_SWEEP_HOURS} hours back is not`);

    const expected = [old, previous].flatMap((b) => expectedSummaries(b.name, text(b)));
    assert.ok(expected.length > 10);
    assert.equal(assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), expected), undefined);
    const row = await appServices().ledger.get(keyOf(old));
    assert.deepEqual([row?.state, row?.consumedBytes], ['ok', text(old).length - 2]);

    // Caught up: the next deep sweep pokes nothing.
    assert.deepEqual((await sweep(DEEP_SWEEP_HOURS)).poked, []);
  });
});
