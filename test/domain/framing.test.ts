import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PrefixChangedError } from '../../domain/errors';
import {
  advanceCursor,
  type BlobCursor,
  type CommittedBlock,
  INITIAL_CURSOR,
  planRead,
} from '../../domain/framing/blocks';
import { RecordScanner } from '../../domain/framing/record-scanner';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { summarizeBytes } from '../support/summarize';

const enc = new TextEncoder();

/** A small NSG v2 record with the given tuples. */
function nsgRecord(minute: number, tuples: readonly string[]): string {
  return JSON.stringify({
    time: `2026-11-30T10:${String(minute).padStart(2, '0')}:30.0000000Z`,
    resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N',
    properties: {
      Version: 2,
      flows: [{ rule: 'R "quoted" \\ rule', flows: [{ mac: '000d3a000001', flowTuples: tuples }] }],
    },
  });
}

const tupleArb = fc
  .record({
    t: fc.integer({ min: 1764496800, max: 1764500399 }),
    src: fc.constantFrom('10.0.0.4', '10.0.0.5', '203.0.113.7', '2001:db8::1'),
    dst: fc.constantFrom('10.0.0.9', '52.239.184.180', '8.8.8.8'),
    sport: fc.integer({ min: 1024, max: 65535 }),
    dport: fc.constantFrom(22, 53, 443, 3389),
    proto: fc.constantFrom('T', 'U'),
    dir: fc.constantFrom('I', 'O'),
    dec: fc.constantFrom('A', 'D'),
    state: fc.constantFrom('B', 'C', 'E'),
    p: fc.nat(1000),
    b: fc.nat(100000),
  })
  .map((x) =>
    x.state === 'B'
      ? `${x.t},${x.src},${x.dst},${x.sport},${x.dport},${x.proto},${x.dir},${x.dec},B,,,,`
      : `${x.t},${x.src},${x.dst},${x.sport},${x.dport},${x.proto},${x.dir},${x.dec},${x.state},${x.p},${x.b},${x.p},${x.b}`,
  );

const recordsArb = fc.array(fc.array(tupleArb, { minLength: 0, maxLength: 6 }), {
  minLength: 1,
  maxLength: 8,
});

/** A growing blob: its committed blocks and bytes at one moment. */
interface Commit {
  blocks: CommittedBlock[];
  bytes: Uint8Array;
}

/**
 * Cuts the record region of a blob into data blocks at the given byte positions and returns the
 * successive commits: each adds the next data block before the 2-byte closer, as Azure does.
 */
function commitsOf(records: readonly string[], cutFractions: readonly number[]): Commit[] {
  const header = enc.encode('{"records":[');
  const data = enc.encode(records.map((r, i) => (i === 0 ? r : `,${r}`)).join(''));
  const closer = enc.encode(']}');
  const cuts = [...new Set(cutFractions.map((f) => Math.floor(f * data.length)))]
    .filter((c) => c > 0 && c < data.length)
    .sort((a, b) => a - b);
  const bounds = [0, ...cuts, data.length];
  const dataBlocks: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) dataBlocks.push(data.subarray(bounds[i], bounds[i + 1]));
  const commits: Commit[] = [];
  for (let n = 0; n <= dataBlocks.length; n++) {
    const parts = [header, ...dataBlocks.slice(0, n), closer];
    const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    commits.push({
      bytes,
      blocks: [
        { name: 'QTAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=', size: header.length },
        ...dataBlocks.slice(0, n).map((b, i) => ({ name: `data-${i}`, size: b.length })),
        { name: 'WjAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=', size: closer.length },
      ],
    });
  }
  return commits;
}

/** Processes one commit from a cursor, as the orchestration does; returns summaries and the new cursor. */
function processCommit(commit: Commit, cursor: BlobCursor, out: FlowSummary[]): BlobCursor {
  const plan = planRead('blob', commit.blocks, commit.bytes.length, cursor);
  if (plan.kind === 'up-to-date') return cursor;
  const summarizer = new BlobSummarizer({
    blob: 'blob',
    windowSeconds: 60,
    start: plan.scanStart,
    byteOffset: plan.start,
    firstOrdinal: cursor.recordOrdinal,
  });
  const problems: never[] = [];
  summarizer.push(commit.bytes.subarray(plan.start, plan.end), out, problems);
  summarizer.end(false, problems);
  assert.deepEqual(problems, []);
  return advanceCursor(commit.blocks, summarizer.consumedEnd, summarizer.nextOrdinal);
}

const key = (s: FlowSummary) => JSON.stringify(s);

