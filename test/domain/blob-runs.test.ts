// Two runs of one blob overlapping, as the Azure Storage backend allows (a start race, a run replaced for
// being stuck while it is still alive): every interleaving of their entity calls keeps the blob's state
// sound. Nothing is read twice into the cursor, nothing is skipped, a replaced run can never commit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BlobState,
  beginRound,
  type ClaimVerdict,
  claim,
  commitRun,
  emptyBlobState,
  failRunWith,
} from '../../domain/blob-state';
import { type BlobCursor, INITIAL_CURSOR } from '../../domain/framing/blocks';

const ref = { account: 'a', container: 'c', name: 'n/y=2026/m=11/d=30/h=09/m=00/macAddress=M/PT1H.json' };
const RECORD = 100;
const HEADER = 12;
const STUCK_MS = 60_000;
/** Record i starts at HEADER + i × RECORD; the blob's length with n records is that plus the closer. */
const lengthWith = (n: number) => HEADER + n * RECORD + 2;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 30, 9) + ms).toISOString();

/** What one run remembers between its entity calls (the orchestrator's local variables). */
interface RunMemory {
  instanceId: string;
  token?: number;
  cursor?: BlobCursor;
  /** Records it read (and emitted) in its current round: [from, to). */
  read?: [number, number];
  /** The entity's observation count when the round began. */
  seen?: number;
  done: boolean;
}

type Step =
  | { readonly kind: 'append' }
  | { readonly kind: 'claim'; readonly run: number; readonly atMs: number }
  | { readonly kind: 'commit'; readonly run: number; readonly atMs: number }
  | { readonly kind: 'round'; readonly run: number; readonly atMs: number }
  | { readonly kind: 'fail'; readonly run: number; readonly atMs: number };

interface World {
  state: BlobState;
  records: number;
  runs: RunMemory[];
  /** Every record some run emitted (at-least-once delivery; the hub dedups by id). */
  emitted: Set<number>;
  acceptedCommits: number;
  refusedCommits: number;
}

function recordOf(cursor: BlobCursor): number {
  return cursor.byteOffset === 0 ? 0 : (cursor.byteOffset - HEADER) / RECORD;
}

/** A run plans right after its claim or round start: it reads every record committed at that moment. */
function plan(world: World, run: RunMemory, cursor: BlobCursor): void {
  run.cursor = cursor;
  run.seen = world.state.observations;
  const from = recordOf(cursor);
  run.read = [from, world.records];
  for (let i = from; i < world.records; i++) world.emitted.add(i);
}

function apply(world: World, step: Step): void {
  if (step.kind === 'append') {
    world.records++;
    // The event of the append: a claim from an instance of its own, covered when a run holds the blob.
    const r = claim(world.state, {
      instanceId: `event-${world.records}`,
      ref,
      at: at(0),
      stuckAfterMs: STUCK_MS,
      observation: { ref, contentLength: lengthWith(world.records), eTag: 'e', sequencer: '', at: at(0) },
    });
    world.state = r.state;
    if (r.verdict.kind === 'granted') {
      // It becomes a third run that commits at once (it read everything committed).
      const extra: RunMemory = { instanceId: `event-${world.records}`, done: false, token: r.verdict.token };
      plan(world, extra, r.verdict.cursor);
      commit(world, extra, 0);
    }
    return;
  }
  const run = world.runs[step.run]!;
  if (run.done) return;
  if (step.kind === 'claim') {
    const r = claim(world.state, {
      instanceId: run.instanceId,
      ref,
      at: at(step.atMs),
      stuckAfterMs: STUCK_MS,
    });
    world.state = r.state;
    const v: ClaimVerdict = r.verdict;
    if (v.kind !== 'granted') {
      run.done = true;
      return;
    }
    run.token = v.token;
    plan(world, run, v.cursor);
    return;
  }
  if (run.token === undefined) return;
  if (step.kind === 'round') {
    const r = beginRound(world.state, run.token, at(step.atMs));
    world.state = r.state;
    if (!r.verdict.ok) run.done = true;
    else plan(world, run, r.verdict.cursor);
    return;
  }
  if (step.kind === 'fail') {
    world.state = failRunWith(world.state, {
      token: run.token,
      error: 'boom',
      permanent: false,
      at: at(step.atMs),
    }).state;
    run.done = true;
    return;
  }
  commit(world, run, step.atMs);
}

