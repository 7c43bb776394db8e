/**
 * What orchestrations, activities and entities pass each other: references and compact counts only, never
 * tuples or summaries (those travel through staging blobs), so history stays small whatever the volume.
 */
import type { BlobRef } from '../domain/blob-ref';
import type { RerunFrom } from '../domain/blob-state';
import type { BlobCursor, BlockBoundary } from '../domain/framing/blocks';
import type { ScanStart } from '../domain/framing/record-scanner';
import type { ReadChunk } from '../domain/read-chunks';

export interface ProcessBlobInput {
  readonly ref: BlobRef;
  readonly key: string;
  /** Retry policy for activities (short in local runs and tests). */
  readonly retry?: { readonly firstIntervalMs: number; readonly attempts: number };
  /** Rounds already done by this instance through continueAsNew (bounded per instance). */
  readonly round?: number;
  /** Operator rerun: reset the cursor this way before the run (rerun endpoints). */
  readonly rerunFrom?: RerunFrom;
}

export interface BeginRunResult {
  readonly cursor: BlobCursor;
  readonly generation: number;
}

export interface PlanInput {
  readonly ref: BlobRef;
  readonly cursor: BlobCursor;
}

export type PlanResult =
  | { readonly kind: 'up-to-date'; readonly contentLength: number; readonly eTag: string }
  | { readonly kind: 'prefix-changed'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: string }
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
  readonly chunk: ReadChunk;
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
      readonly consumedEnd: number;
      readonly recordOffsets: readonly number[];
      /** Records/tuples that could not be read; quarantined under `quarantine`. */
      readonly problems: number;
      readonly problemSamples: readonly string[];
    }
  /** The chunk does not start on a record (never from Azure's writer): read the range sequentially. */
  | { readonly kind: 'misaligned'; readonly error: string };

export interface EnrichChunkInput {
  readonly staged: string;
  readonly ordinalBase: number;
  readonly output: string;
}

export interface EnrichChunkResult {
  readonly staged: string;
  readonly summaries: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
}

export interface EmitChunkInput {
  readonly staged: string;
}

export type EmitChunkResult =
  | {
      readonly kind: 'sent';
      readonly events: number;
      readonly batches: number;
      readonly bytes: number;
      readonly retries: number;
      readonly milliseconds: number;
    }
  | { readonly kind: 'failed'; readonly error: string };

/** Staging names are deterministic: a retried activity overwrites its own output. */
export const stagingPrefix = (key: string, generation: number) => `${key}/g${generation}/`;
export const stagedName = (key: string, generation: number, chunk: ReadChunk, stage: 'parsed' | 'enriched') =>
  `${stagingPrefix(key, generation)}${chunk.start}-${chunk.end}.${stage}.ndjson`;
export const quarantineName = (key: string, generation: number, byteOffset: number) =>
  `quarantine/${key}/g${generation}/${byteOffset}.json`;
