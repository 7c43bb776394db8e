/**
 * What orchestrations, activities and entities pass each other: references and compact counts only, never
 * tuples or summaries (those travel through staging blobs), so history stays small whatever the volume.
 */
import type { BlobRef } from '../domain/blob-ref';
import type { BlobState, Observation, RerunFrom } from '../domain/blob-state';
import type { BlobCursor, BlockBoundary } from '../domain/framing/blocks';
import type { ScanStart } from '../domain/framing/record-scanner';
import type { ReadChunk } from '../domain/read-chunks';

/**
 * Every event, sweep poke and operator rerun starts one of these with an instance id of its own. The
 * first thing it does is claim the blob on its entity; only a granted claim goes on to read.
 */
export interface ProcessBlobInput {
  readonly ref: BlobRef;
  readonly key: string;
  /** What the event or the sweep saw (absent for an operator rerun). */
  readonly observation?: Observation;
  /** Operator rerun: reset the cursor this way before the run (rerun endpoints). */
  readonly rerunFrom?: RerunFrom;
  /** A run without progress for this long is replaced by the next claim (FLOWLOG_STUCK_RUN_MINUTES). */
  readonly stuckAfterMs: number;
  /** A run the starter saw end while still holding the blob: the claim replaces it. */
  readonly replaceRun?: string;
  /** Retry policy for activities (short in local runs and tests). */
  readonly retry?: { readonly firstIntervalMs: number; readonly attempts: number };
  /** Set after continueAsNew: the run's token from its claim, so later rounds skip the claim. */
  readonly token?: number;
  /** Rounds already done by this run through continueAsNew. */
  readonly round?: number;
  /**
   * Part of a bulk job (a sub-orchestration): a failure ends the instance with a `failed` output instead of
   * failing it, so one blob's failure does not fail the job's batch (the entity and ledger record it).
   */
  readonly failAsOutput?: boolean;
}

/** What a bulk job reruns: the blobs of a time range (replay), or the blobs the ledger lists as failed. */
export type BulkQuery =
  | { readonly kind: 'replay'; readonly from: string; readonly to: string; readonly resourcePrefix: string }
  | { readonly kind: 'rerun-failed' };

/** A bulk rerun: the HTTP request answers at once; this orchestration works through the blobs. */
export interface BulkRerunInput {
  readonly jobId: string;
  readonly query: BulkQuery;
  readonly from: RerunFrom;
  readonly stuckAfterMs: number;
  /** Reruns running at once (FLOWLOG_BULK_CONCURRENCY). */
  readonly concurrency: number;
  /** Blobs one job takes at most (FLOWLOG_BULK_MAX_BLOBS); the rest is reported as left out. */
  readonly maxBlobs: number;
  /** Set after the listing (round 0) and carried through continueAsNew. */
  readonly progress?: BulkProgress;
}

export interface BulkProgress {
  readonly matched: number;
  readonly total: number;
  readonly done: number;
  /** Outputs of the reruns by kind (`read`, `refused`, `failed`, ...). */
  readonly outcomes: Readonly<Record<string, number>>;
}

export interface BulkTargetsInput {
  readonly jobId: string;
  readonly query: BulkQuery;
  readonly maxBlobs: number;
}

export interface BulkTargetsResult {
  readonly matched: number;
  readonly listed: number;
}

export interface ReadBulkTargetsInput {
  readonly jobId: string;
  readonly offset: number;
  readonly count: number;
}

export const bulkTargetsName = (jobId: string) => `jobs/${jobId}/targets.ndjson`;

/** What a processBlob instance ended with (its output, visible in the durable status). */
export type ProcessBlobOutput =
  | { readonly kind: 'covered'; readonly activeRun: string }
  | { readonly kind: 'up-to-date' }
  | { readonly kind: 'up-to-date' | 'read'; readonly cursor: number; readonly token: number }
  | { readonly kind: 'backing-off'; readonly until: string; readonly error: string }
  | { readonly kind: 'needs-operator' | 'refused' | 'superseded'; readonly error: string }
  | { readonly kind: 'continued' | 'new-generation'; readonly token: number }
  /** A failure of a bulk job's rerun (failAsOutput): recorded on entity and ledger like any other. */
  | { readonly kind: 'failed'; readonly error: string };

export interface PlanInput {
  readonly ref: BlobRef;
  readonly cursor: BlobCursor;
}

