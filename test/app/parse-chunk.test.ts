import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSummaryLines } from '../../domain/summary/serialize';
import '../../local/functions-host';
import { InvocationContext } from '@azure/functions';
import { parseChunk } from '../../activities/parseChunk';
import { planBlobRead } from '../../activities/planBlobRead';
import { appServices } from '../../app/services';
import type { ParseChunkInput, ParseChunkResult, PlanResult } from '../../common/contracts';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { INITIAL_CURSOR } from '../../domain/framing/blocks';
import { blobText, type SimulatedBlob } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries, simulatedNsgBlob } from './support';

const context = () => new InvocationContext({ functionName: 'test', invocationId: 'test' });

/** The plan a run makes from the start of the blob, and the parse input of its whole range. */
async function planWhole(stack: OfflineStack, b: SimulatedBlob): Promise<ParseChunkInput> {
  const ref = { account: stack.account, container: NSG_CONTAINER, name: b.name };
  const plan = (await planBlobRead({ ref, cursor: INITIAL_CURSOR }, context())) as PlanResult;
  assert.equal(plan.kind, 'read');
  if (plan.kind !== 'read') throw new Error('unreachable');
  const chunk = { start: plan.chunks[0]!.start, end: plan.chunks.at(-1)!.end, blocks: plan.blocks };
  return {
    ref,
    key: blobKey(ref),
    generation: 0,
    stagingPrefix: `${blobKey(ref)}/g0/t1/r0/`,
    chunk,
    eTag: plan.eTag,
    fingerprintAtEnd: plan.boundaries.find((x) => x.end === chunk.end)!.fingerprint,
    scanStart: plan.scanStart,
    atCursor: true,
  };
}

describe('parseChunk: reads pinned to the version the plan listed', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('a block appended after the plan: the planned bytes are still read', async () => {
    const b = simulatedNsgBlob(201, 3, 1);
    for (const r of b.records.slice(0, 2)) await stack.writer.appendRecord(b.name, r);
    const input = await planWhole(stack, b);
    await stack.writer.appendRecord(b.name, b.records[2]!);
    const result = await parseChunk(input, context());
    assert.equal(result.kind, 'parsed');
    assert.equal(result.kind === 'parsed' && result.records, 2, 'the planned two records, not the third');
  });

  test('a blob rewritten after the plan: the chunk says so instead of reading other bytes', async () => {
    const b = simulatedNsgBlob(202, 3, 2);
    for (const r of b.records) await stack.writer.appendRecord(b.name, r);
    const input = await planWhole(stack, b);
    await stack.writer.recreate(b.name, simulatedNsgBlob(203, 3, 2).records);
    const result = await parseChunk(input, context());
    assert.equal(result.kind, 'changed');
    assert.match(result.kind === 'changed' ? result.error : '', /rewritten after the run listed its blocks/);
  });

  test('a blob that is gone: a storage failure retrying cannot cure, not a misaligned chunk', async () => {
    const b = simulatedNsgBlob(204, 2, 3);
    for (const r of b.records) await stack.writer.appendRecord(b.name, r);
    const input = await planWhole(stack, b);
    await stack.azurite.blobServiceClient().getContainerClient(NSG_CONTAINER).deleteBlob(b.name);
    const result = await parseChunk(input, context());
    assert.equal(result.kind, 'storage-failed');
  });
});

describe('parseChunk: a broken document loses nothing', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('a block that is not a record is quarantined with its bytes; reading goes on at the next block', async () => {
    const b = simulatedNsgBlob(205, 4, 4);
    await stack.writer.appendRecord(b.name, b.records[0]!);
    await stack.writer.appendRecord(b.name, b.records[1]!);
    // Not a record: the structure of the document is broken here.
    const broken = await stack.writer.appendRecord(b.name, '"this block is not a record"');
    await stack.writer.appendRecord(b.name, b.records[2]!);
    await stack.writer.appendRecord(b.name, b.records[3]!);
    const input = await planWhole(stack, b);
    const result = (await parseChunk(input, context())) as ParseChunkResult;
    assert.equal(result.kind, 'parsed');
    if (result.kind !== 'parsed') return;
    assert.equal(result.records, 4, 'the records before and after the broken block');
    assert.equal(result.consumedEnd, input.chunk.end);
    assert.equal(result.problems, 1);
    assert.match(result.problemSamples[0]!, /byte \d+/);
    // The broken block's bytes are kept for an operator, named by blob, generation and offset.
    const brokenStart = broken.contentLength - 2 - ',"this block is not a record"'.length;
    const quarantined = JSON.parse(
      (await appServices().staging.get(`quarantine/${input.key}/g0/${brokenStart}.json`)).toString('utf8'),
    ) as { raw: string; byteOffset: number; end: number; name: string };
    assert.deepEqual(
      [quarantined.raw, quarantined.byteOffset, quarantined.name],
      [',"this block is not a record"', brokenStart, b.name],
    );
    // The rows of the four good records are staged, at those records' offsets (the result lists them).
    const staged = readSummaryLines((await appServices().staging.get(result.staged)).toString('utf8'));
    const offsets = new Set(staged.map((s) => s.recordOffset));
    assert.equal(result.kind, 'parsed');
    assert.equal(result.kind === 'parsed' ? result.recordOffsets.length : 0, 4);
    assert.deepEqual(
      [...offsets].sort((x, y) => x - y),
      result.kind === 'parsed' ? [...result.recordOffsets] : [],
    );
    assert.ok([...offsets].every((o) => o !== brokenStart));
  });
});

describe('a rewrite between the plan and the read, end to end', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  test('the run sees the chunk changed, plans again and reads the new generation', async () => {
    const first = simulatedNsgBlob(206, 3, 5);
    const replacement = simulatedNsgBlob(207, 2, 5);
    let commit = { contentLength: 0, eTag: '', url: '', blocks: 0 };
    for (const r of first.records) commit = await stack.writer.appendRecord(first.name, r);
    // The first parse attempt starts the rewrite and fails (a transient fault); its retry reads after it.
    let rewrite: Promise<unknown> | undefined;
    stack.host.faults.failActivity((call) => {
      if (call.name !== names.parseChunk || rewrite) return false;
      rewrite = stack.writer.recreate(first.name, replacement.records);
      return true;
    }, 1);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, first.name, commit),
    );
    // The retry waits out its 2 s backoff on the real clock: the rewrite is complete before it reads.
    for (let i = 0; i < 100 && !rewrite; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(rewrite, 'the rewrite happened between the plan and the read');
    await rewrite;
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const key = blobKey({ account: stack.account, container: NSG_CONTAINER, name: first.name });
    const state = JSON.parse(
      stack.host.durable.readEntityState(names.blobStateEntity, key).stateJson ?? 'null',
    ) as BlobState;
    // Nothing of the old content had been consumed, so the new content is simply the blob (generation 0),
    // and nothing of the old content was emitted: the read saw the change instead of other bytes.
    assert.deepEqual([state.generation, state.cursor.recordOrdinal, state.run], [0, 2, null]);
    const expected = expectedSummaries(first.name, blobText({ ...replacement, name: first.name }));
    assert.equal(assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), expected), undefined);
    assert.ok((appServices().counters.get('chunks.changed') ?? 0) >= 1);
  });
});
