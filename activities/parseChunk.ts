import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { BlobVersionChangedError, type FlowLogBlobs } from '../adapters/blob-source';
import { ExternalError } from '../adapters/errors';
import { appServices } from '../app/services';
import { type ParseChunkInput, type ParseChunkResult, quarantineName, stagedName } from '../common/contracts';
import { record } from '../common/metrics';
import { names } from '../common/names';
import { blobIdentityOfRef, blobIdOf } from '../domain/blob-identity';
import {
  DocumentFormatError,
  describeLocation,
  type FlowLogError,
  type SourceLocation,
} from '../domain/errors';
import { boundariesInRange, HEADER_BLOCK_SIZE } from '../domain/framing/blocks';
import type { ScanStart } from '../domain/framing/record-scanner';
import { addStats, BlobSummarizer, emptyStats, warmUpFastPath } from '../domain/summarize';
import { NdjsonEncoder } from '../domain/summary/serialize';

const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
/** Reads of one chunk while the blob keeps moving on (appends between the list and the read). */
const PINNED_READ_ATTEMPTS = 4;

/** First byte that is not JSON whitespace, or -1. */
function firstSignificant(bytes: Uint8Array): number {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return -1;
}

/**
 * A problem's message and location without the record ordinal: ordinals here are counted from the start of
 * the chunk, so only the byte offset names the record exactly.
 */
function locatedByOffset(error: FlowLogError): { message: string; location: SourceLocation } {
  const what = error.message.slice(describeLocation(error.location).length + 2);
  const { recordOrdinal: _chunkOrdinal, ...location } = error.location;
  return { message: `${describeLocation(location)}: ${what}`, location };
}

type PinnedRead = { readonly bytes: Uint8Array } | { readonly changed: string };

/**
 * The chunk's bytes as the plan saw them. The read is conditioned on the plan's eTag; when the blob has
 * moved on since (Azure appended a block, the usual case), the block list is read again: if the blocks up
 * to the chunk's end are still those the plan listed, the chunk's bytes are too, and the read is repeated
 * under the new eTag. Otherwise the blob was rewritten after the plan.
 */
async function readPinned(blobs: FlowLogBlobs, input: ParseChunkInput): Promise<PinnedRead> {
  const { ref, chunk } = input;
  let eTag = input.eTag;
  for (let attempt = 1; attempt <= PINNED_READ_ATTEMPTS; attempt++) {
    try {
      return { bytes: await blobs.read(ref, chunk.start, chunk.end, eTag === '' ? undefined : eTag) };
    } catch (error) {
      if (!(error instanceof BlobVersionChangedError)) throw error;
    }
    const snapshot = await blobs.snapshot(ref);
    const atEnd = boundariesInRange(snapshot.blocks, chunk.start, chunk.end).find((b) => b.end === chunk.end);
    if (input.fingerprintAtEnd === '' || atEnd?.fingerprint !== input.fingerprintAtEnd)
      return {
        changed: `${ref.name}, bytes ${chunk.start}-${chunk.end}: the blob was rewritten after the run listed its blocks (eTag ${input.eTag} → ${snapshot.eTag})`,
      };
    eTag = snapshot.eTag;
  }
  throw new ExternalError(
    `${ref.name}, bytes ${chunk.start}-${chunk.end}: the blob changed under every one of ${PINNED_READ_ATTEMPTS} reads`,
    true,
  );
}

/**
 * Encoders of this worker, each used by one invocation at a time (invocations interleave at every await)
 * and then put back, so their buffers and rendered-field caches serve the next chunks. The first one also
 * warms the reader up (type feedback for every layout before V8 optimizes it).
 */
const idleEncoders: NdjsonEncoder[] = [];
let warmedUp = false;
function acquireEncoder(): NdjsonEncoder {
  const encoder = idleEncoders.pop() ?? new NdjsonEncoder(1 << 16);
  if (!warmedUp) {
    warmUpFastPath(encoder);
    warmedUp = true;
  }
  return encoder;
}

/**
 * Reads one chunk of committed blocks and turns it into final rows in one pass — the same path as
 * `flowlog process` (BlobSummarizer.pushNdjson: the byte-level reader, aggregation, enrichment, the row
 * encoder) — and stages them in the run's own folder for emitChunk. Ids are final here: they depend on
 * each record's byte offset in the blob, which the chunk knows by itself. Nothing is lost to bad input: an unreadable record is quarantined with its bytes and location; where the
 * document structure itself is broken, the bytes from the last good record to the end of that block are
 * quarantined and reading goes on at the next block (Azure writes one record per block). Idempotent: the
 * staging and quarantine names depend only on the input.
 */
