// The operator's paths, driven end to end: a permanent failure recorded on entity and ledger and cured by
// rerun-failed, a retryable one backing off automatic runs, and a quarantined record read again by a
// rerun from its ordinal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blobKeyOfInstance } from '../../app/runs';
import { appServices } from '../../app/services';
import type { ProcessBlobOutput } from '../../common/contracts';
import { names } from '../../common/names';
import { blobIdentityFromName, blobIdOf } from '../../domain/blob-identity';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import type { FlowLogError } from '../../domain/errors';
import { blobText } from '../../domain/simulate/simulate';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries, rerunRequest, simulatedNsgBlob } from './support';

async function commit(stack: OfflineStack, name: string, record: string) {
  const info = await stack.writer.appendRecord(name, record);
  await stack.host.sendEventGridEvent(
    names.blobCreated,
    blobCreatedEvent(stack.account, NSG_CONTAINER, name, info),
  );
}

function state(stack: OfflineStack, key: string): BlobState {
  return JSON.parse(stack.host.durable.readEntityState(names.blobStateEntity, key).stateJson ?? 'null');
}

/** The outputs of a blob's finished instances, newest last. */
function outputs(stack: OfflineStack, key: string): ProcessBlobOutput[] {
  return stack.host.durable
    .listInstances({})
    .filter((i) => blobKeyOfInstance(i.instanceId) === key && i.runtimeStatus === 'Completed')
    .sort((a, b) => Date.parse(a.createdTime) - Date.parse(b.createdTime))
    .map((i) => i.output as ProcessBlobOutput);
}

describe('operator paths', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('a permanent failure is recorded on entity and ledger, waits for an operator, and rerun-failed cures it', async () => {
    const b = simulatedNsgBlob(301, 3, 1);
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
    // The hub says the entity does not exist: retrying cannot cure that.
    stack.eventHubs.faults.failNextSends(1000, 'amqp:not-found');
    await commit(stack, b.name, b.records[0]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const failed = state(stack, key);
    assert.equal(failed.failurePermanent, true);
    assert.equal(failed.run, null);
    assert.match(failed.lastError ?? '', /Event Hubs send failed/);
    const row = await appServices().ledger.get(key);
    assert.equal(row?.state, 'failed');
    assert.match(row?.lastError ?? '', /Event Hubs send failed/);
    // More data and its event: the claim answers that an operator is needed; nothing is retried.
    const sendsBefore = stack.eventHubs.counters.sends;
    await commit(stack, b.name, b.records[1]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    assert.equal(outputs(stack, key).at(-1)?.kind, 'needs-operator');
    assert.equal(stack.eventHubs.counters.sends, sendsBefore);
    // The operator fixes the hub and reruns the failed blobs.
    stack.eventHubs.faults.reset();
    const r = await stack.host.http({ method: 'POST', url: '/api/blobs/rerun-failed' });
    assert.equal(r.status, 202);
    const job = JSON.parse(String(r.body)) as { jobId: string; statusUrl: string };
    assert.match(job.jobId, /^job-/);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const progress = JSON.parse(String((await stack.host.http({ method: 'GET', url: job.statusUrl })).body));
    assert.deepEqual([progress.total, progress.done, progress.outcomes], [1, 1, { read: 1 }]);
    await commit(stack, b.name, b.records[2]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const cured = state(stack, key);
    assert.deepEqual([cured.failurePermanent, cured.lastError, cured.cursor.recordOrdinal], [false, null, 3]);
    assert.equal((await appServices().ledger.get(key))?.state, 'ok');
    const blobId = blobIdOf(blobIdentityFromName(b.name)!);
    const mine = new Map(
      [...dedupById(stack.eventHubs.events(LOCAL_HUB))].filter(([, s]) => s.blob === blobId),
    );
    assert.equal(assertSameSummaries(mine, expectedSummaries(b.name, blobText(b))), undefined);
  });

  test('a retryable failure backs off automatic runs instead of retrying on every event', async () => {
    const b = simulatedNsgBlob(302, 2, 2);
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
    // Every attempt of the emit activity fails: Durable's 5 attempts run out.
    stack.host.faults.failActivity(names.emitChunk, 5, 'injected: hub unreachable');
    await commit(stack, b.name, b.records[0]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const failed = state(stack, key);
    assert.deepEqual([failed.failurePermanent, failed.failureCount, failed.run], [false, 1, null]);
    await commit(stack, b.name, b.records[1]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const last = outputs(stack, key).at(-1);
    assert.equal(last?.kind, 'backing-off');
    // rerun-failed does not wait for the back-off.
    await stack.host.http({ method: 'POST', url: '/api/blobs/rerun-failed' });
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    assert.deepEqual([state(stack, key).lastError, state(stack, key).cursor.recordOrdinal], [null, 2]);
  });

  test('a quarantined record keeps its bytes; a rerun from its ordinal reads it and what follows again', async () => {
    const b = simulatedNsgBlob(303, 3, 3);
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
    // Record 1 is of a flow-log version this release does not read.
    const unknown = b.records[1]!.replace('"Version":2', '"Version":9');
    assert.notEqual(unknown, b.records[1]);
    const records = [b.records[0]!, unknown, b.records[2]!];
    for (const r of records) await commit(stack, b.name, r);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const s = state(stack, key);
    assert.deepEqual([s.cursor.recordOrdinal, s.stats.problems, s.lastError], [3, 1, null]);
    const offset = s.recordOffsets[1]!;
    const kept = JSON.parse(
      (await appServices().staging.get(`quarantine/${key}/g0/${offset}.json`)).toString('utf8'),
    ) as { raw: string; error: string; location: { byteOffset: number } };
    assert.equal(kept.raw, unknown);
    assert.equal(kept.location.byteOffset, offset);
    assert.match(
      kept.error,
      new RegExp(`PT1H\\.json, byte ${offset}: unsupported NSG flow log version number 9`),
    );
    const text = `{"records":[${records.join(',')}]}`;
    const summarizer = new BlobSummarizer({ blob: blobIdentityFromName(b.name)!, windowSeconds: 60 });
    const expected: FlowSummary[] = [];
    const problems: FlowLogError[] = [];
    summarizer.push(new TextEncoder().encode(text), expected, problems);
    assert.deepEqual(
      problems.map((p) => p.code),
      ['unknown-version'],
    );
    assert.ok(
      expected.every((x) => x.recordOffset !== offset),
      'flowlog process skips it too',
    );
    assert.ok(expected.some((x) => x.recordOffset > offset));
    // After a fix, the operator reruns from the record's offset: records 1 and 2 are read again, same ids.
    const before = stack.eventHubs.events(LOCAL_HUB).length;
    const r = await rerunRequest(stack, b.name, { offset });
    assert.equal(r.status, 202);
    await stack.host.waitForIdle({ timeoutMs: 60_000, fastForward: true });
    const again = stack.eventHubs.events(LOCAL_HUB).slice(before);
    assert.equal(
      assertSameSummaries(
        dedupById(again),
        expected.filter((x) => x.recordOffset >= offset),
      ),
      undefined,
    );
    const after = state(stack, key);
    assert.deepEqual(after.recordOffsets, s.recordOffsets, 'each record offset recorded once');
    assert.equal(after.stats.problems, 2, 'the record is quarantined again by this release');
  });
});
