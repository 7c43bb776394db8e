import { DocumentFormatError } from '../errors';

/**
 * Finds the records of a flow-log document, `{"records":[ {...}, {...} ]}`, in bytes that arrive in
 * pieces: a file read in chunks, or a byte range of committed blocks. It tracks JSON strings and nesting,
 * so a record is found by its balanced braces whatever its content; what is inside a record is checked
 * later, by JSON.parse and readFlowRecord, so one bad record never hides the next.
 *
 * Two starting points:
 * - `document`: at byte 0 of the blob, before `{"records":[`;
 * - `array-body`: between two elements of `records` (right after a record, before its comma), which is
 *   where every cursor but the first one points.
 */
export type ScanStart = 'document' | 'array-body';

/** See RecordScanner.pushEach: reads a whole record from `chunk` at `start`; its end index, or −1. */
export type ReadWhole = (chunk: Uint8Array, start: number, ordinal: number, byteOffset: number) => number;

export interface ScannedRecord {
  /** The record's bytes, from `{` to its matching `}`. */
  readonly bytes: Uint8Array;
  /** Absolute offset of the `{` in the blob/file. */
  readonly byteOffset: number;
  /** Zero-based position of the record in `records`. */
  readonly ordinal: number;
}

enum State {
  BeforeDocument,
  InOuterObject,
  InOuterKey,
  AfterOuterKey,
  SkippingOuterValue,
  InRecordsArray,
  InRecord,
  SkippingScalar,
  AfterArray,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class RecordScanner {
  private state: State;
  /** Absolute offset of the next byte to be pushed. */
  private offset: number;
  private ordinal: number;
  /** Nesting depth inside the current record / skipped value. */
  private depth = 0;
  private inString = false;
  /** The previous byte inside a string was a backslash that escapes this one. */
  private escaped = false;
  /** Parts of the record being read (a record can span chunks). */
  private parts: Uint8Array[] = [];
  private partStart = -1;
  private recordStart = -1;
  private keyBytes: number[] = [];
  /** End offset of the last complete record (where a cursor may point). */
  private lastRecordEnd: number;
  private readonly source: string;

  constructor(options: { source: string; start: ScanStart; byteOffset: number; firstOrdinal: number }) {
    this.source = options.source;
    this.state = options.start === 'document' ? State.BeforeDocument : State.InRecordsArray;
    this.offset = options.byteOffset;
    this.ordinal = options.firstOrdinal;
    this.lastRecordEnd = options.byteOffset;
  }

  /** Offset just past the last complete record, or the start offset if none completed. */
  get consumedEnd(): number {
    return this.lastRecordEnd;
  }

  /** Ordinal the next record will get. */
  get nextOrdinal(): number {
    return this.ordinal;
  }

  /** The `]` closing `records` has been seen: nothing more will come. */
  get finished(): boolean {
    return this.state === State.AfterArray;
  }

  /** True when the bytes pushed so far end in the middle of a record. */
  get insideRecord(): boolean {
    return this.state === State.InRecord;
  }

  /**
   * Scans one chunk and returns the records completed in it. Problems in the document structure (outside
   * records) throw a DocumentFormatError naming the byte offset.
   */
  push(chunk: Uint8Array): ScannedRecord[] {
    const out: ScannedRecord[] = [];
    this.pushEach(chunk, (r) => out.push(r));
    return out;
  }

  /**
   * Scans one chunk and hands each record completed in it to `visit`, in order, as soon as it is found
   * (so the records before a structure problem are handed out before the DocumentFormatError is thrown).
   *
   * `readWhole`, when given, is offered each record that starts in this chunk, before it is scanned:
   * (chunk, index of its `{`, ordinal, absolute offset). If it reads the whole record itself it returns
   * the index just past the record's `}`, and the record counts as found (not handed to `visit`);
   * otherwise −1, and the record is scanned and visited as usual. The batch fast path uses it to read
   * records once instead of scanning them first.
   */
  pushEach(chunk: Uint8Array, visit: (record: ScannedRecord) => void, readWhole?: ReadWhole): void {
    const out = visit;
    const base = this.offset;
    const n = chunk.length;
    let i = 0;
    if (this.state === State.InRecord) this.partStart = 0;
    while (i < n) {
      switch (this.state) {
        case State.InRecord: {
          i = this.scanValue(chunk, i, n);
          if (this.depth === 0 && !this.inString) {
            this.finishRecord(chunk, i, base, out);
          }
          break;
        }
        case State.InRecordsArray: {
          const c = chunk[i]!;
          if (c === OPEN_BRACE) {
            if (readWhole !== undefined) {
              const end = readWhole(chunk, i, this.ordinal, base + i);
              if (end > i) {
                this.ordinal++;
                this.lastRecordEnd = base + end;
                i = end;
                break;
              }
            }
            this.state = State.InRecord;
            this.recordStart = base + i;
            this.partStart = i;
            this.parts = [];
            this.depth = 0;
            this.inString = false;
          } else if (c === CLOSE_BRACKET) {
            this.state = State.AfterArray;
            i++;
          } else if (c === COMMA || isSpace(c)) i++;
          else {
            throw this.error(
              base + i,
              `expected a record object in "records", found ${printable(c)}; the bytes are not a flow-log document`,
            );
          }
          break;
        }
        case State.BeforeDocument: {
          const c = chunk[i]!;
          if (c === OPEN_BRACE) this.state = State.InOuterObject;
          else if (!(isSpace(c) || c === 0xef || c === 0xbb || c === 0xbf))
            throw this.error(
              base + i,
              `expected "{" at the start of a flow-log document, found ${printable(c)}`,
            );
          i++;
          break;
        }
        case State.InOuterObject: {
          const c = chunk[i]!;
          if (c === QUOTE) {
            this.state = State.InOuterKey;
            this.keyBytes = [];
          } else if (c === CLOSE_BRACE) {
            throw this.error(base + i, 'the document has no "records" array');
          } else if (!(isSpace(c) || c === COMMA)) {
            throw this.error(base + i, `expected a key in the outer object, found ${printable(c)}`);
          }
          i++;
          break;
        }
        case State.InOuterKey: {
          const c = chunk[i]!;
          if (c === QUOTE) this.state = State.AfterOuterKey;
          else this.keyBytes.push(c);
          i++;
          break;
        }
        case State.AfterOuterKey: {
          const c = chunk[i]!;
          i++;
          if (isSpace(c) || c === COLON) break;
          const key = String.fromCharCode(...this.keyBytes);
          if (key === 'records' && c === OPEN_BRACKET) this.state = State.InRecordsArray;
          else if (key === 'records')
            throw this.error(base + i - 1, `"records" must be an array, found ${printable(c)}`);
          else {
            // Another top-level key: skip its value.
            this.depth = c === OPEN_BRACE || c === OPEN_BRACKET ? 1 : 0;
            this.inString = c === QUOTE;
            this.escaped = false;
            this.state = this.depth === 0 && !this.inString ? State.SkippingScalar : State.SkippingOuterValue;
          }
          break;
        }
        case State.SkippingOuterValue: {
          i = this.scanValue(chunk, i, n);
          if (this.depth === 0 && !this.inString) this.state = State.InOuterObject;
          break;
        }
        case State.SkippingScalar: {
          const c = chunk[i]!;
          if (c === COMMA || c === CLOSE_BRACE) this.state = State.InOuterObject;
          else i++;
          break;
        }
        case State.AfterArray: {
          // After `]`: the closing `}` and whitespace; nothing else is read.
          i = n;
          break;
        }
      }
    }
    if (this.state === State.InRecord && this.partStart >= 0) {
      // Keep a copy of the unfinished part (the record continues in the next chunk), so that the caller
      // may reuse the chunk's memory for the next read.
      this.parts.push(chunk.slice(this.partStart));
    }
    this.partStart = -1;
    this.offset = base + n;
  }

  /**
   * Call when no more bytes will come. In a complete document, ending inside a record or before `]` is an
   * error; in a block range (a growing blob) it is normal and the caller re-reads from `consumedEnd`.
   */
  end(expectComplete: boolean): void {
    if (!expectComplete) return;
    if (this.state === State.InRecord)
      throw this.error(this.recordStart, 'the document ends inside this record (truncated file?)');
    if (this.state !== State.AfterArray)
      throw this.error(
        this.offset,
        'the document ends before the "records" array is closed (truncated file?)',
      );
  }

  /** Advances through a JSON value from i, tracking strings and depth; returns the index after the scan. */
  private scanValue(chunk: Uint8Array, start: number, n: number): number {
    let i = start;
    let depth = this.depth;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        // Jump to the next unescaped quote; strings are most of a record's bytes. A quote is escaped when
        // an odd run of backslashes precedes it.
        let q = chunk.indexOf(QUOTE, i);
        while (q >= 0) {
          let k = q - 1;
          while (k >= i && chunk[k] === BACKSLASH) k--;
          if ((q - 1 - k) % 2 === 0) break;
          q = chunk.indexOf(QUOTE, q + 1);
        }
        if (q < 0) {
          // The string goes on in the next chunk; remember whether the last byte escapes its first.
          let k = n - 1;
          while (k >= i && chunk[k] === BACKSLASH) k--;
          this.escaped = (n - 1 - k) % 2 === 1;
          i = n;
          break;
        }
        this.inString = false;
        i = q + 1;
        if (depth === 0) break; // a skipped top-level string value ends here
        continue;
      }
      const c = chunk[i]!;
      i++;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) break;
      }
    }
    this.depth = depth;
    return i;
  }

  private finishRecord(
    chunk: Uint8Array,
    end: number,
    base: number,
    visit: (r: ScannedRecord) => void,
  ): void {
    const tail = chunk.subarray(this.partStart, end);
    let bytes: Uint8Array;
    if (this.parts.length === 0) bytes = tail;
    else {
      let total = tail.length;
      for (const p of this.parts) total += p.length;
      bytes = new Uint8Array(total);
      let at = 0;
      for (const p of this.parts) {
        bytes.set(p, at);
        at += p.length;
      }
      bytes.set(tail, at);
    }
    const record: ScannedRecord = { bytes, byteOffset: this.recordStart, ordinal: this.ordinal };
    this.ordinal++;
    this.parts = [];
    this.partStart = -1;
    this.lastRecordEnd = base + end;
    this.state = State.InRecordsArray;
    visit(record);
  }

  private error(byteOffset: number, what: string): DocumentFormatError {
    return new DocumentFormatError('malformed-document', { source: this.source, byteOffset }, what);
  }
}

function printable(c: number): string {
  return c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
