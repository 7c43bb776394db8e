/**
 * `npm run bench:rows`: what the streaming path puts on the wire per NIC-hour, measured the way the app
 * makes it. Each simulated blob is read block by block (one record per block, as Azure commits them and
 * as parseChunk reads them: BlobSummarizer.pushNdjson from the record's byte offset, enriched with the
 * installed data), and each block's stream is split and packed into events exactly as the emitter does
 * (splitStream: group lines, then rows; packRows with FLOWLOG_EVENT_MAX_BYTES' default; gzip measured
 * per event). Contract v1 sent one event per summary; its row size (and v2's) is given by the reference
 * runs recorded in docs/benchmarks.md.
 */
import { gzipSync } from 'node:zlib';
import { loadEnricher } from '../adapters/enrichment';
import { DEFAULT_PACKING, packRows, splitStream } from '../adapters/event-hubs';
import { blobIdentityFromName } from '../domain/blob-identity';
import type { FlowLogError } from '../domain/errors';
import { HEADER_BLOCK_SIZE } from '../domain/framing/blocks';
import { type SimulationOptions, simulateBlobs } from '../domain/simulate/simulate';
import { BlobSummarizer, warmUpFastPath } from '../domain/summarize';
import { NdjsonEncoder, type SummaryEnricherLike } from '../domain/summary/serialize';
import { runSection } from './markdown';

interface WireFigures {
  readonly blobs: number;
  readonly blocks: number;
  readonly tuples: number;
  readonly rows: number;
  readonly rowBytes: number;
  /** Group lines sent (one per flow group per block) and their bytes. */
  readonly groupLines: number;
  readonly groupBytes: number;
  readonly events: number;
  readonly gzipBytes: number;
  readonly largestBlockRows: number;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Bytes each field takes in a row (`"name":value` and its comma), summed over rows. */
type FieldBytes = Map<string, number>;

function addFieldBytes(rows: Uint8Array, into: FieldBytes): void {
  for (const line of new TextDecoder().decode(rows).split('\n')) {
    if (line === '') continue;
    for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, unknown>))
      into.set(k, (into.get(k) ?? 0) + JSON.stringify(k).length + JSON.stringify(v).length + 1);
  }
}

async function measure(
  options: SimulationOptions,
  enricher: SummaryEnricherLike | null,
  fieldBytes?: FieldBytes,
): Promise<WireFigures> {
  const encoder = new NdjsonEncoder();
  warmUpFastPath(encoder);
  const problems: FlowLogError[] = [];
  const f = {
    blobs: 0,
    blocks: 0,
    tuples: 0,
    rows: 0,
    rowBytes: 0,
    groupLines: 0,
    groupBytes: 0,
    events: 0,
    gzipBytes: 0,
    largestBlockRows: 0,
  };
  const text = new TextEncoder();
  for (const blob of simulateBlobs(options)) {
    f.blobs++;
    const identity = blobIdentityFromName(blob.name) ?? blob.name;
    let offset = HEADER_BLOCK_SIZE;
    for (const [i, record] of blob.records.entries()) {
      const block = text.encode(i === 0 ? record : `,${record}`);
      const summarizer = new BlobSummarizer({
        blob: identity,
        windowSeconds: 60,
        start: 'array-body',
        byteOffset: offset,
      });
      summarizer.pushNdjson(block, encoder, problems, enricher);
      summarizer.end(false, problems);
      offset += block.length;
      const stream = encoder.take();
      const split = splitStream(stream, blob.name);
      if (fieldBytes !== undefined) addFieldBytes(split.rows, fieldBytes);
      f.blocks++;
      f.tuples += summarizer.stats.tuples;
      f.rows += summarizer.stats.summaries;
      f.rowBytes += split.rows.length;
      f.groupLines += split.groupCount;
      f.groupBytes += split.groups.length;
      f.largestBlockRows = Math.max(f.largestBlockRows, summarizer.stats.summaries);
      for (const part of [split.groups, split.rows])
        for (const body of packRows(part, DEFAULT_PACKING.maxEventBytes)) {
          f.events++;
          f.gzipBytes += gzipSync(body).length;
        }
    }
  }
  if (problems.length > 0) throw new Error(`bench data has problems: ${problems[0]?.message}`);
  return f;
}

