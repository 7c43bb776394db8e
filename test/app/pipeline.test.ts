import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blobKeyOfInstance } from '../../app/runs';
import { appServices } from '../../app/services';
import { sweepOnce } from '../../app/sweep';
import { names } from '../../common/names';
import { blobIdentityFromName, blobIdOf, generationIdentity } from '../../domain/blob-identity';
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
import {
  assertSameSummaries,
  dedupById,
  eventSummaries,
  expectedSummaries,
  hubRows,
  rerunRequest,
} from './support';

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

/** Every orchestration instance of one blob (each event, poke and rerun starts its own). */
function instancesOf(stack: OfflineStack, key: string): string[] {
  return stack.host.durable
    .listInstances({})
    .map((i) => i.instanceId)
    .filter((id) => blobKeyOfInstance(id) === key);
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
      assert.equal(hubRows(stack, LOCAL_HUB).length, expectedOf(list).length);
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
      assert.ok(Math.max(...historyBytes) < 14_000, `history bytes ${Math.max(...historyBytes)}`);
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
      hubRows(stack, LOCAL_HUB).length,
      expectedOf(list).length,
      'redelivered events re-send nothing',
    );
  });

  test('activity failures are retried; Event Hub busy and throttled sends are retried', async () => {
    const list = blobs(31, 3, 1, 0);
    stack.host.faults.failActivity(names.parseChunk, 2, new Error('injected: storage timeout'));
    stack.host.faults.failActivity(names.emitChunk, 1, new Error('injected: worker recycled'));
    stack.eventHubs.faults.failNextSends(2, 'com.microsoft:server-busy');
    for (let m = 0; m < 3; m++) await commitAndNotify(stack, list[0]!, list[0]!.records[m]!);
    await stack.host.waitForIdle({ timeoutMs: 90_000 });
    assertNoFailedRuns(stack);
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: list[0]!.name });
    const runs = instancesOf(stack, key);
    assert.ok(stack.host.faults.injected >= 3, 'faults were injected');
    assert.ok(runs.length > 0, 'the blob had runs of its own');
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
    // The new generation's rows carry `<blob>#g1`: their ids never collide with generation 0's, whose
    // rows (real data when they were read) stay as they are.
    const byId = dedupById(stack.eventHubs.events(LOCAL_HUB));
    const identity = blobIdentityFromName(first.name)!;
    const generation1 = expectedSummaries(
      first.name,
      blobText({ ...replacement, name: first.name }),
      60,
      generationIdentity(identity, 1),
    );
    assert.ok(generation1.length > 0);
    for (const s of generation1) {
      assert.equal(byId.get(s.id)?.blob, blobIdOf(`${identity}#g1`));
      assert.equal(assertSameSummaries(new Map([[s.id, byId.get(s.id)!]]), [s]), undefined);
    }
    for (const s of expectedSummaries(first.name, blobText(first)))
      assert.equal(byId.get(s.id)?.blob, blobIdOf(identity), 'generation 0 rows keep their ids');
  });

  test('a crash between emit and cursor advance re-emits identical ids, which dedup absorbs', async () => {
    const b = blobs(51, 2, 0, 1)[0]!;
    const before = stack.eventHubs.events(LOCAL_HUB).length;
    /** Terminates the run holding the blob as soon as its first summary reaches the hub. */
    const crashAfterFirstEmit = () => {
      const crashed: string[] = [];
      const stop = stack.eventHubs.onEvent(() => {
        const run = entityState(stack, b).run;
        if (crashed.length > 0 || !run) return;
        crashed.push(run.instanceId);
        stack.host.durable.terminate(run.instanceId, 'simulated crash after emit');
      });
      return { crashed, stop };
    };
    const assertCrashed = (crash: { crashed: string[] }, ordinal: number) => {
      assert.equal(crash.crashed.length, 1);
      const state = entityState(stack, b);
      assert.equal(state.cursor.recordOrdinal, ordinal, 'cursor not advanced');
      assert.equal(state.run?.instanceId, crash.crashed[0], 'the terminated run still holds the blob');
    };

    // Record 0: the run crashes; Event Grid redelivers the event, which starts the same instance id
    // again (a terminated instance may be replaced): it claims the blob again and reads the same blocks.
    let crash = crashAfterFirstEmit();
    const commit = await stack.writer.forContainer(VNET_CONTAINER).appendRecord(b.name, b.records[0]!);
    const event = blobCreatedEvent(stack.account, VNET_CONTAINER, b.name, commit);
    await stack.host.sendEventGridEvent(names.blobCreated, event);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    crash.stop();
    assertCrashed(crash, 0);
    await stack.host.sendEventGridEvent(names.blobCreated, event);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    assert.deepEqual([entityState(stack, b).cursor.recordOrdinal, entityState(stack, b).run], [1, null]);

    // Record 1: the run crashes and its event is never delivered again: the sweep finds the blob behind,
    // sees the run holding it has ended, and its claim replaces that run.
    crash = crashAfterFirstEmit();
    await commitAndNotify(stack, b, b.records[1]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    crash.stop();
    assertCrashed(crash, 1);
    const swept = await sweepOnce(
      stack.host.durableClient(),
      appServices(),
      new Date('2026-11-30T01:30:00Z'),
      console,
    );
    assert.deepEqual(swept.deadRuns, crash.crashed);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const state = entityState(stack, b);
    assert.deepEqual([state.cursor.recordOrdinal, state.run, state.stuckRunsReplaced], [2, null, 1]);

    const events = stack.eventHubs.events(LOCAL_HUB).slice(before);
    const expected = expectedSummaries(b.name, blobText(b));
    assert.ok(eventSummaries(events).length > expected.length, 'some summaries were sent twice');
    assert.equal(assertSameSummaries(dedupById(events), expected), undefined);
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
    const ok = await rerunRequest(stack, b.name, { record: 1 });
    assert.equal(ok.status, 202);
    const payload = JSON.parse(String(ok.body)) as { key: string; instanceId: string; statusUrl: string };
    assert.equal(payload.key, blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name }));
    assert.equal(blobKeyOfInstance(payload.instanceId), payload.key);
    assert.equal(payload.statusUrl, `/api/blobs/${payload.key}`);
    assert.doesNotMatch(String(ok.body), /code=/, 'no system key in the answer');
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const rerun = stack.eventHubs.events(LOCAL_HUB).slice(before);
    const all = expectedSummaries(b.name, blobText(b));
    const offsets = [...new Set(all.map((s) => s.recordOffset))].sort((x, y) => x - y);
    const record1 = all.filter((s) => s.recordOffset === offsets[1]);
    assert.equal(assertSameSummaries(dedupById(rerun), record1), undefined);

    const status = await stack.host.http({ method: 'GET', url: payload.statusUrl });
    assert.equal(status.status, 200);
    const info = JSON.parse(String(status.body)) as {
      lagBytes: number;
      lagBlocks: number;
      cursor: { recordOrdinal: number };
      hourComplete: boolean;
      blobId: string;
    };
    assert.deepEqual([info.lagBytes, info.lagBlocks, info.cursor.recordOrdinal], [0, 0, 2]);
    // The status names the blob id its rows carry, so an operator gets from a row to its blob and back.
    assert.equal(info.blobId, record1[0]?.blob);
    const list = await stack.host.http({ method: 'GET', url: '/api/blobs?state=ok' });
    const listed = JSON.parse(String(list.body)) as {
      count: number;
      blobs: { key: string; blobId: string }[];
    };
    assert.ok(listed.count >= 1);
    assert.equal(listed.blobs.find((x) => x.key === payload.key)?.blobId, info.blobId);
    assert.equal((await stack.host.http({ method: 'GET', url: '/api/blobs?state=weird' })).status, 400);
  });
});
