import { aggregateRecord } from './aggregate';
import { blobIdOf } from './blob-identity';
import { DocumentFormatError, type FlowLogError, RecordFormatError } from './errors';
import { readFlowRecord } from './formats/record';
import { RecordBytesReader } from './formats/record-bytes';
import { type ReadWhole, RecordScanner, type ScannedRecord, type ScanStart } from './framing/record-scanner';
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
  /** The rows' `blob` field; blobIdOf(blob) when not given. */
  readonly blobId?: string;
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
      blobId: options.blobId ?? blobIdOf(options.blob),
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
    this.options = { ...options, blobId: options.blobId ?? blobIdOf(options.blob) };
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
    const write = (record: { byteOffset: number }) => {
      this.countFast(record.byteOffset);
      this.stats.summaries += encoder.appendRecord(this.reader, this.placeOf(record.byteOffset), enricher);
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
      (bytes, start, _ordinal, byteOffset) => {
        const end = this.reader.readAt(bytes, start, this.options.windowSeconds);
        if (end > 0) write({ byteOffset });
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

  private placeOf(byteOffset: number): RecordPlace {
    return {
      blob: this.options.blob,
      blobId: this.options.blobId ?? blobIdOf(this.options.blob),
      recordOffset: byteOffset,
      windowSeconds: this.options.windowSeconds,
    };
  }

  /** Scans a chunk, handing records to `visit` as they are found (see RecordScanner.pushEach). */
  private scan(
    chunk: Uint8Array,
    problems: FlowLogError[],
    visit: (record: ScannedRecord) => void,
    readWhole?: ReadWhole,
  ): void {
    if (this.documentError) return;
    this.stats.bytes += chunk.length;
    // A plain Uint8Array view of a Buffer (or other subclass): the reader's byte loads then see one
    // kind of array, instead of deoptimizing when Buffers and Uint8Arrays alternate.
    const bytes =
      Object.getPrototypeOf(chunk) === Uint8Array.prototype
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      this.scanner.pushEach(bytes, visit, FAST_RECORD_PATH ? readWhole : undefined);
    } catch (error) {
      if (!(error instanceof DocumentFormatError)) throw error;
      this.documentError = error;
      problems.push(error);
    }
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