describe('block framing', () => {
  test('property: any cutting into successive commits yields exactly the rows and ids of the whole blob', () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (tupleSets, cuts) => {
          const records = tupleSets.map((t, i) => nsgRecord(i % 60, t));
          const commits = commitsOf(records, cuts);
          const whole = summarizeBytes(commits[commits.length - 1]!.bytes, 'blob');
          assert.deepEqual(whole.problems, []);

          const streamed: FlowSummary[] = [];
          let cursor = INITIAL_CURSOR;
          for (const commit of commits) cursor = processCommit(commit, cursor, streamed);
          // Each record exactly once: same multiset of rows (ids included), no duplicates, nothing missing.
          assert.deepEqual(streamed.map(key).sort(), whole.summaries.map(key).sort());
          assert.equal(cursor.recordOrdinal, records.length);
          // Re-running the last commit from the final cursor reads nothing.
          const again: FlowSummary[] = [];
          processCommit(commits[commits.length - 1]!, cursor, again);
          assert.deepEqual(again, []);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a rewritten prefix is detected, not misread', () => {
    const records = [nsgRecord(0, ['1764496800,10.0.0.4,8.8.8.8,5000,53,U,O,A,B,,,,']), nsgRecord(1, [])];
    const commits = commitsOf(records, [0.5]);
    let cursor = INITIAL_CURSOR;
    const out: FlowSummary[] = [];
    cursor = processCommit(commits[2]!, cursor, out);
    assert.equal(cursor.recordOrdinal, 2);
    // Same sizes, different block ids: a recreated blob.
    const rewritten = commits[2]!.blocks.map((b, i) => (i === 1 ? { ...b, name: 'other' } : b));
    assert.throws(
      () => planRead('blob', rewritten, commits[2]!.bytes.length, cursor),
      (e: unknown) =>
        e instanceof PrefixChangedError &&
        e.code === 'prefix-changed' &&
        /rewritten or truncated/.test(e.message),
    );
    // Truncated: fewer blocks than consumed.
    assert.throws(
      () => planRead('blob', commits[0]!.blocks, commits[0]!.bytes.length, cursor),
      PrefixChangedError,
    );
  });

  test('header and closer are found by position and size, whatever the block ids', () => {
    const commits = commitsOf([nsgRecord(0, ['1764496800,10.0.0.4,8.8.8.8,5000,53,U,O,A,B,,,,'])], []);
    const last = commits[1]!;
    const plan = planRead('blob', last.blocks, last.bytes.length, INITIAL_CURSOR);
    assert.equal(plan.kind, 'read');
    assert.equal(plan.kind === 'read' && plan.layout, 'flow-log');
    assert.equal(plan.kind === 'read' && plan.end, last.bytes.length - 2);
    // A blob uploaded whole (no committed blocks) is read to its end.
    const whole = planRead('blob', [], last.bytes.length, INITIAL_CURSOR);
    assert.deepEqual(whole.kind === 'read' && [whole.layout, whole.start, whole.end], [
      'whole',
      0,
      last.bytes.length,
    ]);
    // Only the header and closer: nothing to read yet.
    assert.equal(planRead('blob', commits[0]!.blocks, 14, INITIAL_CURSOR).kind, 'up-to-date');
  });

  test('property: any chunking of a file gives the same records as one chunk', () => {
    fc.assert(
      fc.property(recordsArb, fc.integer({ min: 1, max: 97 }), (tupleSets, chunk) => {
        const text = `{"records":[${tupleSets.map((t, i) => nsgRecord(i, t)).join(',\n ')}]}`;
        const bytes = enc.encode(text);
        const one = summarizeBytes(bytes, 'f');
        const many = summarizeBytes(bytes, 'f', { chunkSize: chunk });
        assert.deepEqual(many.summaries.map(key), one.summaries.map(key));
        assert.deepEqual(many.stats, one.stats);
      }),
      { numRuns: 200 },
    );
  });

  test('scanner: escaped quotes and braces inside strings, other top-level keys, truncated documents', () => {
    const text = '{"meta":{"a":"}{"},"n":5,"s":"x\\"]","records":[{"k":"\\\\"},{"k":"\\"}{"}]}';
    const scanner = new RecordScanner({ source: 'f', start: 'document', byteOffset: 0, firstOrdinal: 0 });
    const bytes = enc.encode(text);
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const r of scanner.push(bytes.subarray(i, i + 1))) got.push(new TextDecoder().decode(r.bytes));
    }
    scanner.end(true);
    assert.deepEqual(
      got.map((g) => JSON.parse(g)),
      [{ k: '\\' }, { k: '"}{' }],
    );

    const truncated = new RecordScanner({
      source: 'f.json',
      start: 'document',
      byteOffset: 0,
      firstOrdinal: 0,
    });
    truncated.push(enc.encode('{"records":[{"a":1},{"b":'));
    assert.throws(() => truncated.end(true), /f\.json, byte 20: the document ends inside this record/);
  });
});