function commit(world: World, run: RunMemory, atMs: number): void {
  if (run.token === undefined || !run.read || !run.cursor) return;
  const [from, to] = run.read;
  const offsets = Array.from({ length: to - from }, (_, i) => HEADER + (from + i) * RECORD);
  const end = to === 0 ? 0 : HEADER + to * RECORD;
  const before = world.state.cursor.byteOffset;
  const r = commitRun(world.state, {
    token: run.token,
    generation: 0,
    cursor: { byteOffset: end, blockIndex: to + 1, recordOrdinal: to, fingerprint: `f${to}` },
    readLength: lengthWith(to),
    observationsAtBegin: run.seen ?? 0,
    eTag: 'e',
    newRecordOffsets: offsets,
    stats: { blocks: to - from, records: to - from, tuples: 0, summaries: 0, events: 0, problems: 0 },
    at: at(atMs),
  });
  world.state = r.state;
  if (r.verdict.ok) {
    world.acceptedCommits++;
    assert.ok(world.state.cursor.byteOffset >= before, 'an accepted commit never moves the cursor back');
    if (!r.verdict.more) run.done = true;
  } else {
    world.refusedCommits++;
    assert.equal(world.state.cursor.byteOffset, before, 'a refused commit changes nothing');
    run.done = true;
  }
  run.read = undefined;
}

/** The invariants that must hold after every step. */
function check(world: World, trace: string): void {
  const s = world.state;
  const consumed = recordOf(s.cursor);
  assert.deepEqual(
    s.recordOffsets,
    Array.from({ length: consumed }, (_, i) => HEADER + i * RECORD),
    `record offsets are each record once, in order, none skipped (${trace})`,
  );
  for (let i = 0; i < consumed; i++)
    assert.ok(world.emitted.has(i), `record ${i} is behind the cursor yet no run emitted it (${trace})`);
  assert.ok(consumed <= world.records, `the cursor is past the data (${trace})`);
}

/** Every interleaving of the given step lists (each list keeps its own order). */
function* interleavings<T>(lists: readonly (readonly T[])[]): Generator<T[]> {
  const total = lists.reduce((n, l) => n + l.length, 0);
  const positions = lists.map(() => 0);
  const out: T[] = [];
  function* go(): Generator<T[]> {
    if (out.length === total) {
      yield [...out];
      return;
    }
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i]!;
      const p = positions[i]!;
      if (p >= list.length) continue;
      out.push(list[p]!);
      positions[i] = p + 1;
      yield* go();
      positions[i] = p;
      out.pop();
    }
  }
  yield* go();
}