export async function parseChunk(
  input: ParseChunkInput,
  context: InvocationContext,
): Promise<ParseChunkResult> {
  if (!input?.ref || !input.chunk || !input.key || !input.stagingPrefix?.startsWith(`${input.key}/`))
    throw new Error(
      "parseChunk needs {ref, key, generation, stagingPrefix (in the key's folder), chunk, eTag, scanStart}",
    );
  const { blobs, staging, config, counters } = appServices();
  const loaded = await appServices().enricher();
  const enricher = loaded.enabled ? loaded.enricher : null;
  const enrichBefore = loaded.stats();
  const { chunk, ref, key, generation } = input;
  let bytes: Uint8Array;
  try {
    const read = await readPinned(blobs, input);
    if ('changed' in read) {
      counters.add('chunks.changed');
      return { kind: 'changed', error: read.changed };
    }
    bytes = read.bytes;
  } catch (error) {
    if (error instanceof ExternalError && !error.retryable)
      return { kind: 'storage-failed', error: error.message };
    throw error;
  }
  // A chunk must begin between records: a comma (every record block after the first), the first record,
  // or (at the cursor) a record an operator reset to.
  if (input.scanStart === 'array-body') {
    const first = firstSignificant(bytes);
    const allowed = input.atCursor || chunk.start === HEADER_BLOCK_SIZE ? [COMMA, OPEN_BRACE] : [COMMA];
    if (first !== -1 && !allowed.includes(first))
      return {
        kind: 'misaligned',
        error: `${ref.name}, byte ${chunk.start}: chunk does not start between records`,
      };
  }
  const blob = blobIdentityOfRef(ref, generation);
  const blobId = blobIdOf(blob);
  const quarantined: Promise<void>[] = [];
  const quarantine = (byteOffset: number, error: FlowLogError, raw: Uint8Array, end?: number) => {
    const located = locatedByOffset(error);
    quarantined.push(
      staging.put(
        quarantineName(key, generation, byteOffset),
        new TextEncoder().encode(
          JSON.stringify({
            error: located.message,
            location: located.location,
            account: ref.account,
            container: ref.container,
            name: ref.name,
            byteOffset,
            ...(end !== undefined ? { end } : {}),
            raw: new TextDecoder().decode(raw),
          }),
        ),
      ),
    );
  };

  const encoder = acquireEncoder();
  try {
    return await summarizeInto(encoder);
  } finally {
    encoder.take(); // empty, also after a throw
    if (idleEncoders.length < 4) idleEncoders.push(encoder);
  }

  async function summarizeInto(encoder: NdjsonEncoder): Promise<ParseChunkResult> {
    const problems: FlowLogError[] = [];
    const recordOffsets: number[] = [];
    const stats = emptyStats();
    let blockEnds: number[] | undefined;
    let segmentStart = chunk.start;
    let scanStart: ScanStart = input.scanStart;
    let ordinal = 0;
    let consumedEnd = chunk.start;
    for (;;) {
      const summarizer = new BlobSummarizer({
        blob,
        blobId,
        windowSeconds: config.windowSeconds,
        start: scanStart,
        byteOffset: segmentStart,
        firstOrdinal: ordinal,
        onBadRecord: (rec, error) => quarantine(rec.byteOffset, error, rec.bytes),
      });
      const found: FlowLogError[] = [];
      summarizer.pushNdjson(bytes.subarray(segmentStart - chunk.start), encoder, found, enricher);
      summarizer.end(false, found);
      problems.push(...found);
      addStats(stats, summarizer.stats);
      recordOffsets.push(...summarizer.recordOffsets);
      ordinal = summarizer.nextOrdinal;
      consumedEnd = Math.max(consumedEnd, summarizer.consumedEnd);
      const broken = found.find((p) => p instanceof DocumentFormatError);
      if (broken === undefined) break;
      // Broken before any record of a chunk that does not start at the cursor: the chunk edge is inside a
      // record (a record spread over blocks), not bad input; the run reads the range in one piece instead.
      if (segmentStart === chunk.start && summarizer.stats.records === 0 && !input.atCursor)
        return { kind: 'misaligned', error: broken.message };
      // The document structure is broken inside this chunk: skip to the end of the block holding the error.
      if (blockEnds === undefined) {
        const snapshot = await blobs.snapshot(ref);
        blockEnds = boundariesInRange(snapshot.blocks, chunk.start, chunk.end).map((b) => b.end);
      }
      const from = summarizer.consumedEnd;
      const resume = blockEnds.find(
        (end) => end > (broken.location.byteOffset ?? from) && end > from && end <= chunk.end,
      );
      const to = resume ?? chunk.end;
      quarantine(from, broken, bytes.subarray(from - chunk.start, to - chunk.start), to);
      counters.add('bytes.quarantined', to - from);
      consumedEnd = to;
      if (to >= chunk.end) break;
      segmentStart = to;
      scanStart = 'array-body';
    }
    await Promise.all(quarantined);
    for (const p of problems) context.warn(locatedByOffset(p).message);

    const rows = encoder.take();
    const staged = stagedName(input.stagingPrefix, chunk);
    await staging.put(staged, rows);
    const enrichAfter = loaded.stats();
    record(
      counters,
      context,
      {
        'bytes.read': bytes.length,
        'blocks.read': chunk.blocks,
        'records.parsed': stats.records,
        'records.quarantined': stats.recordsFailed,
        'tuples.parsed': stats.tuples,
        'tuples.failed': stats.tuplesFailed,
        'summaries.built': stats.summaries,
        'rows.bytes': rows.length,
        'enrich.cacheHits': enrichAfter.hits - enrichBefore.hits,
        'enrich.cacheMisses': enrichAfter.misses - enrichBefore.misses,
      },
      { blob: key },
    );
    return {
      kind: 'parsed',
      staged,
      records: stats.records,
      tuples: stats.tuples,
      summaries: stats.summaries,
      rowBytes: rows.length,
      consumedEnd,
      recordOffsets,
      problems: problems.length,
      problemSamples: problems.slice(0, 3).map((p) => locatedByOffset(p).message.slice(0, 300)),
    };
  }
}

df.app.activity(names.parseChunk, { handler: parseChunk });
