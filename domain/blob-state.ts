import { compareSequencers } from './blob-event';
import { parseHourPath } from './blob-identity';
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
  /** Observations recorded so far: a round goes again only for one that came after it began. */
  readonly observations: number;
  /** contentLength the last completed run read up to. */
  readonly readLength: number;
  readonly lastSequencer: string;
  readonly lastError: string | null;
  readonly failureCount: number;
  readonly stats: BlobStats;
  /** Start offset of each record consumed, by ordinal (for rerun from record N). */
  readonly recordOffsets: readonly number[];
  /**
   * The blob's hour and its grace are over and everything committed was read (`hourCompleteAt`). Set by a
   * run's commit or the sweep's `settleHour`; cleared by an observation of more than was read.
   */
  readonly hourComplete: boolean;
  /** When hourComplete last became true (null while it is false). */
  readonly hourCompletedAt: string | null;
  /** Times the blob was found to have grown after its hour was marked complete. */
  readonly hourReopened: number;
  readonly lastRunAt: string | null;
  readonly lastEventAt: string | null;
  /** The one run allowed to change this state, or null when none is active. */
  readonly run: ActiveRun | null;
  /** Tokens handed out so far: each granted run gets the next one. */
  readonly runsGranted: number;
  /** Runs that made no progress for longer than the bound and were replaced by a new one. */
  readonly stuckRunsReplaced: number;
  /** The last failure could not be cured by retrying (not authorised, not found, ...): wait for an operator. */
  readonly failurePermanent: boolean;
  /** Bumped by every change a run makes (commit, fail, new generation): orders the ledger's writes. */
  readonly revision: number;
}

/**
 * A run holds a token from its claim. Only the holder of the current token may move the cursor, so two
 * runs of one blob (an Azure start race, a run replaced while still alive) can never both commit.
 */
export interface ActiveRun {
  /** The orchestration instance that holds the token. */
  readonly instanceId: string;
  readonly token: number;
  readonly startedAt: string;
  /** Claim, beginRound and every commit mark progress; the stuck-run bound counts from here. */
  readonly lastProgressAt: string;
}

export const emptyBlobState = (): BlobState => ({
  ref: null,
  cursor: INITIAL_CURSOR,
  generation: 0,
  eTag: '',
  observedLength: 0,
  observations: 0,
  readLength: 0,
  lastSequencer: '',
  lastError: null,
  failureCount: 0,
  stats: { runs: 0, blocks: 0, records: 0, tuples: 0, summaries: 0, events: 0, problems: 0 },
  recordOffsets: [],
  hourComplete: false,
  hourCompletedAt: null,
  hourReopened: 0,
  lastRunAt: null,
  lastEventAt: null,
  run: null,
  runsGranted: 0,
  stuckRunsReplaced: 0,
  failurePermanent: false,
  revision: 0,
});

/**
 * State persisted before runs had tokens lacks the new fields: fill them in (an entity keeps its state
 * across deployments).
 */
export function withDefaults(state: Partial<BlobState>): BlobState {
  return { ...emptyBlobState(), ...state };
}

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

/**
 * A BlobCreated event or a sweep listing: remember the largest length; never moves the cursor. A length
 * beyond what was read reopens a complete hour (Azure committed a block after all): it is not complete
 * until a run has read it.
 */
