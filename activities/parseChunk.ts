import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ExternalError } from '../adapters/errors';
import { type ParseChunkInput, type ParseChunkResult, quarantineName, stagedName } from '../app/contracts';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import { blobIdentityFromName } from '../domain/blob-identity';
import { DocumentFormatError, type FlowLogError } from '../domain/errors';
import { HEADER_BLOCK_SIZE } from '../domain/framing/blocks';
import { BlobSummarizer } from '../domain/summarize';
import type { FlowSummary } from '../domain/summary/schema';
import { NdjsonEncoder } from '../domain/summary/serialize';

const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;

/** First byte that is not JSON whitespace, or -1. */
function firstSignificant(bytes: Uint8Array): number {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return -1;
}

/**
 * Reads one chunk of committed blocks, summarizes its records (record ordinals counted from 0 in the
 * chunk; the enrich step moves them into place) and stages the summaries. Unreadable records are
 * quarantined with their bytes and location, so nothing is lost and a fix can rerun them. Idempotent: the
 * staging and quarantine names depend only on the input.
 */
export async function parseChunk(
  input: ParseChunkInput,
  context: InvocationContext,
): Promise<ParseChunkResult> {
  if (!input?.ref || !input.chunk || !input.key)
    throw new Error('parseChunk needs {ref, key, generation, chunk, scanStart}');
  const { blobs, staging, config, counters } = appServices();
  const { chunk, ref, key, generation } = input;
  let bytes: Uint8Array;
  try {
    bytes = await blobs.read(ref, chunk.start, chunk.end);
  } catch (error) {
    if (error instanceof ExternalError && !error.retryable)
      return { kind: 'misaligned', error: error.message };
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
  const blob = blobIdentityFromName(ref.name) ?? `${ref.container}/${ref.name}`;
  const quarantined: Promise<void>[] = [];
  const summarizer = new BlobSummarizer({
    blob,
    windowSeconds: config.windowSeconds,
    start: input.scanStart,
    byteOffset: chunk.start,
    firstOrdinal: 0,
    onBadRecord: (rec, error) => {
      const body = JSON.stringify({
        error: error.message,
        location: error.location,
        account: ref.account,
        container: ref.container,
        raw: new TextDecoder().decode(rec.bytes),
      });
      quarantined.push(
        staging.put(quarantineName(key, generation, rec.byteOffset), new TextEncoder().encode(body)),
      );
    },
  });
  const summaries: FlowSummary[] = [];
  const problems: FlowLogError[] = [];
  summarizer.push(bytes, summaries, problems);
  summarizer.end(false, problems);
  await Promise.all(quarantined);
  const documentError = problems.find((p) => p instanceof DocumentFormatError);
  if (documentError) return { kind: 'misaligned', error: documentError.message };
  for (const p of problems) context.warn(p.message);

  const encoder = new NdjsonEncoder();
  for (const s of summaries) encoder.append(s);
  const staged = stagedName(key, generation, chunk, 'parsed');
  await staging.put(staged, encoder.take());
  const st = summarizer.stats;
  record(
    counters,
    context,
    {
      'bytes.read': bytes.length,
      'blocks.read': chunk.blocks,
      'records.parsed': st.records,
      'records.quarantined': st.recordsFailed,
      'tuples.parsed': st.tuples,
      'tuples.failed': st.tuplesFailed,
      'summaries.built': st.summaries,
    },
    { blob: key },
  );
  return {
    kind: 'parsed',
    staged,
    records: st.records,
    tuples: st.tuples,
    summaries: st.summaries,
    consumedEnd: summarizer.consumedEnd,
    recordOffsets: summarizer.recordOffsets,
    problems: problems.length,
    problemSamples: problems.slice(0, 3).map((p) => p.message.slice(0, 300)),
  };
}

df.app.activity(names.parseChunk, { handler: parseChunk });
