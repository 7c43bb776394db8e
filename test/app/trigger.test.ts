// The Event Grid trigger never waits for a run: Event Grid allows 30 s per delivery, and a trigger that
// waited for a busy blob's run failed events under load (issue 9, item 9).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { blobKeyOfInstance } from '../../app/runs';
import type { ProcessBlobOutput } from '../../common/contracts';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { blobText } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries, simulatedNsgBlob } from './support';

let stack: OfflineStack;
before(async () => {
  stack = await startOfflineStack({ host: { clock: 'real' } });
});
after(async () => stack.stop());

test('events for a blob whose run is busy return at once, are covered by that run, and nothing is given up', async () => {
  const b = simulatedNsgBlob(401, 4, 7);
  const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
  const entity = () =>
    JSON.parse(
      stack.host.durable.readEntityState(names.blobStateEntity, key).stateJson ?? 'null',
    ) as BlobState;
  const deliver = async (record: string) => {
    const info = await stack.writer.appendRecord(b.name, record);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, b.name, info),
    );
  };
  // The hub answers slowly: the first run sits in its emit.
  stack.eventHubs.faults.delayReplies(1500);
  await deliver(b.records[0]!);
  for (let i = 0; i < 100 && entity()?.run === null; i++) await new Promise((r) => setTimeout(r, 10));
  const holder = entity().run;
  assert.ok(holder, 'the first event started a run');
  // Three more blocks and their events while that run is busy: each delivery returns while it still holds
  // the blob (the trigger does not wait for it).
  for (const record of b.records.slice(1)) {
    await deliver(record);
    assert.equal(entity().run?.instanceId, holder.instanceId, 'the trigger returned while the run was busy');
  }
  stack.eventHubs.faults.delayReplies(0);
  await stack.host.waitForIdle({ timeoutMs: 60_000 });
  const outputs = stack.host.durable
    .listInstances({})
    .filter((i) => blobKeyOfInstance(i.instanceId) === key)
    .map((i) => (i.output as ProcessBlobOutput).kind);
  assert.equal(outputs.filter((k) => k === 'covered').length, 3, 'three claims were covered by the run');
  assert.deepEqual(stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }), []);
  // The run went round again for what was committed while it was busy: everything was read, once each.
  const s = entity();
  assert.deepEqual([s.cursor.recordOrdinal, s.run, s.stats.records], [4, null, 4]);
  assert.equal(
    assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), expectedSummaries(b.name, blobText(b))),
    undefined,
  );
});

test("a late second run of a round's cleanup (at-least-once) never touches the next round's files", async () => {
  const b = simulatedNsgBlob(402, 6, 9);
  const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
  const entity = () =>
    JSON.parse(
      stack.host.durable.readEntityState(names.blobStateEntity, key).stateJson ?? 'null',
    ) as BlobState;
  // Every cleanup runs twice; the second run lands in the next round, right before its emit step (after
  // that round's parse staged its rows).
  stack.host.faults.duplicateActivity(names.recordBlobStatus, 100, { beforeNext: names.emitChunk });
  stack.eventHubs.faults.delayReplies(300);
  for (const record of b.records) {
    const info = await stack.writer.appendRecord(b.name, record);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, b.name, info),
    );
    await new Promise((r) => setTimeout(r, 150));
  }
  stack.eventHubs.faults.delayReplies(0);
  await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
  assert.ok(stack.host.durable.counters.duplicateActivityExecutions > 0);
  const s = entity();
  assert.ok(s.stats.runs >= 2, `the run went round again (${s.stats.runs} rounds)`);
  assert.deepEqual(
    [s.cursor.recordOrdinal, s.failureCount, s.lastError],
    [6, 0, null],
    'no round lost its files',
  );
  assert.deepEqual(stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }), []);
});
