import { aggregateRecord } from './aggregate';
import { DocumentFormatError, type FlowLogError, RecordFormatError } from './errors';
import { readFlowRecord } from './formats/record';
import { type AggregatedRecord, RecordBytesReader } from './formats/record-bytes';
import {
  type ReadWhole,
  RecordScanner,
  type ScannedRecord,
  type ScanStart,
  STOP_BEFORE,
} from './framing/record-scanner';
import type { FlowSummary } from './summary/schema';
import {
  FAST_RECORD_PATH,
  type NdjsonEncoder,
  type RecordPlace,
  type SummaryEnricherLike,
} from './summary/serialize';

/** Counters of one summarizing pass; everything that moves is counted. */
export interface SummarizeStats {
  bytes: number;
  records: number;
  recordsFailed: number;
  tuples: number;
  tuplesFailed: number;
  summaries: number;
}

export const emptyStats = (): SummarizeStats => ({
  bytes: 0,
  records: 0,
  recordsFailed: 0,
  tuples: 0,
  tuplesFailed: 0,
  summaries: 0,
});

export function addStats(into: SummarizeStats, from: SummarizeStats): void {
  into.bytes += from.bytes;
  into.records += from.records;
  into.recordsFailed += from.recordsFailed;
  into.tuples += from.tuples;
  into.tuplesFailed += from.tuplesFailed;
  into.summaries += from.summaries;
}

export interface SummarizeOptions {
  /** Blob identity used in ids and messages. */
  readonly blob: string;
  readonly windowSeconds: number;
  /** Called with the raw bytes of a record that could not be read, so it can be quarantined for rerun. */
  readonly onBadRecord?: (record: ScannedRecord, error: FlowLogError) => void;
}

const decoder = new TextDecoder('utf-8');

/**
 * Parses and aggregates one scanned record. Never throws for bad input: an unreadable record becomes one
 * RecordFormatError, a bad tuple one TupleFormatError, and everything else is still summarized.
 */
export function summarizeRecord(
  record: ScannedRecord,
  options: SummarizeOptions,
  out: FlowSummary[],
  problems: FlowLogError[],
  stats: SummarizeStats,
): void {
  const at = { source: options.blob, byteOffset: record.byteOffset, recordOrdinal: record.ordinal };
  stats.records++;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(record.bytes));
  } catch (cause) {
    stats.recordsFailed++;
    const error = new RecordFormatError(
      'invalid-json',
      at,
      `record is not valid JSON (${(cause as Error).message}); it was skipped`,
      { cause },
    );
    problems.push(error);
    options.onBadRecord?.(record, error);
    return;
  }
  let flowRecord: ReturnType<typeof readFlowRecord>;
  try {
    flowRecord = readFlowRecord(value, at);
  } catch (error) {
    stats.recordsFailed++;
    problems.push(error as FlowLogError);
    options.onBadRecord?.(record, error as FlowLogError);
    return;
  }
  const before = out.length;
  const problemsBefore = problems.length;
  stats.tuples += aggregateRecord(
    flowRecord,
    {
      blob: options.blob,
      recordOrdinal: record.ordinal,
      byteOffset: record.byteOffset,
      windowSeconds: options.windowSeconds,
    },
    out,
    problems,
  );
  stats.tuplesFailed += problems.length - problemsBefore;
  stats.summaries += out.length - before;
}

/**
 * Incremental summarizer of one blob or file: feed it bytes in order, get summaries of every record that
 * completed. Memory is bounded by the largest record, not the blob.
 */
export class BlobSummarizer {
  readonly stats: SummarizeStats = emptyStats();
  /** Start offset of every record found, in order (a cursor can be reset to any of them). */
  readonly recordOffsets: number[] = [];
  private readonly scanner: RecordScanner;
  private readonly reader = new RecordBytesReader();
  private readonly options: SummarizeOptions;
  private documentError: FlowLogError | undefined;

  constructor(options: SummarizeOptions & { start?: ScanStart; byteOffset?: number; firstOrdinal?: number }) {
    this.options = options;
    this.scanner = new RecordScanner({
      source: options.blob,
      start: options.start ?? 'document',
      byteOffset: options.byteOffset ?? 0,
      firstOrdinal: options.firstOrdinal ?? 0,
    });
  }

  /** Offset just past the last complete record. */
  get consumedEnd(): number {
    return this.scanner.consumedEnd;
  }

  get nextOrdinal(): number {
    return this.scanner.nextOrdinal;
  }

