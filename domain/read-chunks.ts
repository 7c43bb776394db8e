import type { CommittedBlock } from './framing/blocks';

/** A byte range one parse activity reads: whole blocks, at most `maxBytes` unless a single block is larger. */
export interface ReadChunk {
  readonly start: number;
  readonly end: number;
  readonly blocks: number;
}

/**
 * Splits [start, end) at block boundaries into chunks of at most maxBytes (a block larger than that is a
 * chunk of its own). Azure writes whole records per block, so chunk edges fall between records and the
 * chunks can be parsed in parallel; a chunk that does not start on a record is detected by its parser.
 */
export function splitIntoChunks(
  blocks: readonly CommittedBlock[],
  start: number,
  end: number,
  maxBytes: number,
): ReadChunk[] {
  const chunks: ReadChunk[] = [];
  let chunkStart = start;
  let chunkBlocks = 0;
  let at = 0;
  for (const b of blocks) {
    const blockStart = at;
    const blockEnd = at + b.size;
    at = blockEnd;
    if (blockEnd <= start) continue;
    if (blockStart >= end) break;
    const edge = Math.min(blockEnd, end);
    if (chunkBlocks > 0 && edge - chunkStart > maxBytes) {
      chunks.push({ start: chunkStart, end: blockStart, blocks: chunkBlocks });
      chunkStart = blockStart;
      chunkBlocks = 0;
    }
    chunkBlocks++;
  }
  if (end > chunkStart) chunks.push({ start: chunkStart, end, blocks: Math.max(1, chunkBlocks) });
  return chunks;
}
