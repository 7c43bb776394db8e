import { compareSequencers } from './blob-event';
import type { BlobRef } from './blob-ref';
import { type BlobCursor, fingerprintOf, INITIAL_CURSOR } from './framing/blocks';

/**
 * The per-blob state a Durable entity keeps, and every change to it, as pure functions. Operations on one
 * entity run one at a time, so each function sees the latest state.
 */
export interface BlobStats {
  runs: number;
  blocks: number;
  records: number;
  tuples: number;
  summaries: number;
  events: number;
  /** Records or tuples that could not be read (quarantined for rerun). */
  problems: number;
}

export interface BlobState {
  readonly ref: BlobRef | null;
  readonly cursor: BlobCursor;
  /** Bumped when the blob's prefix changed (rewritten/truncated): ids of the new generation start over. */
  readonly generation: number;
  readonly eTag: string;
  /** Largest contentLength seen in events or listings. */
  readonly observedLength: number;
  /** contentLength the last completed run read up to. */
  readonly readLength: number;
  readonly lastSequencer: string;
  readonly lastError: string | null;
  readonly failureCount: number;
  readonly stats: BlobStats;
  /** Start offset of each record consumed, by ordinal (for rerun from record N). */
  readonly recordOffsets: readonly number[];
  /** The hour is over and everything committed was read. */
  readonly hourComplete: boolean;
  readonly lastRunAt: string | null;
  readonly lastEventAt: string | null;
}

export const emptyBlobState = (): BlobState => ({
  ref: null,
  cursor: INITIAL_CURSOR,
  generation: 0,
  eTag: '',
  observedLength: 0,
  readLength: 0,
  lastSequencer: '',
  lastError: null,
  failureCount: 0,
  stats: { runs: 0, blocks: 0, records: 0, tuples: 0, summaries: 0, events: 0, problems: 0 },
  recordOffsets: [],
  hourComplete: false,
  lastRunAt: null,
  lastEventAt: null,
});

/** Closing `]}` of a flow-log blob: data ends two bytes before contentLength. */
const CLOSER = 2;

/** Bytes committed but not consumed yet (by what the events/listings said). */
export function lagBytes(state: BlobState): number {
  return Math.max(0, state.observedLength - CLOSER - state.cursor.byteOffset);
}

export interface Observation {
  readonly ref: BlobRef;
  readonly contentLength: number;
  readonly eTag: string;
  readonly sequencer: string;
  readonly at: string;
}

/** A BlobCreated event or a sweep listing: remember the largest length; never moves the cursor. */
export function observe(state: BlobState, o: Observation): BlobState {
  const newer = o.contentLength > state.observedLength;
  return {
    ...state,
    ref: state.ref ?? o.ref,
    observedLength: Math.max(state.observedLength, o.contentLength),
    eTag: newer ? o.eTag : state.eTag,
    lastSequencer:
      o.sequencer !== '' && compareSequencers(o.sequencer, state.lastSequencer) > 0
        ? o.sequencer
        : state.lastSequencer,
    lastEventAt: o.at,
  };
}

/**
 * Whether an event can be dropped without any storage call: a redelivery of the length the last run read,
 * or an older event (its sequencer precedes one already seen) for data already read. A newer event with
 * a shorter length is NOT dropped: it may be a rewrite. Nothing is dropped while the blob has an error.
 */
export function isStale(state: BlobState, contentLength: number, sequencer = ''): boolean {
  if (state.readLength === 0 || state.lastError !== null) return false;
  if (contentLength === state.readLength) return true;
  const older =
    sequencer !== '' && state.lastSequencer !== '' && compareSequencers(sequencer, state.lastSequencer) < 0;
  return older && contentLength < state.readLength;
}

export interface RunCommit {
  readonly generation: number;
  readonly cursor: BlobCursor;
  readonly readLength: number;
  readonly eTag: string;
  readonly newRecordOffsets: readonly number[];
  readonly stats: Omit<BlobStats, 'runs'>;
  readonly hourComplete: boolean;
  readonly at: string;
}

/** A run finished and its summaries are on the hub: advance. A commit of an older generation is ignored. */
export function commitRun(state: BlobState, c: RunCommit): { state: BlobState; more: boolean } {
  if (c.generation !== state.generation) return { state, more: true };
  const s = state.stats;
  const next: BlobState = {
    ...state,
    cursor: c.cursor,
    readLength: c.readLength,
    observedLength: Math.max(state.observedLength, c.readLength),
    eTag: c.eTag || state.eTag,
    lastError: null,
    failureCount: 0,
    recordOffsets: [...state.recordOffsets, ...c.newRecordOffsets],
    stats: {
      runs: s.runs + 1,
      blocks: s.blocks + c.stats.blocks,
      records: s.records + c.stats.records,
      tuples: s.tuples + c.stats.tuples,
      summaries: s.summaries + c.stats.summaries,
      events: s.events + c.stats.events,
      problems: s.problems + c.stats.problems,
    },
    hourComplete: c.hourComplete,
    lastRunAt: c.at,
  };
  // More was committed after this run listed the blocks: go again.
  return { state: next, more: next.observedLength > c.readLength };
}

export function failRun(state: BlobState, error: string, at: string): BlobState {
  return { ...state, lastError: error.slice(0, 2000), failureCount: state.failureCount + 1, lastRunAt: at };
}

/** The blob's prefix changed: start it again from byte 0 under a new generation (new ids). */
export function newGeneration(state: BlobState, reason: string): BlobState {
  return {
    ...state,
    generation: state.generation + 1,
    cursor: INITIAL_CURSOR,
    readLength: 0,
    recordOffsets: [],
    hourComplete: false,
    lastError: `new generation: ${reason}`.slice(0, 2000),
  };
}

export type RerunFrom = 'checkpoint' | 'start' | { readonly record: number };

/**
 * Operator rerun. `checkpoint` keeps the cursor (retry what failed); `start` reads the blob again from
 * byte 0 in the same generation, so the ids repeat and downstream dedup absorbs them; `record N` starts
 * at record N's offset (its block fingerprint is re-established by the next plan).
 */
export function rerun(state: BlobState, from: RerunFrom): BlobState {
  const cleared = { ...state, lastError: null, failureCount: 0, hourComplete: false };
  if (from === 'checkpoint') return { ...cleared, readLength: 0 };
  if (from === 'start' || from.record <= 0)
    return { ...cleared, cursor: INITIAL_CURSOR, readLength: 0, recordOffsets: [] };
  const offset = state.recordOffsets[from.record];
  if (offset === undefined)
    throw new RangeError(
      `record ${from.record} has not been read yet (${state.recordOffsets.length} records known); rerun from start instead`,
    );
  return {
    ...cleared,
    cursor: {
      byteOffset: offset,
      blockIndex: -1,
      recordOrdinal: from.record,
      fingerprint: UNKNOWN_FINGERPRINT,
    },
    readLength: 0,
    recordOffsets: state.recordOffsets.slice(0, from.record),
  };
}

/** A cursor set by an operator: the next plan trusts the current block list for its prefix. */
export const UNKNOWN_FINGERPRINT = fingerprintOf(['(operator reset)']);