  /**
   * Summaries and problems of the records completed by this chunk. Records are summarized as they are
   * found, so a structure problem later in the chunk does not hide the records before it.
   */
  push(chunk: Uint8Array, out: FlowSummary[], problems: FlowLogError[]): void {
    this.scan(chunk, problems, (record) => {
      this.recordOffsets.push(record.byteOffset);
      summarizeRecord(record, this.options, out, problems, this.stats);
    });
  }

  /**
   * Like push, but the summaries go straight into `encoder` as NDJSON (enriched first when an enricher
   * is given): the batch path of `flowlog process`. Same rows, ids, bytes, problems and stats as push
   * followed by enrich + encoder.append, only faster: records in the usual shape are read once, from
   * their bytes in the chunk (RecordBytesReader), without building summary objects; the others are
   * scanned and take the general path.
   */
  pushNdjson(
    chunk: Uint8Array,
    encoder: NdjsonEncoder,
    problems: FlowLogError[],
    enricher?: SummaryEnricherLike | null,
  ): void {
    const write = (record: { ordinal: number; byteOffset: number }) => {
      this.countFast(record.byteOffset);
      this.stats.summaries += encoder.appendRecord(this.reader, this.placeOf(record.ordinal), enricher);
    };
    this.scan(
      chunk,
      problems,
      (record) => {
        if (FAST_RECORD_PATH && this.reader.read(record.bytes, this.options.windowSeconds))
          return write(record);
        this.recordOffsets.push(record.byteOffset);
        const out: FlowSummary[] = [];
        summarizeRecord(record, this.options, out, problems, this.stats);
        for (const s of out) {
          enricher?.enrich(s);
          encoder.append(s);
        }
      },
      (bytes, start, ordinal, byteOffset) => {
        const end = this.reader.readAt(bytes, start, this.options.windowSeconds);
        if (end > 0) write({ ordinal, byteOffset });
        return end;
      },
    );
  }

  /**
   * Like pushNdjson, but the records are only read and summed: their summaries are appended to `later`
   * (copies, independent of `chunk`) and written by writeDeferred, e.g. once enrichment data has
   * loaded. Stats and problems are counted now.
   */
  pushDeferred(chunk: Uint8Array, later: DeferredRecord[], problems: FlowLogError[]): void {
    const keep = (record: { ordinal: number; byteOffset: number }) => {
      this.countFast(record.byteOffset);
      this.stats.summaries += this.reader.accCount;
      later.push({ record: this.reader.snapshot(), place: this.placeOf(record.ordinal) });
    };
    this.scan(
      chunk,
      problems,
      (record) => {
        if (FAST_RECORD_PATH && this.reader.read(record.bytes, this.options.windowSeconds))
          return keep(record);
        this.recordOffsets.push(record.byteOffset);
        const out: FlowSummary[] = [];
        summarizeRecord(record, this.options, out, problems, this.stats);
        if (out.length > 0) later.push({ summaries: out });
      },
      (bytes, start, ordinal, byteOffset) => {
        const end = this.reader.readAt(bytes, start, this.options.windowSeconds);
        if (end > 0) keep({ ordinal, byteOffset });
        return end;
      },
    );
  }

