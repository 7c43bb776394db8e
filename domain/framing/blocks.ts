import { PrefixChangedError } from '../errors';
import { murmur128Hex } from '../hash';
import type { ScanStart } from './record-scanner';

/**
 * Block framing of a growing PT1H.json. Azure commits a new block list about every minute:
 * block 0 is the 12-byte `{"records":[`, the last block is the 2-byte `]}`, and new record blocks are
 * inserted just before it (each after the first starting with a comma). Header and closer are recognised
 * by position and size, never by block-id scheme (two schemes exist in the wild).
 *
 * A cursor says how far a blob has been consumed. It points just past the last complete record read, so
 * a block that ends mid-record (never seen from Azure, but allowed) is simply re-read from that record.
 */

export interface CommittedBlock {
  /** Block id as listed (base64). */
  readonly name: string;
  readonly size: number;
}

export interface BlobCursor {
  /** Absolute offset just past the last record consumed (0: nothing yet). */
  readonly byteOffset: number;
  /** Number of leading blocks holding consumed bytes (the first block starting at or after byteOffset). */
  readonly blockIndex: number;
  /** Ordinal the next record gets. */
  readonly recordOrdinal: number;
  /** Hash of the ids of blocks [0, blockIndex): a rewritten or truncated prefix changes it. */
  readonly fingerprint: string;
}

export const HEADER_BLOCK_SIZE = 12;
export const CLOSER_BLOCK_SIZE = 2;

export function fingerprintOf(blockNames: readonly string[]): string {
  return murmur128Hex(`${blockNames.length}\u001f${blockNames.join('\u001f')}`);
}

export const INITIAL_CURSOR: BlobCursor = Object.freeze({
  byteOffset: 0,
  blockIndex: 0,
  recordOrdinal: 0,
  fingerprint: fingerprintOf([]),
});

export type BlobLayout =
  /** Header, record blocks, closer: read up to the closer. */
  | 'flow-log'
  /** Anything else (a blob uploaded in one PutBlob has no committed blocks): read to the end. */
  | 'whole';

export type ReadPlan =
  | {
      readonly kind: 'read';
      readonly layout: BlobLayout;
      /** Absolute byte range to download, [start, end). */
      readonly start: number;
      readonly end: number;
      readonly scanStart: ScanStart;
      /** Committed blocks in the range, for history-size and lag figures. */
      readonly blocks: number;
    }
  | { readonly kind: 'up-to-date'; readonly layout: BlobLayout };

export function detectLayout(blocks: readonly CommittedBlock[]): BlobLayout {
  const last = blocks[blocks.length - 1];
  return blocks.length >= 2 && blocks[0]!.size === HEADER_BLOCK_SIZE && last!.size === CLOSER_BLOCK_SIZE
    ? 'flow-log'
    : 'whole';
}

/**
 * Which bytes hold records not yet consumed. Throws PrefixChangedError when the blocks already consumed
 * are no longer the blob's first blocks (rewritten, truncated or recreated blob): the caller starts a new
 * generation from INITIAL_CURSOR instead of misreading.
 */
export function planRead(
  source: string,
  blocks: readonly CommittedBlock[],
  contentLength: number,
  cursor: BlobCursor,
): ReadPlan {
  const layout = detectLayout(blocks);
  if (cursor.blockIndex >= 0) verifyPrefix(source, blocks, contentLength, cursor);
  const dataEnd = layout === 'flow-log' ? contentLength - CLOSER_BLOCK_SIZE : contentLength;
  if (cursor.byteOffset >= dataEnd || (layout === 'flow-log' && dataEnd <= HEADER_BLOCK_SIZE))
    return { kind: 'up-to-date', layout };
  let newBlocks = 0;
  let at = 0;
  for (const b of blocks) {
    if (at + b.size > cursor.byteOffset && at < dataEnd) newBlocks++;
    at += b.size;
  }
  return {
    kind: 'read',
    layout,
    start: cursor.byteOffset,
    end: dataEnd,
    scanStart: cursor.byteOffset === 0 ? 'document' : 'array-body',
    blocks: newBlocks,
  };
}

