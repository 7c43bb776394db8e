import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { blobIdentityFromName, blobIdOf } from '../../domain/blob-identity';
import type { FlowLogError } from '../../domain/errors';
import { HEADER_BLOCK_SIZE } from '../../domain/framing/blocks';
import { blobText, simulateBlobs } from '../../domain/simulate/simulate';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { NdjsonEncoder, readSummaryLines } from '../../domain/summary/serialize';

const enc = new TextEncoder();
const blobs = [
  ...simulateBlobs({
    nsgs: 1,
    vnets: 1,
    hours: 1,
    flowsPerMinute: 30,
    seed: 77,
    start: new Date('2026-11-30T03:00:00Z'),
    minutesPerHour: 8,
  }),
];

/** The whole file at once, as `flowlog process` reads it. */
function whole(name: string, text: string): string {
  const encoder = new NdjsonEncoder();
  const problems: FlowLogError[] = [];
  const s = new BlobSummarizer({ blob: blobIdentityFromName(name)!, windowSeconds: 60 });
  s.pushNdjson(enc.encode(text), encoder, problems);
  s.end(true, problems);
  assert.deepEqual(problems, []);
  return new TextDecoder().decode(encoder.take());
}

/**
 * The blob cut into chunks of whole blocks at `cuts` (record indexes), each read on its own from its
 * byte offset the way parseChunk reads it (nothing known of the chunks before it).
 */
function chunked(name: string, records: readonly string[], cuts: readonly number[]): string {
  const blocks = records.map((r, i) => enc.encode(i === 0 ? r : `,${r}`));
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < records.length), records.length];
  let out = '';
  let offset = HEADER_BLOCK_SIZE;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const parts = blocks.slice(bounds[k], bounds[k + 1]);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const encoder = new NdjsonEncoder();
    const problems: FlowLogError[] = [];
    const s = new BlobSummarizer({
      blob: blobIdentityFromName(name)!,
      windowSeconds: 60,
      start: 'array-body',
      byteOffset: offset,
    });
    s.pushNdjson(bytes, encoder, problems);
    s.end(false, problems);
    assert.deepEqual(problems, []);
    out += new TextDecoder().decode(encoder.take());
    offset += bytes.length;
  }
  return out;
}

const rowLines = (ndjson: string) => ndjson.split('\n').filter((l) => l.startsWith('{"id":'));

describe('ids are final where the record is read (contract v2, unchanged in v3)', () => {
  test('any cut of a blob into chunks gives the same rows, byte for byte, as the whole file (group lines per piece)', () => {
    for (const b of blobs) {
      const reference = whole(b.name, blobText(b));
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: b.records.length - 1 }), { maxLength: 5 }),
          (cuts) => {
            // Each chunk's piece carries its own group lines: the rows are the same byte for byte,
            // and the pieces read back to the same summaries.
            const pieces = chunked(
              b.name,
              b.records,
              [...cuts].sort((x, y) => x - y),
            );
            assert.deepEqual(rowLines(pieces), rowLines(reference));
            assert.deepEqual(readSummaryLines(pieces), readSummaryLines(reference));
            if (cuts.length === 0) assert.equal(pieces, reference);
          },
        ),
        { numRuns: 40 },
      );
    }
  });

  test('rows name the record by its byte offset and the blob by its 16-hex id', () => {
    const b = blobs[0]!;
    const rows = readSummaryLines(whole(b.name, blobText(b)));
    const text = blobText(b);
    const offsets = [...new Set(rows.map((r: FlowSummary) => r.recordOffset))];
    // Each offset is where a record's `{"time"` starts in the file.
    for (const o of offsets) assert.equal(text.slice(o, o + 8), '{"time":', `offset ${o}`);
    assert.equal(offsets[0], HEADER_BLOCK_SIZE);
    assert.ok(rows.every((r) => r.blob === blobIdOf(blobIdentityFromName(b.name)!)));
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
  });
});