  /**
   * pushNdjson for an enricher that must learn the addresses of a row before it can enrich it (its data
   * lives elsewhere, see KnowingEnricher). Records are written while the enricher knows their addresses.
   * At the first record in the usual shape that names an address it does not know, reading stops before
   * that record: its (srcIp, dstIp) pairs are added to `unknown` (flattened) and the bytes consumed so far
   * are returned. The caller has the enricher learn them, writes `later` (writeDeferred), and pushes
   * `chunk.subarray(consumed)`. Records the scanner had to assemble (cut by a chunk end, or not in the
   * usual shape) cannot be stopped before; when they name unknown addresses they wait in `later`, and
   * while `later` is not empty reading stops at the next record, so rows keep the order of records.
   * Returns the number of bytes of `chunk` consumed (its length when nothing had to wait).
   */
  pushNdjsonKnown(
    chunk: Uint8Array,
    encoder: NdjsonEncoder,
    problems: FlowLogError[],
    enricher: KnowingEnricher,
    later: DeferredRecord[],
    unknown: string[],
  ): number {
    const known = (srcIp: string, dstIp: string) => enricher.known(srcIp, dstIp);
    return this.scan(
      chunk,
      problems,
      (record) => {
        const place = this.placeOf(record.ordinal);
        if (FAST_RECORD_PATH && this.reader.read(record.bytes, this.options.windowSeconds)) {
          this.countFast(record.byteOffset);
          const written = later.length === 0 ? encoder.appendRecord(this.reader, place, enricher) : -1;
          if (written >= 0) this.stats.summaries += written;
          else {
            this.stats.summaries += this.reader.accCount;
            later.push({ record: this.reader.snapshot(), place });
          }
          return;
        }
        this.recordOffsets.push(record.byteOffset);
        const out: FlowSummary[] = [];
        summarizeRecord(record, this.options, out, problems, this.stats);
        if (later.length === 0 && out.every((s) => known(s.srcIp, s.dstIp))) {
          for (const s of out) {
            enricher.enrich(s);
            encoder.append(s);
          }
        } else if (out.length > 0) later.push({ summaries: out });
      },
      (bytes, start, ordinal, byteOffset) => {
        if (later.length > 0) return STOP_BEFORE;
        const end = this.reader.readAt(bytes, start, this.options.windowSeconds);
        if (end <= 0) return end;
        const written = encoder.appendRecord(this.reader, this.placeOf(ordinal), enricher);
        if (written < 0) {
          // Read again once the enricher knows these (the stats count it then).
          encoder.pairsOf(this.reader, (srcIp, dstIp) => {
            if (!known(srcIp, dstIp)) unknown.push(srcIp, dstIp);
          });
          return STOP_BEFORE;
        }
        this.countFast(byteOffset);
        this.stats.summaries += written;
        return end;
      },
    );
  }

  /** Counts a record the fast reader has just read. */
  private countFast(byteOffset: number): void {
    this.recordOffsets.push(byteOffset);
    this.stats.records++;
    this.stats.tuples += this.reader.tuples;
  }

  private placeOf(ordinal: number): RecordPlace {
    return { blob: this.options.blob, recordOrdinal: ordinal, windowSeconds: this.options.windowSeconds };
  }

  /** Scans a chunk, handing records to `visit` as they are found (see RecordScanner.pushEach). */
  private scan(
    chunk: Uint8Array,
    problems: FlowLogError[],
    visit: (record: ScannedRecord) => void,
    readWhole?: ReadWhole,
  ): number {
    if (this.documentError) return chunk.length;
    // A plain Uint8Array view of a Buffer (or other subclass): the reader's byte loads then see one
    // kind of array, instead of deoptimizing when Buffers and Uint8Arrays alternate.
    const bytes =
      Object.getPrototypeOf(chunk) === Uint8Array.prototype
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let consumed = chunk.length;
    try {
      consumed = this.scanner.pushEach(bytes, visit, FAST_RECORD_PATH ? readWhole : undefined);
    } catch (error) {
      if (!(error instanceof DocumentFormatError)) throw error;
      this.documentError = error;
      problems.push(error);
    }
    this.stats.bytes += consumed;
    return consumed;
  }

  /** End of input; `expectComplete` for whole files (a truncated file is reported). */
  end(expectComplete: boolean, problems: FlowLogError[]): void {
    if (this.documentError) return;
    try {
      this.scanner.end(expectComplete);
    } catch (error) {
      if (!(error instanceof DocumentFormatError)) throw error;
      problems.push(error);
    }
  }
}

/** A record read by BlobSummarizer.pushDeferred, waiting to be written. */
export type DeferredRecord =
  | { readonly record: AggregatedRecord; readonly place: RecordPlace }
  | { readonly summaries: readonly FlowSummary[] };

/** Writes deferred records in order (enriched when an enricher is given); returns the summaries written. */
export function writeDeferred(
  later: readonly DeferredRecord[],
  encoder: NdjsonEncoder,
  enricher?: SummaryEnricherLike | null,
): number {
  let n = 0;
  for (const item of later) {
    if ('record' in item) n += encoder.appendRecord(item.record, item.place, enricher);
    else {
      for (const s of item.summaries) {
        enricher?.enrich(s);
        encoder.append(s);
      }
      n += item.summaries.length;
    }
  }
  return n;
}

/** Bytes a deferred record keeps alive (its record's bytes, or roughly its summaries). */
export function deferredBytes(item: DeferredRecord): number {
  if (!('record' in item)) return item.summaries.length * 1500;
  return item.record.bytes.length + item.record.accCount * 64;
}

/** An enricher that can say whether it can enrich a row from srcIp to dstIp right now. */
export interface KnowingEnricher extends SummaryEnricherLike {
  known(srcIp: string, dstIp: string): boolean;
}