function verifyPrefix(
  source: string,
  blocks: readonly CommittedBlock[],
  contentLength: number,
  cursor: BlobCursor,
): void {
  const changed = (why: string) =>
    new PrefixChangedError(
      'prefix-changed',
      { source, byteOffset: cursor.byteOffset, recordOrdinal: cursor.recordOrdinal },
      `${why}; the blob was rewritten or truncated, so it must be read again from the start under a new generation`,
    );
  if (cursor.byteOffset > contentLength)
    throw changed(
      `the blob is ${contentLength} bytes, shorter than the ${cursor.byteOffset} bytes already consumed`,
    );
  if (cursor.blockIndex > blocks.length)
    throw changed(
      `the blob has ${blocks.length} committed blocks, fewer than the ${cursor.blockIndex} consumed`,
    );
  const names: string[] = [];
  let size = 0;
  for (let i = 0; i < cursor.blockIndex; i++) {
    const b = blocks[i]!;
    names.push(b.name);
    size += b.size;
  }
  if (cursor.blockIndex > 0 && size < cursor.byteOffset)
    throw changed(`the first ${cursor.blockIndex} blocks hold ${size} bytes, fewer than the consumed offset`);
  if (fingerprintOf(names) !== cursor.fingerprint)
    throw changed(`the ids of the first ${cursor.blockIndex} committed blocks differ from those consumed`);
}

/** The cursor after the records up to `consumedEnd` (from a RecordScanner) have been processed. */
export function advanceCursor(
  blocks: readonly CommittedBlock[],
  consumedEnd: number,
  nextOrdinal: number,
): BlobCursor {
  const names: string[] = [];
  let at = 0;
  for (const b of blocks) {
    if (at >= consumedEnd) break;
    names.push(b.name);
    at += b.size;
  }
  return {
    byteOffset: consumedEnd,
    blockIndex: names.length,
    recordOrdinal: nextOrdinal,
    fingerprint: fingerprintOf(names),
  };
}

/** A cursor set by an operator (blockIndex -1): its block index and fingerprint from the current list. */
export function establishCursor(blocks: readonly CommittedBlock[], cursor: BlobCursor): BlobCursor {
  if (cursor.blockIndex >= 0) return cursor;
  return advanceCursor(blocks, cursor.byteOffset, cursor.recordOrdinal);
}

/**
 * Where a cursor may land after reading [start, end): the end of each block in the range, with the block
 * count and fingerprint a cursor there gets. The orchestration keeps this small table instead of the
 * block list, and picks the entry for the parsers' consumed end.
 */
export interface BlockBoundary {
  /** Offset just past the block. */
  readonly end: number;
  /** Blocks [0, blockIndex) hold bytes before `end`. */
  readonly blockIndex: number;
  readonly fingerprint: string;
}

export function boundariesInRange(
  blocks: readonly CommittedBlock[],
  start: number,
  end: number,
): BlockBoundary[] {
  const out: BlockBoundary[] = [];
  const names: string[] = [];
  let at = 0;
  for (const b of blocks) {
    names.push(b.name);
    at += b.size;
    if (at <= start) continue;
    out.push({ end: at, blockIndex: names.length, fingerprint: fingerprintOf(names) });
    if (at >= end) break;
  }
  return out;
}

/** The cursor after consuming up to `consumedEnd` (≥ previous.byteOffset), from a boundary table. */
export function cursorAt(
  boundaries: readonly BlockBoundary[],
  previous: BlobCursor,
  consumedEnd: number,
  nextOrdinal: number,
): BlobCursor {
  if (consumedEnd <= previous.byteOffset) return { ...previous, recordOrdinal: nextOrdinal };
  const b = boundaries.find((x) => x.end >= consumedEnd);
  if (!b) throw new RangeError(`consumed end ${consumedEnd} is past the blocks read`);
  return {
    byteOffset: consumedEnd,
    blockIndex: b.blockIndex,
    recordOrdinal: nextOrdinal,
    fingerprint: b.fingerprint,
  };
}