export type PlanResult =
  | { readonly kind: 'up-to-date'; readonly contentLength: number; readonly eTag: string }
  | { readonly kind: 'prefix-changed'; readonly reason: string }
  /** A storage error retrying cannot cure (not authorised, not found): the run fails for an operator. */
  | { readonly kind: 'storage-failed'; readonly error: string }
  | {
      readonly kind: 'read';
      readonly contentLength: number;
      readonly eTag: string;
      /** The cursor with its block index re-established (after an operator reset). */
      readonly cursor: BlobCursor;
      readonly scanStart: ScanStart;
      readonly chunks: readonly ReadChunk[];
      readonly boundaries: readonly BlockBoundary[];
      readonly blocks: number;
    };

export interface ParseChunkInput {
  readonly ref: BlobRef;
  readonly key: string;
  readonly generation: number;
  /** The round's staging folder (runStagingPrefix): its files are its own. */
  readonly stagingPrefix: string;
  readonly chunk: ReadChunk;
  /** The blob version the plan listed: the read is conditioned on it (If-Match). */
  readonly eTag: string;
  /**
   * The fingerprint of the blocks up to the chunk's end as the plan listed them: when the eTag moved on
   * (a block was appended), the bytes are still those the plan saw if this still matches.
   */
  readonly fingerprintAtEnd: string;
  readonly scanStart: ScanStart;
  /** The chunk starts at the run's cursor (after a record, or at a record an operator reset to). */
  readonly atCursor: boolean;
}

export type ParseChunkResult =
  | {
      readonly kind: 'parsed';
      readonly staged: string;
      readonly records: number;
      readonly tuples: number;
      readonly summaries: number;
      /** Bytes of the staged rows (NDJSON, enriched). */
      readonly rowBytes: number;
      readonly consumedEnd: number;
      readonly recordOffsets: readonly number[];
      /** Records/tuples that could not be read; quarantined under `quarantine`. */
      readonly problems: number;
      readonly problemSamples: readonly string[];
    }
  /** The chunk does not start on a record (never from Azure's writer): read the range sequentially. */
  | { readonly kind: 'misaligned'; readonly error: string }
  /** The blob was rewritten after the plan listed it: the run goes round again and plans anew. */
  | { readonly kind: 'changed'; readonly error: string }
  /** A storage error retrying cannot cure (not authorised, not found): the run fails for an operator. */
  | { readonly kind: 'storage-failed'; readonly error: string };

export interface EmitChunkInput {
  /** Staged rows of one chunk (parseChunk's output). */
  readonly staged: string;
  /** Event Hubs partition key: the blob key, so one blob's rows stay in order on one partition. */
  readonly partitionKey: string;
}

export type EmitChunkResult =
  | {
      readonly kind: 'sent';
      /** Summaries sent (rows). */
      readonly rows: number;
      /** Event Hubs events they went in (several rows per event). */
      readonly events: number;
      readonly batches: number;
      readonly bytes: number;
      readonly retries: number;
      readonly milliseconds: number;
    }
  | { readonly kind: 'failed'; readonly error: string };

export interface RecordBlobStatusInput {
  readonly key: string;
  readonly ref: BlobRef;
  readonly state: BlobState;
  /** The round's staging folder, removed as a whole (after a failure: late writes included). */
  readonly cleanupPrefix?: string;
  /** The round's staged files, removed by name (a round that ended well: nothing else writes there). */
  readonly cleanupNames?: readonly string[];
}

/**
 * Staging names: one folder per round of a run (blob key, generation, token, round), deterministic within
 * it, so a retried activity overwrites its own output, and neither a late write of a failed or replaced
 * run nor a late (at-least-once) cleanup of an earlier round ever touches the files of the round after it.
 */
export const blobStagingPrefix = (key: string) => `${key}/`;
export const runStagingPrefix = (key: string, generation: number, token: number, round: number) =>
  `${blobStagingPrefix(key)}g${generation}/t${token}/r${round}/`;
export const stagedName = (runPrefix: string, chunk: ReadChunk) =>
  `${runPrefix}${chunk.start}-${chunk.end}.rows.ndjson`;
export const quarantineName = (key: string, generation: number, byteOffset: number) =>
  `quarantine/${key}/g${generation}/${byteOffset}.json`;
