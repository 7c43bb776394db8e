// Hour completeness as the entity decides it (issue 11 item 3): the hour and its grace over, the blob read to
// the end of what is committed, no run holding it; a later block reopens it until a run has read it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BlobState,
  claim,
  commitRun,
  emptyBlobState,
  failRunWith,
  hourStatus,
  newGeneration,
  type RunCommit,
  rerun,
  settleHour,
} from '../../domain/blob-state';

const ref = {
  account: 'a',
  container: 'c',
  name: 'n/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json',
};
const RECORD = 100;
const HEADER = 12;
const GRACE = 15 * 60_000;
/** The blob's length with n records; record i starts at HEADER + i × RECORD. */
const lengthWith = (n: number) => HEADER + n * RECORD + 2;
/** Minutes after the blob's hour ended (09:00-10:00 UTC). */
const afterEnd = (minutes: number) => new Date(Date.UTC(2026, 10, 30, 10) + minutes * 60_000).toISOString();

let instance = 0;
/** A run claims the blob (with an observation of `length`) and commits `records` records read. */
function readTo(
  s: BlobState,
  records: number,
  listedAt: string,
  extra: Partial<RunCommit> = {},
): { state: BlobState; more: boolean } {
  const length = lengthWith(records);
  const o = { ref, contentLength: length, eTag: 'e', sequencer: '', at: listedAt };
  const c = claim(s, {
    instanceId: `run-${++instance}`,
    ref,
    at: listedAt,
    stuckAfterMs: 60_000,
    observation: o,
  });
  assert.equal(c.verdict.kind, 'granted');
  if (c.verdict.kind !== 'granted') throw new Error('not granted');
  const r = commitRun(
    c.state,
    {
      token: c.verdict.token,
      generation: c.state.generation,
      cursor: { byteOffset: length - 2, blockIndex: records + 1, recordOrdinal: records, fingerprint: 'f' },
      readLength: length,
      observationsAtBegin: c.verdict.observations,
      eTag: 'e',
      newRecordOffsets: Array.from({ length: records }, (_, i) => HEADER + i * RECORD),
      stats: { blocks: records, records, tuples: 0, summaries: 0, events: 0, problems: 0 },
      listedAt,
      at: listedAt,
      ...extra,
    },
    GRACE,
  );
  assert.equal(r.verdict.ok, true);
  return { state: r.state, more: r.verdict.ok && r.verdict.more };
}