export function observe(state: BlobState, o: Observation): BlobState {
  const newer = o.contentLength > state.observedLength;
  const reopens = state.hourComplete && o.contentLength > state.readLength;
  return {
    ...state,
    ...(reopens ? { hourComplete: false, hourCompletedAt: null, hourReopened: state.hourReopened + 1 } : {}),
    ref: state.ref ?? o.ref,
    observedLength: Math.max(state.observedLength, o.contentLength),
    observations: state.observations + 1,
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

/** Default of FLOWLOG_HOUR_GRACE_MINUTES: Azure still commits an hour's last blocks minutes after it ends. */
export const DEFAULT_HOUR_GRACE_MS = 15 * 60_000;

const HOUR_MS = 3_600_000;

/** End of the blob's UTC hour (ms), from the `y=/m=/d=/h=` path; undefined when the name has none. */
export function hourEndOf(ref: BlobRef | null): number | undefined {
  const hour = ref ? parseHourPath(ref.name) : undefined;
  return hour === undefined ? undefined : hour.hourStart.getTime() + HOUR_MS;
}

/**
 * Everything seen committed was read: a run read up to a length no event or listing exceeded, and the
 * cursor stands at that length's closer (the last complete record). A failed blob never is.
 */
export function readToEnd(state: BlobState): boolean {
  return (
    state.readLength > 0 &&
    state.observedLength <= state.readLength &&
    state.cursor.byteOffset >= state.readLength - CLOSER &&
    state.lastError === null
  );
}

/** Why a blob's hour is not complete (or `complete`). */
export type HourStatus =
  | 'complete'
  /** The name carries no hour (not a flow-log path): never complete. */
  | 'unknown-hour'
  /** The hour, or its grace after the end, is not over at `listedAt`. */
  | 'in-grace'
  /** A run holds the blob: its commit decides. */
  | 'running'
  | 'failed'
  /** More is committed (or was observed) than was read. */
  | 'behind';

/**
 * Whether the blob's hour is complete, judged from the state and a look at the blob at `listedAt` (the
 * plan's block list, or the sweep's listing): the hour plus `graceMs` was over by then, so Azure's late
 * blocks for it are in what was listed, and everything listed was read. `committedLength`: what the look
 * saw (a run passes its readLength).
 */
export function hourStatus(
  state: BlobState,
  listedAt: string,
  committedLength: number,
  graceMs: number,
): HourStatus {
  const end = hourEndOf(state.ref);
  if (end === undefined) return 'unknown-hour';
  if (!(Date.parse(listedAt) >= end + graceMs)) return 'in-grace';
  if (state.lastError !== null) return 'failed';
  if (state.run !== null) return 'running';
  if (committedLength > state.readLength || !readToEnd(state)) return 'behind';
  return 'complete';
}

/** hourComplete set (or cleared) with its timestamp kept from the first time it became true. */
function withHourComplete(state: BlobState, complete: boolean, at: string): BlobState {
  if (!complete) return { ...state, hourComplete: false, hourCompletedAt: null };
  return { ...state, hourComplete: true, hourCompletedAt: state.hourCompletedAt ?? at };
}

export interface HourCheck {
  /** When the sweep listed the blob. */
  readonly at: string;
  /** The committed length the listing showed. */
  readonly contentLength: number;
  readonly graceMs: number;
}

/**
 * The sweep saw the blob, its hour and grace over, no longer than what was read: mark the hour complete
 * without a run. Only the entity applies it (it sees the latest state); the revision is not bumped, so a
 * run's later ledger write always wins over the sweep's row of this state.
 */
export function settleHour(
  state: BlobState,
  check: HourCheck,
): { state: BlobState; verdict: { status: HourStatus; changed: boolean } } {
  const status = hourStatus(state, check.at, check.contentLength, check.graceMs);
  if (status !== 'complete' || state.hourComplete) return { state, verdict: { status, changed: false } };
  return { state: withHourComplete(state, true, check.at), verdict: { status, changed: true } };
}

export interface RunCommit {
  /** The token the run's claim was granted: a commit from any other run is refused. */
  readonly token: number;
  readonly generation: number;
  readonly cursor: BlobCursor;
  readonly readLength: number;
  /** `observations` when this round began (claim or beginRound). */
  readonly observationsAtBegin: number;
  readonly eTag: string;
  readonly newRecordOffsets: readonly number[];
  readonly stats: Omit<BlobStats, 'runs'>;
  /**
   * When this round's plan listed the blocks (before it, so the listing is no older): the hour is complete
   * only if its grace was over by then. Absent (a run started by an older version): `at`.
   */
  readonly listedAt?: string;
  readonly at: string;
}

/** What a run is told when it asks to change the state. */
export type RunVerdict<T = object> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly reason: 'superseded' | 'refused'; readonly error: string };

const superseded = (state: BlobState, token: number): RunVerdict & { ok: false } => ({
  ok: false,
  reason: 'superseded',
  error:
    state.run === null
      ? `run token ${token} no longer holds the blob (no run is active)`
      : `run token ${token} no longer holds the blob (${state.run.instanceId} holds token ${state.run.token})`,
});

const holds = (state: BlobState, token: number): boolean => state.run !== null && state.run.token === token;

/** Offsets a commit adds: only past the last one known, so an offset is never recorded twice. */
function appendIncreasing(known: readonly number[], added: readonly number[]): number[] {
  const out = [...known];
  let last = out.length > 0 ? out[out.length - 1]! : -1;
  for (const offset of added) {
    if (offset > last) {
      out.push(offset);
      last = offset;
    }
  }
  return out;
}

/**
 * The run holding `c.token` read everything up to `c.cursor` and its summaries are on the hub: advance.
 * Refused for any other run (stale or replaced), for an older generation, and for a cursor that would move
 * backwards. `more`: something was committed after the run listed the blocks, so the run goes round again
 * (and keeps its token); otherwise the run is over and the blob is free for the next claim.
 */
export function commitRun(
  state: BlobState,
  c: RunCommit,
  hourGraceMs = DEFAULT_HOUR_GRACE_MS,
): { state: BlobState; verdict: RunVerdict<{ more: boolean }> } {
  if (!holds(state, c.token)) return { state, verdict: superseded(state, c.token) };
  const refuse = (error: string) => ({
    state: {
      ...failRun(state, error, c.at),
      run: null,
      failurePermanent: true,
      revision: state.revision + 1,
    },
    verdict: { ok: false as const, reason: 'refused' as const, error },
  });
  if (c.generation !== state.generation)
    return refuse(
      `commit of generation ${c.generation} refused: the blob is at generation ${state.generation}`,
    );
  if (c.cursor.byteOffset < state.cursor.byteOffset)
    return refuse(
      `commit refused: it would move the cursor backwards from byte ${state.cursor.byteOffset} to ${c.cursor.byteOffset}`,
    );
  const s = state.stats;
  const observedLength = Math.max(state.observedLength, c.readLength);
  // Only an observation made after the round began can show data its plan did not list (one made before
  // is covered: the blob only grows). This also ends the rounds if a blob shrank unnoticed.
  const more = observedLength > c.readLength && state.observations > c.observationsAtBegin;
  const next: BlobState = {
    ...state,
    cursor: c.cursor,
    readLength: c.readLength,
    observedLength,
    eTag: c.eTag || state.eTag,
    lastError: null,
    failureCount: 0,
    failurePermanent: false,
    recordOffsets: appendIncreasing(state.recordOffsets, c.newRecordOffsets),
    stats: {
      runs: s.runs + 1,
      blocks: s.blocks + c.stats.blocks,
      records: s.records + c.stats.records,
      tuples: s.tuples + c.stats.tuples,
      summaries: s.summaries + c.stats.summaries,
      events: s.events + c.stats.events,
      problems: s.problems + c.stats.problems,
    },
    lastRunAt: c.at,
    run: more && state.run !== null ? { ...state.run, lastProgressAt: c.at } : null,
    revision: state.revision + 1,
  };
  // A run going round again is `running`: its last round decides.
  const complete = hourStatus(next, c.listedAt ?? c.at, c.readLength, hourGraceMs) === 'complete';
  return { state: withHourComplete(next, complete, c.at), verdict: { ok: true, more } };
}

export interface RunFailure {
  readonly token: number;
  readonly error: string;
  /** Retrying cannot cure it (not authorised, not found, ...): no automatic run until an operator reruns. */
  readonly permanent: boolean;
  readonly at: string;
}

function failRun(state: BlobState, error: string, at: string): BlobState {
  return { ...state, lastError: error.slice(0, 2000), failureCount: state.failureCount + 1, lastRunAt: at };
}

/** The run holding the token failed after its retries: recorded for rerun, and the blob is free again. */
export function failRunWith(state: BlobState, f: RunFailure): { state: BlobState; verdict: RunVerdict } {
  if (!holds(state, f.token)) return { state, verdict: superseded(state, f.token) };
  return {
    state: {
      ...failRun(state, f.error, f.at),
      run: null,
      failurePermanent: f.permanent,
      revision: state.revision + 1,
    },
    verdict: { ok: true },
  };
}

/** The blob's prefix changed: start it again from byte 0 under a new generation (new ids). */
export function newGeneration(
  state: BlobState,
  token: number,
  reason: string,
): { state: BlobState; verdict: RunVerdict<{ generation: number }> } {
  if (!holds(state, token)) return { state, verdict: superseded(state, token) };
  const generation = state.generation + 1;
  return {
    state: {
      ...state,
      generation,
      cursor: INITIAL_CURSOR,
      readLength: 0,
      // Lengths seen so far were the old generation's.
      observedLength: 0,
      recordOffsets: [],
      hourComplete: false,
      hourCompletedAt: null,
      lastError: `new generation: ${reason}`.slice(0, 2000),
      revision: state.revision + 1,
    },
    verdict: { ok: true, generation },
  };
}

/** A later round of the run holding the token starts: its cursor and generation, and progress marked. */
export function beginRound(
  state: BlobState,
  token: number,
  at: string,
): {
  state: BlobState;
  verdict: RunVerdict<{ cursor: BlobCursor; generation: number; observations: number }>;
} {
  if (!holds(state, token) || state.run === null) return { state, verdict: superseded(state, token) };
  return {
    state: { ...state, run: { ...state.run, lastProgressAt: at } },
    verdict: {
      ok: true,
      cursor: state.cursor,
      generation: state.generation,
      observations: state.observations,
    },
  };
}

export type RerunFrom =
  | 'checkpoint'
  | 'start'
  /** The record at byte offset B: what a row carries as `recordOffset`. */
  | { readonly offset: number }
  /** The N-th record (zero-based) of the blob. */
  | { readonly record: number };

/**
 * Operator rerun. `checkpoint` keeps the cursor (retry what failed); `start` reads the blob again from
 * byte 0 in the same generation, so the ids repeat and downstream dedup absorbs them; `offset B` starts
 * at the record that begins at byte B (a row's recordOffset), `record N` at the N-th record's offset (its
 * block fingerprint is re-established by the next plan). Either must be a record already read.
 */
export function rerun(state: BlobState, from: RerunFrom): BlobState {
  const cleared = {
    ...state,
    lastError: null,
    failureCount: 0,
    failurePermanent: false,
    hourComplete: false,
    hourCompletedAt: null,
  };
  if (from === 'checkpoint') return { ...cleared, readLength: 0 };
  let ordinal: number;
  if (from === 'start') ordinal = 0;
  else if ('offset' in from) {
    ordinal = state.recordOffsets.indexOf(from.offset);
    if (ordinal < 0)
      throw new RangeError(
        `no record read so far starts at byte ${from.offset} (${state.recordOffsets.length} records known; a row's recordOffset names one); rerun from start instead`,
      );
  } else ordinal = from.record;
  if (ordinal <= 0) return { ...cleared, cursor: INITIAL_CURSOR, readLength: 0, recordOffsets: [] };
  const offset = state.recordOffsets[ordinal];
  if (offset === undefined)
    throw new RangeError(
      `record ${ordinal} has not been read yet (${state.recordOffsets.length} records known); rerun from start instead`,
    );
  return {
    ...cleared,
    cursor: {
      byteOffset: offset,
      blockIndex: -1,
      recordOrdinal: ordinal,
      fingerprint: UNKNOWN_FINGERPRINT,
    },
    readLength: 0,
    recordOffsets: state.recordOffsets.slice(0, ordinal),
  };
}

/** A cursor set by an operator: the next plan trusts the current block list for its prefix. */
export const UNKNOWN_FINGERPRINT = fingerprintOf(['(operator reset)']);

/** How long automatic runs wait after the n-th retryable failure in a row: 1, 2, 4, ... 60 minutes. */
export function retryBackoffMs(failureCount: number): number {
  return Math.min(60, 2 ** Math.max(0, failureCount - 1)) * 60_000;
}

export interface ClaimRequest {
  /** The orchestration instance asking to become the blob's run. */
  readonly instanceId: string;
  readonly ref: BlobRef;
  readonly at: string;
  /** What an event or the sweep saw (absent for an operator rerun). */
  readonly observation?: Observation;
  /** Operator rerun: reset the cursor this way, then run. */
  readonly rerunFrom?: RerunFrom;
  /** A run that made no progress for longer than this is replaced. */
  readonly stuckAfterMs: number;
  /**
   * The caller saw this run's instance end (terminated, failed, purged) while it still held the blob: it
   * can never commit or release, so it is replaced now rather than after the bound.
   */
  readonly replace?: string;
}

export type ClaimVerdict =
  | {
      readonly kind: 'granted';
      readonly token: number;
      readonly cursor: BlobCursor;
      readonly generation: number;
      /** Observations recorded when the claim was granted (see RunCommit.observationsAtBegin). */
      readonly observations: number;
      /** The stuck run this one replaces (its token is void from now on). */
      readonly replaced?: string;
    }
  /** A run is active; its commit sees the observation (more committed) and goes round again. */
  | { readonly kind: 'covered'; readonly activeRun: string }
  /** Everything observed has been read. */
  | { readonly kind: 'up-to-date' }
  /** The last run failed with a retryable error: automatic runs wait until `until`. */
  | { readonly kind: 'backing-off'; readonly until: string; readonly error: string }
  /** The last run failed permanently: only an operator rerun starts the next one. */
  | { readonly kind: 'needs-operator'; readonly error: string }
  /** An operator rerun that cannot be done now (a run is active, or the record is unknown). */
  | { readonly kind: 'refused'; readonly error: string };

/**
 * The one place that decides whether a run starts. Every event, sweep poke and operator rerun starts an
 * orchestration that claims the blob first: the observation is recorded, and the claim is granted a token
 * only when no run holds the blob (or the one that does made no progress for `stuckAfterMs`). So nothing
 * waits for a run to end, and two runs never hold one blob. The same instance claiming again (a
 * redelivered message) gets the same token.
 */
export function claim(state: BlobState, req: ClaimRequest): { state: BlobState; verdict: ClaimVerdict } {
  const seen = req.observation ? observe(state, req.observation) : state;
  const observed = seen.ref === null ? { ...seen, ref: req.ref } : seen;
  const active = observed.run;
  if (active !== null && active.instanceId === req.instanceId)
    return {
      state: observed,
      verdict: {
        kind: 'granted',
        token: active.token,
        cursor: observed.cursor,
        generation: observed.generation,
        observations: observed.observations,
      },
    };
  const stuck =
    active !== null &&
    (req.replace === active.instanceId ||
      Date.parse(req.at) - Date.parse(active.lastProgressAt) > req.stuckAfterMs);
  if (active !== null && !stuck) {
    const verdict: ClaimVerdict =
      req.rerunFrom === undefined
        ? { kind: 'covered', activeRun: active.instanceId }
        : {
            kind: 'refused',
            error: `run ${active.instanceId} is in progress; try again when it has finished`,
          };
    return { state: observed, verdict };
  }

  let next = observed;
  if (req.rerunFrom !== undefined) {
    try {
      next = rerun(observed, req.rerunFrom);
    } catch (error) {
      return { state: observed, verdict: { kind: 'refused', error: (error as Error).message } };
    }
  } else if (observed.lastError !== null && observed.failureCount > 0) {
    if (observed.failurePermanent)
      return { state: observed, verdict: { kind: 'needs-operator', error: observed.lastError } };
    const until = Date.parse(observed.lastRunAt ?? req.at) + retryBackoffMs(observed.failureCount);
    if (Date.parse(req.at) < until && !stuck)
      return {
        state: observed,
        verdict: { kind: 'backing-off', until: new Date(until).toISOString(), error: observed.lastError },
      };
  } else if (!stuck && !hasWork(state, observed, req.observation)) {
    return { state: observed, verdict: { kind: 'up-to-date' } };
  }

  const token = next.runsGranted + 1;
  const granted: BlobState = {
    ...next,
    runsGranted: token,
    stuckRunsReplaced: next.stuckRunsReplaced + (stuck ? 1 : 0),
    run: { instanceId: req.instanceId, token, startedAt: req.at, lastProgressAt: req.at },
  };
  return {
    state: granted,
    verdict: {
      kind: 'granted',
      token,
      cursor: granted.cursor,
      generation: granted.generation,
      observations: granted.observations,
      ...(stuck && active !== null ? { replaced: active.instanceId } : {}),
    },
  };
}

/** Whether there may be something to read: never read, more observed than read, or a possible rewrite. */
function hasWork(before: BlobState, after: BlobState, o: Observation | undefined): boolean {
  if (after.readLength === 0 || after.observedLength > after.readLength) return true;
  return o !== undefined && !isStale(before, o.contentLength, o.sequencer);
}
