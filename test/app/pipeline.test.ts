import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { names } from '../../app/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { blobText, type SimulatedBlob, simulateBlobs } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import {
  LOCAL_HUB,
  NSG_CONTAINER,
  type OfflineStack,
  startOfflineStack,
  VNET_CONTAINER,
} from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries } from './support';

function blobs(seed: number, minutes: number, nsgs = 1, vnets = 1): SimulatedBlob[] {
  return [
    ...simulateBlobs({
      nsgs,
      vnets,
      hours: 1,
      flowsPerMinute: 6,
      seed,
      start: new Date('2026-11-30T01:00:00Z'),
      minutesPerHour: minutes,
    }),
  ];
}

const containerOf = (b: SimulatedBlob) => (b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER);

async function commitAndNotify(stack: OfflineStack, b: SimulatedBlob, record: string) {
  const container = containerOf(b);
  const commit = await stack.writer.forContainer(container).appendRecord(b.name, record);
  const event = blobCreatedEvent(stack.account, container, b.name, commit);
  await stack.host.sendEventGridEvent(names.blobCreated, event);
  return event;
}

function entityState(stack: OfflineStack, b: SimulatedBlob): BlobState {
  const key = blobKey({ account: stack.account, container: containerOf(b), name: b.name });
  const e = stack.host.durable.readEntityState(names.blobStateEntity, key);
  assert.ok(e.exists, `entity for ${b.name}`);
  return JSON.parse(e.stateJson ?? 'null') as BlobState;
}

function expectedOf(list: readonly SimulatedBlob[]) {
  return list.flatMap((b) => expectedSummaries(b.name, blobText(b)));
}

function assertHubMatches(stack: OfflineStack, list: readonly SimulatedBlob[]) {
  const problem = assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), expectedOf(list));
  assert.equal(problem, undefined);
}

function assertNoFailedRuns(stack: OfflineStack) {
  const failed = stack.host.durable.listInstances({ runtimeStatus: ['Failed'] });
  assert.deepEqual(
    failed.map((f) => f.output),
    [],
  );
}

for (const schemaVersion of ['V1', 'V4'] as const) {
  describe(`growing blobs, replay schema ${schemaVersion}`, () => {
    let stack: OfflineStack;
    before(async () => {
      stack = await startOfflineStack({ host: { schemaVersion, clock: 'real' } });
    });
    after(async () => stack.stop());

    test('every commit is read once; the hub holds exactly the summaries of the finished blobs', async () => {
      const list = blobs(11, 6);
      const historyBytes: number[] = [];
      const unsubscribe = stack.host.durable.onEpisode((r) => {
        if (
          r.name === names.processBlob &&
          (r.runtimeStatus === 'Completed' || r.runtimeStatus === 'ContinuedAsNew')
        )
          historyBytes.push(r.historyBytes);
      });
      for (let m = 0; m < 6; m++) {
        for (const b of list) await commitAndNotify(stack, b, b.records[m]!);
        await stack.host.waitForIdle({ timeoutMs: 60_000 });
      }
      unsubscribe();
      assertNoFailedRuns(stack);
      assertHubMatches(stack, list);
      // No duplicates without failures: no two runs took the same blocks.
      assert.equal(stack.eventHubs.events(LOCAL_HUB).length, expectedOf(list).length);
      for (const b of list) {
        const s = entityState(stack, b);
        assert.equal(s.cursor.recordOrdinal, 6);
        assert.equal(s.generation, 0);
        assert.equal(s.lastError, null);
        assert.equal(s.stats.records, 6);
        assert.equal(s.recordOffsets.length, 6);
      }
      // History stays small: references and counts, never tuples.
      assert.ok(historyBytes.length >= 12);
      assert.ok(Math.max(...historyBytes) < 12_000, `history bytes ${Math.max(...historyBytes)}`);
    });
  });
}

describe('delivery faults', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('duplicate and out-of-order events: same summaries, stale events dropped cheaply', async () => {
    const list = blobs(21, 5);
    const late: object[] = [];
    for (let m = 0; m < 5; m++) {
      for (const b of list) {
        const event = await commitAndNotify(stack, b, b.records[m]!);
        late.push(event);
      }
    }
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    // Deliver every event again, newest first.
    for (const e of late.reverse()) await stack.host.sendEventGridEvent(names.blobCreated, e);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    assertNoFailedRuns(stack);
    assertHubMatches(stack, list);
    assert.equal(
      stack.eventHubs.events(LOCAL_HUB).length,
      expectedOf(list).length,
      'redelivered events re-send nothing',
    );
  });

  test('activity failures are retried; Event Hub busy and throttled sends are retried', async () => {
    const list = blobs(31, 3, 1, 0);
    stack.host.faults.failActivity(names.parseChunk, 2, new Error('injected: storage timeout'));
    stack.host.faults.failActivity(names.enrichChunk, 1, new Error('injected: worker recycled'));
    stack.eventHubs.faults.failNextSends(2, 'com.microsoft:server-busy');
    for (let m = 0; m < 3; m++) await commitAndNotify(stack, list[0]!, list[0]!.records[m]!);
    await stack.host.waitForIdle({ timeoutMs: 90_000 });
    assertNoFailedRuns(stack);
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: list[0]!.name });
    const history = stack.host.durable.history(key) ?? [];
    assert.ok(stack.host.faults.injected >= 3, 'faults were injected');
    assert.ok(history.length > 0);
    const summaries = expectedOf(list);
    const byId = dedupById(stack.eventHubs.events(LOCAL_HUB));
    for (const s of summaries) assert.ok(byId.has(s.id), `missing ${s.id}`);
    stack.eventHubs.faults.reset();
  });
});