/** The (srcIp, dstIp) of every row of the deferred records (with repeats). */
export function deferredPairs(
  later: readonly DeferredRecord[],
  encoder: NdjsonEncoder,
  visit: (srcIp: string, dstIp: string) => void,
): void {
  for (const item of later) {
    if ('record' in item) encoder.pairsOf(item.record, visit);
    else for (const s of item.summaries) visit(s.srcIp, s.dstIp);
  }
}

/**
 * Runs the batch fast path once over a small document of every layout and tuple spelling it reads, so
 * that V8 has type feedback for every branch before it optimizes the hot functions. Without it, the
 * first VNet record after NSG ones (or a v1 record, a D state, …) deoptimizes the optimized reader and
 * it runs unoptimized until recompiled: tens of milliseconds each time. Pure and quick (< 5 ms).
 */
export function warmUpFastPath(encoder: NdjsonEncoder): void {
  const nsg = (version: number, tuples: readonly string[]) =>
    `{"time":"2026-11-30T00:01:00.0000000Z","systemId":"s","macAddress":"000D3A000001","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S/NSG/N","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":${version},"flows":[{"rule":"r1","flows":[{"mac":"000D3A000001","flowTuples":${JSON.stringify(tuples)}}]},{"rule":"r2","flows":[{"mac":"00-0d-3a-00-00-02","flowTuples":${JSON.stringify(tuples)}}]}]}}`;
  const vnet = (tuples: readonly string[]) =>
    `{"time":"2026-11-30T00:01:00.0000000Z","flowLogVersion":4,"flowLogGUID":"g","macAddress":"00-0d-3a-00-00-03","category":"FlowLogFlowEvent","flowLogResourceID":"/F","targetResourceID":"/subscriptions/s/vnet/v","operationName":"FlowLogFlowEvent","flowRecords":{"flows":[{"aclID":"00000000-0000-0000-0000-000000000000","flowGroups":[{"rule":"r","flowTuples":${JSON.stringify(tuples)}}]}]}}`;
  const v1: string[] = [];
  const v2: string[] = [];
  const v4: string[] = [];
  for (let i = 0; i < 24; i++) {
    const t = 1795996800 + i * 7;
    const src = i % 3 === 0 ? '2603:1030:20e:3::23c' : `10.1.${i % 4}.${4 + (i % 5)}`;
    const dst = i % 5 === 0 ? '8.8.8.8' : `20.60.128.${i % 6}`;
    const proto = i % 2 === 0 ? 'T' : 'U';
    const dir = i % 3 === 1 ? 'I' : 'O';
    const dec = i % 4 === 3 ? 'D' : 'A';
    const state = 'BCE'[i % 3];
    const counters = state === 'B' ? ',,,' : `${i},${i * 100},${i + 1},${i * 90 + 7}`;
    v1.push(
      `${i % 2 === 0 ? t : t * 1000 + 5},${src},${dst},${40000 + i},${(i * 131) % 65536},${proto},${dir},${dec}`,
    );
    v2.push(
      `${t},${src},${dst},${40000 + i},${[53, 443, 0, 8080][i % 4]},${proto},${dir},${dec},${state},${counters}`,
    );
    v4.push(
      `${t * 1000 + i},${src},${dst},${40000 + i},${[53, 443, 0, 3389][i % 4]},${[6, 17, 1, 47][i % 4]},${dir},${'BCED'[i % 4]},${['NX', 'X', ''][i % 3]},${i},${i * 10},${i},${i * 20}`,
    );
  }
  const doc = new TextEncoder().encode(
    `{"records":[${[nsg(1, v1), nsg(2, v2), vnet(v4), nsg(2, v2.slice(0, 5)), vnet(v4.slice(0, 7))].join(',')}]}`,
  );
  const problems: FlowLogError[] = [];
  for (let round = 0; round < 3; round++) {
    const s = new BlobSummarizer({ blob: 'warm-up', windowSeconds: round === 2 ? 300 : 60 });
    // Round 1 arrives in pieces cut inside strings and records, as file chunks do.
    const cuts = round === 1 ? [0, 333, 2000, 2001, doc.length] : [0, doc.length];
    for (let k = 0; k + 1 < cuts.length; k++)
      s.pushNdjson(doc.subarray(cuts[k], cuts[k + 1]), encoder, problems);
    s.end(true, problems);
  }
  encoder.take();
}