function runScenario(lists: readonly (readonly Step[])[], initialRecords: number) {
  let cases = 0;
  let overlaps = 0;
  let refused = 0;
  for (const order of interleavings(lists)) {
    const world: World = {
      state: emptyBlobState(),
      records: initialRecords,
      runs: [
        { instanceId: 'run-a', done: false },
        { instanceId: 'run-b', done: false },
      ],
      emitted: new Set(),
      acceptedCommits: 0,
      refusedCommits: 0,
    };
    const trace: string[] = [];
    for (const step of order) {
      trace.push(step.kind === 'append' ? 'append' : `${step.kind}:${'ab'[step.run]}@${step.atMs}`);
      apply(world, step);
      check(world, trace.join(' '));
    }
    // A run still holding the blob goes round again while more was committed, as processBlob does.
    for (const [i, run] of world.runs.entries()) {
      for (let round = 0; round < 3 && !run.done && world.state.run?.instanceId === run.instanceId; round++) {
        apply(world, { kind: 'round', run: i, atMs: 4000 });
        apply(world, { kind: 'commit', run: i, atMs: 4000 });
        check(world, `${trace.join(' ')} + round`);
      }
    }
    // Afterwards, events and the sweep keep claiming: the blob ends read to its end.
    for (let i = 0; i < 3 && recordOf(world.state.cursor) < world.records; i++) {
      const late: RunMemory = { instanceId: `sweep-${i}`, done: false };
      world.runs.push(late);
      apply(world, { kind: 'claim', run: world.runs.length - 1, atMs: 10 * STUCK_MS });
      apply(world, { kind: 'commit', run: world.runs.length - 1, atMs: 10 * STUCK_MS });
      check(world, `${trace.join(' ')} + sweep`);
    }
    assert.equal(recordOf(world.state.cursor), world.records, `nothing is left unread: ${trace.join(' ')}`);
    assert.equal(world.state.run, null, `the blob is free at the end: ${trace.join(' ')}`);
    cases++;
    if (world.state.stuckRunsReplaced > 0) overlaps++;
    refused += world.refusedCommits;
  }
  return { cases, overlaps, refused };
}

describe('two runs of one blob, every interleaving of their entity calls', () => {
  test('a run replaced as stuck while alive: its commits are refused, nothing lost or read twice', () => {
    // Run a claims, reads, goes round again, commits; run b claims after the bound (a made no progress),
    // reads and commits; records keep arriving in between.
    const a: Step[] = [
      { kind: 'claim', run: 0, atMs: 0 },
      { kind: 'commit', run: 0, atMs: 1000 },
      { kind: 'round', run: 0, atMs: 2000 },
      { kind: 'commit', run: 0, atMs: 3000 },
    ];
    const b: Step[] = [
      { kind: 'claim', run: 1, atMs: STUCK_MS + 5000 },
      { kind: 'commit', run: 1, atMs: STUCK_MS + 6000 },
    ];
    const writer: Step[] = [{ kind: 'append' }, { kind: 'append' }];
    const r = runScenario([a, b, writer], 2);
    assert.equal(r.cases, 420, 'every interleaving of 4 + 2 + 2 steps');
    assert.ok(r.overlaps > 0, 'some interleavings replaced a live run');
    assert.ok(r.refused > 0, "some interleavings refused a replaced run's commit");
  });

  test('two starts at once (a check-then-insert race): one holds the blob, the other is covered', () => {
    const a: Step[] = [
      { kind: 'claim', run: 0, atMs: 0 },
      { kind: 'commit', run: 0, atMs: 10 },
    ];
    const b: Step[] = [
      { kind: 'claim', run: 1, atMs: 5 },
      { kind: 'commit', run: 1, atMs: 15 },
    ];
    const r = runScenario([a, b, [{ kind: 'append' }]], 1);
    assert.equal(r.cases, 30);
    assert.equal(r.overlaps, 0, 'within the bound a second claim never takes the blob');
    assert.equal(r.refused, 0, 'a covered run never commits');
  });

  test('a failed run frees the blob; a replaced run failing late changes nothing', () => {
    const a: Step[] = [
      { kind: 'claim', run: 0, atMs: 0 },
      { kind: 'fail', run: 0, atMs: STUCK_MS + 9000 },
    ];
    const b: Step[] = [
      { kind: 'claim', run: 1, atMs: STUCK_MS + 5000 },
      { kind: 'commit', run: 1, atMs: STUCK_MS + 6000 },
    ];
    const r = runScenario([a, b, [{ kind: 'append' }]], 2);
    assert.equal(r.cases, 30);
    assert.ok(r.overlaps > 0);
  });

  test('the initial cursor of an empty blob is the initial cursor', () => {
    assert.deepEqual(emptyBlobState().cursor, INITIAL_CURSOR);
  });
});