describe('rewrites, crashes and operator endpoints', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('a rewritten blob (prefix changed) is read again under a new generation', async () => {
    const [first, replacement] = [blobs(41, 3, 1, 0)[0]!, blobs(42, 2, 1, 0)[0]!];
    for (const r of first.records) await commitAndNotify(stack, first, r);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    // Same name, new blocks, different content.
    const commit = await stack.writer.forContainer(NSG_CONTAINER).recreate(first.name, replacement.records);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, first.name, commit),
    );
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    assertNoFailedRuns(stack);
    const state = entityState(stack, first);
    assert.equal(state.generation, 1);
    assert.equal(state.cursor.recordOrdinal, 2);
    const byId = dedupById(stack.eventHubs.events(LOCAL_HUB));
    for (const s of expectedSummaries(first.name, blobText({ ...replacement, name: first.name })))
      assert.ok(byId.has(s.id));
  });

  test('a crash between emit and cursor advance re-emits identical ids, which dedup absorbs', async () => {
    const b = blobs(51, 2, 0, 1)[0]!;
    const key = blobKey({ account: stack.account, container: VNET_CONTAINER, name: b.name });
    const before = stack.eventHubs.events(LOCAL_HUB).length;
    let terminated = false;
    const stop = stack.eventHubs.onEvent(() => {
      if (!terminated) {
        terminated = true;
        stack.host.durable.terminate(key, 'simulated crash after emit');
      }
    });
    const commit = await stack.writer.forContainer(VNET_CONTAINER).appendRecord(b.name, b.records[0]!);
    const event = blobCreatedEvent(stack.account, VNET_CONTAINER, b.name, commit);
    await stack.host.sendEventGridEvent(names.blobCreated, event);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    stop();
    assert.ok(terminated);
    assert.equal(entityState(stack, b).cursor.recordOrdinal, 0, 'cursor not advanced');
    // Event Grid redelivers; the new run reads the same blocks again.
    await stack.host.sendEventGridEvent(names.blobCreated, event);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const events = stack.eventHubs.events(LOCAL_HUB).slice(before);
    const expected = expectedSummaries(b.name, `{"records":[${b.records[0]}]}`);
    assert.ok(events.length > expected.length, 'some summaries were sent twice');
    assert.equal(assertSameSummaries(dedupById(events), expected), undefined);
    assert.equal(entityState(stack, b).cursor.recordOrdinal, 1);
  });

  test('rerun endpoint: foreign URLs rejected, served blobs rerun from start with identical ids', async () => {
    const b = blobs(61, 2, 1, 0)[0]!;
    for (const r of b.records) await commitAndNotify(stack, b, r);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    for (const blob of [
      'https://evil.example.com/insights-logs-networksecuritygroupflowevent/x/PT1H.json',
      `https://otheraccount.blob.core.windows.net/${NSG_CONTAINER}/${b.name}`,
      `http://127.0.0.1:1/${stack.account}/not-a-flowlog-container/${b.name}`,
    ]) {
      const r = await stack.host.http({
        method: 'POST',
        url: '/api/blobs/rerun',
        body: JSON.stringify({ blob, from: 'start' }),
      });
      assert.equal(r.status, 400, blob);
    }
    const bad = await stack.host.http({
      method: 'POST',
      url: '/api/blobs/rerun',
      body: JSON.stringify({
        account: stack.account,
        container: NSG_CONTAINER,
        name: b.name,
        from: 'sideways',
      }),
    });
    assert.equal(bad.status, 400);
    const before = stack.eventHubs.events(LOCAL_HUB).length;
    const ok = await stack.host.http({
      method: 'POST',
      url: '/api/blobs/rerun',
      body: JSON.stringify({
        account: stack.account,
        container: NSG_CONTAINER,
        name: b.name,
        from: { record: 1 },
      }),
    });
    assert.equal(ok.status, 202);
    const payload = JSON.parse(String(ok.body)) as { id: string; statusQueryGetUri: string };
    assert.equal(payload.id, blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name }));
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const rerun = stack.eventHubs.events(LOCAL_HUB).slice(before);
    const record1 = expectedSummaries(b.name, blobText(b)).filter((s) => s.recordOrdinal === 1);
    assert.equal(assertSameSummaries(dedupById(rerun), record1), undefined);

    const status = await stack.host.http({ method: 'GET', url: `/api/blobs/${payload.id}` });
    assert.equal(status.status, 200);
    const info = JSON.parse(String(status.body)) as {
      lagBytes: number;
      lagBlocks: number;
      cursor: { recordOrdinal: number };
      hourComplete: boolean;
    };
    assert.deepEqual([info.lagBytes, info.lagBlocks, info.cursor.recordOrdinal], [0, 0, 2]);
    const list = await stack.host.http({ method: 'GET', url: '/api/blobs?state=ok' });
    assert.ok((JSON.parse(String(list.body)) as { count: number }).count >= 1);
    assert.equal((await stack.host.http({ method: 'GET', url: '/api/blobs?state=weird' })).status, 400);
  });
});