async function build(quick: boolean): Promise<string> {
  const loaded = await loadEnricher({ enabled: true });
  const sets: { name: string; command: string; options: SimulationOptions }[] = [
    {
      name: 'key-dense (heavy hitters)',
      command: 'flowlog simulate --nsgs 6 --vnets 6 --hours 1 --flows-per-minute 600 --seed 1',
      options: {
        nsgs: quick ? 2 : 6,
        vnets: quick ? 2 : 6,
        hours: 1,
        flowsPerMinute: 600,
        seed: 1,
        start: new Date('2026-11-30T00:00:00Z'),
      },
    },
    {
      name: 'internet-facing (long tail of public addresses)',
      command:
        'flowlog simulate --nsgs 6 --vnets 6 --hours 1 --flows-per-minute 600 --long-tail 200000 --seed 2',
      options: {
        nsgs: quick ? 2 : 6,
        vnets: quick ? 2 : 6,
        hours: 1,
        flowsPerMinute: 600,
        seed: 2,
        start: new Date('2026-11-30T00:00:00Z'),
        longTail: 200_000,
      },
    },
  ];
  const lines = [
    '## Rows and events on the wire (streaming path)',
    '',
    `Written by \`npm run bench:rows\` (bench/rows.ts) on ${new Date().toISOString()}. Each simulated blob is read block by block as the app reads it (one record per block; \`BlobSummarizer.pushNdjson\` from the record's byte offset, all enrichment on with the installed data), and each block's summary stream is sent as \`emitChunk\` sends it: split into its flow groups' lines (\`FlowGroups\` events) and its rows (\`FlowSummaries\` events), packed by \`packRows\` into ${fmt(DEFAULT_PACKING.maxEventBytes)}-byte bodies; gzip per event as \`FLOWLOG_EVENT_GZIP=true\` sends them. Contract v1 sent one event per summary. "On the wire" counts everything sent, rows and group lines (every block sends the lines of the groups its rows name).`,
    '',
    '| set | NIC-hours | tuples | summaries | bytes / row (v3) | group lines / NIC-hour | group bytes / summary | bytes / summary on the wire (rows + groups) | events / NIC-hour (v3) | events / NIC-hour (v1: one per summary) | fewer events | gzip bytes / summary on the wire | largest block (rows) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const breakdown: FieldBytes = new Map();
  let breakdownRows = 0;
  for (const set of sets) {
    for (const enrich of [true, false]) {
      const first = set === sets[0] && enrich;
      const f = await measure(set.options, enrich ? loaded.enricher : null, first ? breakdown : undefined);
      if (first) breakdownRows = f.rows;
      lines.push(
        `| ${set.name}${enrich ? ', enriched' : ', not enriched'} | ${f.blobs} | ${fmt(f.tuples)} | ${fmt(f.rows)} | **${fmt(f.rowBytes / f.rows)}** | ${fmt(f.groupLines / f.blobs)} | ${fmt(f.groupBytes / f.rows, 1)} | ${fmt((f.rowBytes + f.groupBytes) / f.rows)} | ${fmt(f.events / f.blobs, 1)} | ${fmt(f.rows / f.blobs)} | ${fmt(f.rows / f.events)}× | ${fmt(f.gzipBytes / f.rows)} | ${fmt(f.largestBlockRows)} |`,
      );
    }
  }
  const perRow = [...breakdown].map(([k, v]) => [k, v / breakdownRows] as const).sort((a, b) => b[1] - a[1]);
  const total = perRow.reduce((n, [, v]) => n + v, 0);
  lines.push(
    '',
    `Where the bytes of a row go (key-dense set, enriched; \`"name":value\` and its comma, average over ${fmt(breakdownRows)} rows; 3 bytes of braces and line end besides):`,
    '',
    '| field | bytes / row | share |',
    '|---|---|---|',
    ...perRow.map(([k, v]) => `| \`${k}\` | ${fmt(v, 1)} | ${fmt((100 * v) / total, 1)} % |`),
  );
  lines.push(
    '',
    `Inputs: ${sets.map((s) => `\`${s.command}\``).join('; ')}${quick ? ' (--quick: 2 + 2 NICs)' : ''}.`,
    '',
    "Reference, earlier contracts on the same sets (all enrichment on): v1 (commit d9cadad, `flowlog process` over the same 12 files, 2026-12-04) **1,389** bytes per row key-dense, **1,400** internet-facing, one event per summary; v2 (this bench at commit 45f7d82, 2026-12-05) **935** and **955** bytes per row, 60 and 147 events per NIC-hour, gzip 58 and 85 bytes per row. v2 rows carried what is the same for all rows of a blob's flow group (`resourceId` 150 B, `aclId` 75 B, `rule` 38 B, `macAddress`, `logType`, `blob`, `windowSeconds`, `schemaVersion`: 365 B of a key-dense row); v3 sends those once per group and block as a `FlowGroups` line and names the group in each row (`group`, 27 B); `Flows()` joins them back, so every query keeps its columns.",
  );
  return lines.join('\n');
}

runSection('## Rows and events on the wire', build);