describe('hour completeness', () => {
  test("a run's commit marks it complete only when the plan listed after the hour and its grace", () => {
    const early = readTo(emptyBlobState(), 60, afterEnd(5)).state;
    assert.equal(early.hourComplete, false, 'listed within the grace: Azure may still commit');
    assert.equal(hourStatus(early, afterEnd(5), lengthWith(60), GRACE), 'in-grace');
    const late = readTo(emptyBlobState(), 60, afterEnd(15)).state;
    assert.equal(late.hourComplete, true);
    assert.equal(late.hourCompletedAt, afterEnd(15));
    // Listed before the grace ended, committed after it: the listing may miss the last block.
    const lateCommit = readTo(emptyBlobState(), 60, afterEnd(14), { at: afterEnd(16) }).state;
    assert.equal(lateCommit.hourComplete, false);
  });

  test('a commit that goes round again (more observed meanwhile) is not complete', () => {
    const o = { ref, contentLength: lengthWith(3), eTag: 'e', sequencer: '', at: afterEnd(20) };
    const c = claim(emptyBlobState(), {
      instanceId: 'r',
      ref,
      at: afterEnd(20),
      stuckAfterMs: 60_000,
      observation: o,
    });
    if (c.verdict.kind !== 'granted') throw new Error('not granted');
    // A block arrives while the run reads: observed 4 records' length.
    const grown = claim(c.state, {
      instanceId: 'event',
      ref,
      at: afterEnd(20),
      stuckAfterMs: 60_000,
      observation: { ...o, contentLength: lengthWith(4) },
    });
    assert.equal(grown.verdict.kind, 'covered');
    const r = commitRun(
      grown.state,
      {
        token: c.verdict.token,
        generation: 0,
        cursor: { byteOffset: lengthWith(3) - 2, blockIndex: 4, recordOrdinal: 3, fingerprint: 'f' },
        readLength: lengthWith(3),
        observationsAtBegin: c.verdict.observations,
        eTag: 'e',
        newRecordOffsets: [12, 112, 212],
        stats: { blocks: 3, records: 3, tuples: 0, summaries: 0, events: 0, problems: 0 },
        listedAt: afterEnd(20),
        at: afterEnd(20),
      },
      GRACE,
    );
    assert.deepEqual([r.verdict.ok && r.verdict.more, r.state.hourComplete], [true, false]);
  });

  test('the sweep settles a blob read to its end once the grace is over, without a run', () => {
    const read = readTo(emptyBlobState(), 60, afterEnd(2)).state;
    assert.equal(read.hourComplete, false);
    const within = settleHour(read, { at: afterEnd(10), contentLength: lengthWith(60), graceMs: GRACE });
    assert.deepEqual(within.verdict, { status: 'in-grace', changed: false });
    assert.equal(within.state, read);
    const behind = settleHour(read, { at: afterEnd(20), contentLength: lengthWith(61), graceMs: GRACE });
    assert.deepEqual(behind.verdict, { status: 'behind', changed: false });
    const settled = settleHour(read, { at: afterEnd(20), contentLength: lengthWith(60), graceMs: GRACE });
    assert.deepEqual(settled.verdict, { status: 'complete', changed: true });
    assert.deepEqual(
      [settled.state.hourComplete, settled.state.hourCompletedAt, settled.state.revision],
      [true, afterEnd(20), read.revision],
      'settling is not a run change: the revision stays, so any run after it writes a newer ledger row',
    );
    assert.equal(
      settleHour(settled.state, { at: afterEnd(22), contentLength: lengthWith(60), graceMs: GRACE }).verdict
        .changed,
      false,
    );
    // The grace is a setting: a shorter one settles earlier.
    assert.equal(
      settleHour(read, { at: afterEnd(5), contentLength: lengthWith(60), graceMs: 5 * 60_000 }).verdict
        .changed,
      true,
    );
  });

  test('never complete while a run holds the blob, after a failure, or for a name without an hour', () => {
    const read = readTo(emptyBlobState(), 5, afterEnd(1)).state;
    const o = { ref, contentLength: lengthWith(6), eTag: 'e', sequencer: '', at: afterEnd(20) };
    const running = claim(read, {
      instanceId: 'r',
      ref,
      at: afterEnd(20),
      stuckAfterMs: 60_000,
      observation: o,
    });
    assert.equal(running.verdict.kind, 'granted');
    const check = { at: afterEnd(20), contentLength: lengthWith(5), graceMs: GRACE };
    assert.equal(settleHour(running.state, check).verdict.status, 'running');
    if (running.verdict.kind !== 'granted') return;
    const failed = failRunWith(running.state, {
      token: running.verdict.token,
      error: 'x',
      permanent: false,
      at: afterEnd(20),
    });
    assert.equal(settleHour(failed.state, check).verdict.status, 'failed');
    const nameless = { ...read, ref: { ...ref, name: 'somewhere/else.json' } };
    assert.equal(settleHour(nameless, check).verdict.status, 'unknown-hour');
    // Observed beyond what was read (an event whose run has not committed): behind.
    const seenMore = { ...read, observedLength: lengthWith(6) };
    assert.equal(settleHour(seenMore, check).verdict.status, 'behind');
  });

  test('a commit after complete reopens the hour until a run has read it, and counts the reopening', () => {
    const done = readTo(emptyBlobState(), 60, afterEnd(20)).state;
    assert.equal(done.hourComplete, true);
    // A redelivered or older event (no more than was read) leaves it complete.
    const same = claim(done, {
      instanceId: 'dup',
      ref,
      at: afterEnd(21),
      stuckAfterMs: 60_000,
      observation: { ref, contentLength: lengthWith(60), eTag: 'e', sequencer: '', at: afterEnd(21) },
    });
    assert.deepEqual([same.verdict.kind, same.state.hourComplete], ['up-to-date', true]);
    // Azure commits one more block: the claim that records it reopens the hour and starts a run.
    const grown = claim(done, {
      instanceId: 'late',
      ref,
      at: afterEnd(30),
      stuckAfterMs: 60_000,
      observation: { ref, contentLength: lengthWith(61), eTag: 'e2', sequencer: '', at: afterEnd(30) },
    });
    assert.equal(grown.verdict.kind, 'granted');
    assert.deepEqual(
      [grown.state.hourComplete, grown.state.hourCompletedAt, grown.state.hourReopened],
      [false, null, 1],
    );
    const check = { at: afterEnd(31), contentLength: lengthWith(61), graceMs: GRACE };
    assert.equal(
      settleHour(grown.state, check).verdict.changed,
      false,
      'the sweep cannot settle it meanwhile',
    );
    if (grown.verdict.kind !== 'granted') return;
    const reread = commitRun(
      grown.state,
      {
        token: grown.verdict.token,
        generation: 0,
        cursor: { byteOffset: lengthWith(61) - 2, blockIndex: 62, recordOrdinal: 61, fingerprint: 'f' },
        readLength: lengthWith(61),
        observationsAtBegin: grown.verdict.observations,
        eTag: 'e2',
        newRecordOffsets: [HEADER + 60 * RECORD],
        stats: { blocks: 1, records: 1, tuples: 0, summaries: 0, events: 0, problems: 0 },
        listedAt: afterEnd(30),
        at: afterEnd(31),
      },
      GRACE,
    );
    assert.deepEqual(
      [reread.state.hourComplete, reread.state.hourCompletedAt, reread.state.hourReopened],
      [true, afterEnd(31), 1],
    );
  });

  test('a rerun or a new generation clears completeness', () => {
    const done = readTo(emptyBlobState(), 3, afterEnd(20)).state;
    assert.equal(rerun(done, 'start').hourComplete, false);
    assert.equal(rerun(done, 'checkpoint').hourCompletedAt, null);
    const c = claim(done, {
      instanceId: 'op',
      ref,
      at: afterEnd(40),
      stuckAfterMs: 1,
      rerunFrom: 'checkpoint',
    });
    if (c.verdict.kind !== 'granted') throw new Error('not granted');
    const renewed = newGeneration(c.state, c.verdict.token, 'rewritten');
    assert.deepEqual([renewed.state.hourComplete, renewed.state.hourCompletedAt], [false, null]);
  });

  test('a commit from a version without listedAt judges by its commit time', () => {
    // In flight across a deployment: the orchestrator of the version before sent no listedAt.
    const legacy = { listedAt: undefined } as unknown as Partial<RunCommit>;
    assert.equal(readTo(emptyBlobState(), 2, afterEnd(30), legacy).state.hourComplete, true);
    assert.equal(readTo(emptyBlobState(), 2, afterEnd(3), legacy).state.hourComplete, false);
  });
});
