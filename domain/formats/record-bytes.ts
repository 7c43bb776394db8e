import { normalizeMac } from '../blob-identity';
import type { TupleLayout } from './record';

/**
 * The fast path of the batch pipeline: reads one flow-log record straight from its UTF-8 bytes and sums
 * its tuples by (flow group, window, key), without JSON.parse and without a JS string or object per tuple.
 *
 * It only accepts records it can read with certainty: the usual shape Azure writes (known keys spelled
 * exactly, envelope keys before the arrays that depend on them, ASCII strings without escapes, tuples in
 * the usual spelling of their layout, no malformed tuple). For anything else `read` returns false and the
 * caller takes the general path (JSON.parse → readFlowRecord → aggregateRecord), which gives the exact
 * same summaries and reports problems; a record is never half-read. So the fast path changes speed, never
 * results, and test/domain/record-bytes.test.ts checks that on real, simulated and mutated records.
 *
 * Results stay in flat typed arrays that are reused for the next record: `groupCount` flow groups (rule,
 * MAC, ACL, in first-seen order, like aggregateRecord's), each with its accumulators in first-seen order
 * (`groupFirst` / `accNext`); an accumulator's addresses are byte ranges of `bytes`.
 */

/** Thrown (one shared value, no stack) to leave the fast path; never escapes this module. */
const GIVE_UP = { giveUp: true } as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const CH_0 = 0x30;
const CH_A = 0x41;
const CH_B = 0x42;
const CH_C = 0x43;
const CH_D = 0x44;
const CH_E = 0x45;
const CH_I = 0x49;
const CH_O = 0x4f;
const CH_T = 0x54;
const CH_U = 0x55;
const CH_X = 0x58;

/** Byte classes inside a tuple string: 0 part of a field, 1 comma, 2 anything the fast path refuses. */
const TUPLE_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  // Control characters are invalid JSON, quote/backslash/non-ASCII need the general path, and `}` is
  // refused so that every scan stops at the record's last byte at the latest.
  if (c < 0x20 || c === QUOTE || c === BACKSLASH || c >= 0x80 || c === CLOSE_BRACE) TUPLE_CLASS[c] = 2;
  else if (c === COMMA) TUPLE_CLASS[c] = 1;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/** Largest window start (seconds) whose ISO form exists; larger goes the general way (which throws). */
const MAX_SECONDS = 8.64e12;
const MAX_DEPTH = 64;
/** Room a tuple needs before the end of an open-ended chunk (the longest usual tuple is ~220 bytes). */
const SAFE_TAIL = 512;

/** accCode bits: destination port (16), protocol number (8), outbound, deny. */
const CODE_OUTBOUND = 1 << 24;
const CODE_DENY = 1 << 25;

/** Keys looked up case-insensitively by readFlowRecord; a record spelling one differently goes the general way. */
const RECORD_KEYS = [
  'time',
  'flowRecords',
  'flowLogVersion',
  'properties',
  'resourceId',
  'targetResourceID',
  'macAddress',
  'records',
] as const;
const K_TIME = 0;
const K_FLOW_RECORDS = 1;
const K_FLOW_LOG_VERSION = 2;
const K_PROPERTIES = 3;
const K_RESOURCE_ID = 4;
const K_TARGET_RESOURCE_ID = 5;
const K_MAC_ADDRESS = 6;
const K_RECORDS = 7;

const LOWER_RECORD_KEYS = RECORD_KEYS.map((k) => k.toLowerCase());

/**
 * Sums per accumulator in `sums`: tuples, flowsStarted, flowsEnded, flowsDenied, packets/bytes src→dst,
 * packets/bytes dst→src, flowsEncrypted (VNet encryption state `X`; 0 for NSG).
 */
export const SUM_STRIDE = 9;

/** One record's sums as RecordBytesReader leaves them: what NdjsonEncoder.appendRecord writes from. */
export interface AggregatedRecord {
  readonly bytes: Uint8Array;
  readonly layout: TupleLayout;
  readonly time: string;
  readonly resourceId: string;
  readonly groupCount: number;
  readonly groupRule: readonly string[];
  readonly groupMac: readonly string[];
  readonly groupAcl: readonly (string | null)[];
  readonly groupFirst: Int32Array;
  readonly accCount: number;
  readonly accNext: Int32Array;
  readonly accWindow: Float64Array;
  readonly accCode: Int32Array;
  readonly accSrc: Int32Array;
  readonly accSrcEnd: Int32Array;
  readonly accDstEnd: Int32Array;
  readonly sums: Float64Array;
  readonly tuples: number;
}

export class RecordBytesReader implements AggregatedRecord {
  /** The bytes of the record last read; accumulator ranges point into them. */
  bytes: Uint8Array = new Uint8Array(0);
  layout: TupleLayout = 'nsg-v2';
  time = '';
  resourceId = '';

  groupCount = 0;
  readonly groupRule: string[] = [];
  /** Upper-case MAC without separators (normalizeMac). */
  readonly groupMac: string[] = [];
  readonly groupAcl: (string | null)[] = [];
  groupFirst = new Int32Array(16);
  private groupLast = new Int32Array(16);
  private readonly groupIndex = new Map<string, number>();

  accCount = 0;
  /** Next accumulator of the same group, -1 at the end. */
  accNext = new Int32Array(1024);
  /** Window start, epoch seconds. */
  accWindow = new Float64Array(1024);
  /** dstPort | protocol << 16 | CODE_OUTBOUND | CODE_DENY. */
  accCode = new Int32Array(1024);
  /** Source address: bytes[accSrc, accSrcEnd); destination: bytes[accSrcEnd + 1, accDstEnd). */
  accSrc = new Int32Array(1024);
  accSrcEnd = new Int32Array(1024);
  accDstEnd = new Int32Array(1024);
  /** tuples, flowsStarted, flowsEnded, flowsDenied, packets/bytes src→dst, packets/bytes dst→src. */
  sums = new Float64Array(1024 * SUM_STRIDE);
  private accGroup = new Int32Array(1024);
  private accHash = new Int32Array(1024);
  private accSlot = new Int32Array(1024);
  /** Open addressing: accumulator index + 1, 0 empty. */
  private slots = new Int32Array(4096);
  private mask = 4095;

  /** Tuples summed in the record last read. */
  tuples = 0;
  /** The four counters of the tuple being read. */
  private readonly counts = new Float64Array(4);

  private pos = 0;
  /** Where the record last read starts in bytes. */
  private start = 0;
  /** A tuple starting past this index may run past the chunk's end: the record is given up. */
  private safeEnd = 0;
  private windowSeconds = 60;

  // Envelope of the record being read.
  private seen = 0;
  private version = -1;
  private flowLogVersion = -1;
  private vnetMac = '';
  private nsgBody = false;
  private vnetBody = false;

  /**
   * Reads and aggregates one record (`{` to its `}`). True: the results are in this reader's fields.
   * False: the record needs the general path (it may be valid or not; nothing is reported here).
   */
  read(bytes: Uint8Array, windowSeconds: number): boolean {
    return this.readAt(bytes, 0, windowSeconds, true) === bytes.length;
  }

  /**
   * Reads and aggregates the record whose `{` is at chunk[start], in a chunk that may end inside it (or
   * with `exact`, one that ends with it). Returns the index just past the record's `}`, or −1 when the
   * record needs the general path or is not complete in the chunk (then nothing is known; the caller
   * scans it). Bytes past the chunk end are never relied on: a record is given up when a tuple starts
   * closer than SAFE_TAIL bytes to the end of an open-ended chunk.
   */
  readAt(chunk: Uint8Array, start: number, windowSeconds: number, exact = false): number {
    this.bytes = chunk;
    this.windowSeconds = windowSeconds;
    this.clear();
    this.start = start;
    this.safeEnd = exact ? Number.POSITIVE_INFINITY : chunk.length - SAFE_TAIL;
    try {
      this.readRecord(exact);
      if (!this.finish()) {
        this.clear();
        return -1;
      }
      return this.pos;
    } catch (error) {
      if (error === GIVE_UP) {
        this.clear();
        return -1;
      }
      throw error;
    }
  }

  /** Protocol of an accumulator as the contract spells it. */
  static protocolOf(code: number): string {
    const p = (code >>> 16) & 255;
    return p === 6 ? 'TCP' : p === 17 ? 'UDP' : String(p);
  }

  private clear(): void {
    for (let a = 0; a < this.accCount; a++) this.slots[this.accSlot[a]!] = 0;
    this.accCount = 0;
    this.groupCount = 0;
    this.groupRule.length = 0;
    this.groupMac.length = 0;
    this.groupAcl.length = 0;
    this.groupIndex.clear();
    this.tuples = 0;
    this.seen = 0;
    this.version = -1;
    this.flowLogVersion = -1;
    this.vnetMac = '';
    this.nsgBody = false;
    this.vnetBody = false;
    this.time = '';
    this.resourceId = '';
  }

  /** The envelope checks of readFlowRecord, for a record read without giving up. */
  private finish(): boolean {
    if (this.seen & (1 << K_RECORDS)) return false;
    if (this.time === '') return false;
    const vnet = (this.seen & ((1 << K_FLOW_RECORDS) | (1 << K_FLOW_LOG_VERSION))) !== 0;
    if (vnet) {
      if (this.nsgBody || !this.vnetBody || this.flowLogVersion !== 4) return false;
      if (!(this.seen & (1 << K_TARGET_RESOURCE_ID)) || this.resourceId === '' || this.vnetMac === '')
        return false;
      const mac = normalizeMac(this.vnetMac);
      for (let g = 0; g < this.groupCount; g++) this.groupMac[g] = mac;
    } else {
      if (!this.nsgBody || !(this.seen & (1 << K_RESOURCE_ID)) || this.resourceId === '') return false;
    }
    return true;
  }

  // ---- JSON reading -------------------------------------------------------------------------------

  private ws(): number {
    const b = this.bytes;
    let p = this.pos;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else {
        this.pos = p;
        return c === undefined ? -1 : c;
      }
    }
  }

  private expect(c: number): void {
    if (this.ws() !== c) throw GIVE_UP;
    this.pos++;
  }

  /** A string without escapes, ASCII only, as a JS string; gives up otherwise. */
  private plainString(): string {
    if (this.ws() !== QUOTE) throw GIVE_UP;
    const b = this.bytes;
    const start = this.pos + 1;
    let p = start;
    let text = '';
    for (;;) {
      const c = b[p];
      if (c === undefined || c < 0x20 || c >= 0x80 || c === BACKSLASH) throw GIVE_UP;
      if (c === QUOTE) break;
      p++;
    }
    // Short strings: fromCharCode over the bytes beats a decoder call.
    for (let i = start; i < p; i += 1024) {
      text += String.fromCharCode.apply(null, b.subarray(i, Math.min(p, i + 1024)) as unknown as number[]);
    }
    this.pos = p + 1;
    return text;
  }

  /** Non-negative whole number written as plain digits (what JSON.parse gives exactly); else gives up. */
  private smallInt(): number {
    this.ws();
    const b = this.bytes;
    let p = this.pos;
    let v = 0;
    const start = p;
    for (;;) {
      const c = b[p];
      if (c === undefined || c < CH_0 || c > CH_0 + 9) break;
      v = v * 10 + (c - CH_0);
      p++;
    }
    if (p === start || p - start > 9 || (b[start] === CH_0 && p - start > 1)) throw GIVE_UP;
    const next = b[p];
    // 2.0, 2e0: valid JSON for 2, but the general path decides those.
    if (next === 0x2e || next === 0x65 || next === 0x45) throw GIVE_UP;
    this.pos = p;
    return v;
  }

  /**
   * Iterates the keys of an object at pos: calls `onKey` with the key (pos at its value), which must
   * consume the value. Keys with escapes or non-ASCII bytes give up.
   */
  private object(onKey: (key: string) => void): void {
    this.expect(OPEN_BRACE);
    if (this.ws() === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    for (;;) {
      const key = this.plainString();
      this.expect(COLON);
      onKey(key);
      const c = this.ws();
      this.pos++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACE) return;
      throw GIVE_UP;
    }
  }

  /** Iterates the elements of an array at pos: `onElement` must consume each. */
  private array(onElement: () => void): void {
    this.expect(OPEN_BRACKET);
    if (this.ws() === CLOSE_BRACKET) {
      this.pos++;
      return;
    }
    for (;;) {
      onElement();
      const c = this.ws();
      this.pos++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) return;
      throw GIVE_UP;
    }
  }

  /** Skips any JSON value, validating it as JSON.parse would (or giving up). */
  private skipValue(depth: number): void {
    if (depth > MAX_DEPTH) throw GIVE_UP;
    const c = this.ws();
    if (c === OPEN_BRACE) {
      this.object(() => this.skipValue(depth + 1));
    } else if (c === OPEN_BRACKET) {
      this.array(() => this.skipValue(depth + 1));
    } else if (c === QUOTE) this.skipString();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else this.skipNumber();
  }

  private literal(word: string): void {
    const b = this.bytes;
    for (let i = 0; i < word.length; i++) if (b[this.pos + i] !== word.charCodeAt(i)) throw GIVE_UP;
    this.pos += word.length;
  }

  /** A JSON string with any content (escapes validated; non-ASCII bytes are fine, it is not kept). */
  private skipString(): void {
    const b = this.bytes;
    let p = this.pos + 1;
    for (;;) {
      const c = b[p];
      if (c === undefined || c < 0x20) throw GIVE_UP;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const e = b[p + 1];
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = b[p + k];
            const hex =
              h !== undefined &&
              ((h >= CH_0 && h <= CH_0 + 9) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66));
            if (!hex) throw GIVE_UP;
          }
          p += 6;
          continue;
        }
        if (
          e === QUOTE ||
          e === BACKSLASH ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        ) {
          p += 2;
          continue;
        }
        throw GIVE_UP;
      }
      p++;
    }
    this.pos = p + 1;
  }

  /** -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  private skipNumber(): void {
    const b = this.bytes;
    let p = this.pos;
    const digit = (c: number | undefined) => c !== undefined && c >= CH_0 && c <= CH_0 + 9;
    if (b[p] === 0x2d) p++;
    if (b[p] === CH_0) p++;
    else if (digit(b[p])) while (digit(b[p])) p++;
    else throw GIVE_UP;
    if (b[p] === 0x2e) {
      p++;
      if (!digit(b[p])) throw GIVE_UP;
      while (digit(b[p])) p++;
    }
    if (b[p] === 0x65 || b[p] === 0x45) {
      p++;
      if (b[p] === 0x2b || b[p] === 0x2d) p++;
      if (!digit(b[p])) throw GIVE_UP;
      while (digit(b[p])) p++;
    }
    this.pos = p;
  }

  /**
   * Exact key k of `keys` (index), -1 for a key readFlowRecord does not look at; a key spelled like a
   * known one in other letter case gives up (readFlowRecord's `field` would pick it up). A known key seen
   * twice gives up too (JSON.parse keeps the last one).
   */
  private keyIndex(
    key: string,
    keys: readonly string[],
    lower: readonly string[],
    seen: { bits: number },
  ): number {
    for (let k = 0; k < keys.length; k++) {
      if (key === keys[k]) {
        if (seen.bits & (1 << k)) throw GIVE_UP;
        seen.bits |= 1 << k;
        return k;
      }
    }
    const l = key.toLowerCase();
    for (let k = 0; k < lower.length; k++) if (l === lower[k]) throw GIVE_UP;
    return -1;
  }

  // ---- records ------------------------------------------------------------------------------------

  private readRecord(exact: boolean): void {
    this.pos = this.start;
    const seen = { bits: 0 };
    this.object((key) => {
      const k = this.keyIndex(key, RECORD_KEYS, LOWER_RECORD_KEYS, seen);
      this.seen = seen.bits;
      switch (k) {
        case K_TIME:
          this.time = this.plainString();
          break;
        case K_RESOURCE_ID:
          if (this.seen & (1 << K_TARGET_RESOURCE_ID)) this.skipValue(0);
          else this.resourceId = this.plainString();
          break;
        case K_TARGET_RESOURCE_ID:
          // VNet records name their target; NSG records (resourceId) have none.
          this.resourceId = this.plainString();
          break;
        case K_MAC_ADDRESS:
          if (this.ws() === QUOTE) this.vnetMac = this.plainString();
          else this.skipValue(0);
          break;
        case K_FLOW_LOG_VERSION:
          this.flowLogVersion = this.smallInt();
          break;
        case K_FLOW_RECORDS:
          if (this.nsgBody) throw GIVE_UP;
          this.vnetBody = true;
          this.layout = 'vnet-v4';
          this.readFlowRecords();
          break;
        case K_PROPERTIES:
          if (this.seen & ((1 << K_FLOW_RECORDS) | (1 << K_FLOW_LOG_VERSION))) this.skipValue(0);
          else {
            this.nsgBody = true;
            this.readProperties();
          }
          break;
        default:
          this.skipValue(0);
      }
    });
    // Both present: which one counts depends on the log type; the general path decides.
    if (this.seen & (1 << K_RESOURCE_ID) && this.seen & (1 << K_TARGET_RESOURCE_ID)) throw GIVE_UP;
    // Nothing may follow the record's closing brace (when its bytes are exactly the record).
    if (exact && this.ws() !== -1) throw GIVE_UP;
  }

  /**
   * Parses the array at `at` with `each` now, or later when an envelope key it depends on comes after it
   * (alphabetically sorted copies put `flowTuples` before `rule`): then the array is validated now and
   * read again once the object is complete.
   */
  private later(at: number, each: () => void): void {
    const back = this.pos;
    this.pos = at;
    this.array(each);
    this.pos = back;
  }

  private readProperties(): void {
    const seen = { bits: 0 };
    let flowsAt = -1;
    this.object((key) => {
      const k = this.keyIndex(key, PROPERTIES_KEYS, LOWER_PROPERTIES_KEYS, seen);
      if (k === 0) {
        const v = this.smallInt();
        if (v !== 1 && v !== 2) throw GIVE_UP;
        this.version = v;
        this.layout = v === 1 ? 'nsg-v1' : 'nsg-v2';
      } else if (k === 1) {
        if (this.version < 0) {
          flowsAt = this.ws() === OPEN_BRACKET ? this.pos : -2;
          this.skipValue(1);
        } else this.array(() => this.readNsgRule());
      } else this.skipValue(1);
    });
    if (this.version < 0 || !(seen.bits & 2) || flowsAt === -2) throw GIVE_UP;
    if (flowsAt >= 0) this.later(flowsAt, () => this.readNsgRule());
  }

  private readNsgRule(): void {
    const seen = { bits: 0 };
    let rule = '';
    let flowsAt = -1;
    this.object((key) => {
      const k = this.keyIndex(key, RULE_KEYS, LOWER_RULE_KEYS, seen);
      if (k === 0) {
        rule = this.plainString();
        if (rule === '') throw GIVE_UP;
      } else if (k === 1) {
        if (rule === '') {
          flowsAt = this.ws() === OPEN_BRACKET ? this.pos : -2;
          this.skipValue(2);
        } else {
          const r = rule;
          this.array(() => this.readNsgMacFlow(r));
        }
      } else this.skipValue(2);
    });
    if (rule === '' || !(seen.bits & 2) || flowsAt === -2) throw GIVE_UP;
    const r = rule;
    if (flowsAt >= 0) this.later(flowsAt, () => this.readNsgMacFlow(r));
  }

  private readNsgMacFlow(rule: string): void {
    const seen = { bits: 0 };
    let mac = '';
    let tuplesAt = -1;
    this.object((key) => {
      const k = this.keyIndex(key, MAC_FLOW_KEYS, LOWER_MAC_FLOW_KEYS, seen);
      if (k === 0) {
        mac = this.plainString();
        if (mac === '') throw GIVE_UP;
      } else if (k === 1) {
        if (mac === '') {
          tuplesAt = this.ws() === OPEN_BRACKET ? this.pos : -2;
          this.skipValue(3);
        } else this.tupleArray(this.group(rule, normalizeMac(mac), null));
      } else this.skipValue(3);
    });
    if (mac === '' || !(seen.bits & 2) || tuplesAt === -2) throw GIVE_UP;
    if (tuplesAt >= 0) this.tuplesLater(tuplesAt, this.group(rule, normalizeMac(mac), null));
  }

  private readFlowRecords(): void {
    const seen = { bits: 0 };
    this.object((key) => {
      const k = this.keyIndex(key, FLOW_RECORDS_KEYS, LOWER_FLOW_RECORDS_KEYS, seen);
      if (k === 0) this.array(() => this.readAcl());
      else this.skipValue(1);
    });
    if (!(seen.bits & 1)) throw GIVE_UP;
  }

  private readAcl(): void {
    const seen = { bits: 0 };
    let acl = '';
    let groupsAt = -1;
    this.object((key) => {
      const k = this.keyIndex(key, ACL_KEYS, LOWER_ACL_KEYS, seen);
      if (k === 0) {
        acl = this.plainString();
        if (acl === '') throw GIVE_UP;
      } else if (k === 1) {
        if (acl === '') {
          groupsAt = this.ws() === OPEN_BRACKET ? this.pos : -2;
          this.skipValue(2);
        } else {
          const a = acl;
          this.array(() => this.readVnetGroup(a));
        }
      } else this.skipValue(2);
    });
    if (acl === '' || !(seen.bits & 2) || groupsAt === -2) throw GIVE_UP;
    const a = acl;
    if (groupsAt >= 0) this.later(groupsAt, () => this.readVnetGroup(a));
  }

  private readVnetGroup(acl: string): void {
    const seen = { bits: 0 };
    let rule = '';
    let tuplesAt = -1;
    this.object((key) => {
      const k = this.keyIndex(key, VNET_GROUP_KEYS, LOWER_VNET_GROUP_KEYS, seen);
      if (k === 0) {
        rule = this.plainString();
        if (rule === '') throw GIVE_UP;
      } else if (k === 1) {
        if (rule === '') {
          tuplesAt = this.ws() === OPEN_BRACKET ? this.pos : -2;
          this.skipValue(3);
        } else this.tupleArray(this.group(rule, '', acl));
      } else this.skipValue(3);
    });
    if (rule === '' || !(seen.bits & 2) || tuplesAt === -2) throw GIVE_UP;
    // The MAC is the record's, the same for every group: groups are told apart by rule and ACL.
    if (tuplesAt >= 0) this.tuplesLater(tuplesAt, this.group(rule, '', acl));
  }

  private tuplesLater(at: number, group: number): void {
    const back = this.pos;
    this.pos = at;
    this.tupleArray(group);
    this.pos = back;
  }

  /** Index of the flow group (rule, MAC, ACL), created on first sight; same grouping as aggregateRecord. */
  private group(rule: string, mac: string, acl: string | null): number {
    const key = `${rule}\u0000${mac}\u0000${acl ?? ''}`;
    let g = this.groupIndex.get(key);
    if (g === undefined) {
      g = this.groupCount++;
      this.groupIndex.set(key, g);
      this.groupRule.push(rule);
      this.groupMac.push(mac);
      this.groupAcl.push(acl);
      if (g >= this.groupFirst.length) {
        this.groupFirst = grow32(this.groupFirst, g + 1);
        this.groupLast = grow32(this.groupLast, g + 1);
      }
      this.groupFirst[g] = -1;
      this.groupLast[g] = -1;
    }
    return g;
  }

  // ---- tuples -------------------------------------------------------------------------------------

  /**
   * `flowTuples` of one group: each tuple is read field by field in one pass over its bytes (numbers
   * parsed as their digits go by, addresses hashed) and summed into its accumulator.
   */
  private tupleArray(group: number): void {
    this.expect(OPEN_BRACKET);
    if (this.ws() === CLOSE_BRACKET) {
      this.pos++;
      return;
    }
    const b = this.bytes;
    const layout = this.layout;
    const vnet = layout === 'vnet-v4';
    const v1 = layout === 'nsg-v1';
    const windowSeconds = this.windowSeconds;
    const groupMix = Math.imul(group + 1, 0x85ebca6b);
    const safeEnd = this.safeEnd;
    for (;;) {
      if (this.ws() !== QUOTE || this.pos > safeEnd) throw GIVE_UP;
      let p = this.pos + 1;
      let c = b[p]!;

      // time: digits
      let time = 0;
      if (c < CH_0 || c > CH_0 + 9) throw GIVE_UP;
      do {
        time = time * 10 + (c - CH_0);
        c = b[++p]!;
      } while (c >= CH_0 && c <= CH_0 + 9);
      if (c !== COMMA) throw GIVE_UP;
      p++;

      // source and destination addresses: hashed, compared later as one byte range "src,dst"
      const src = p;
      let h = FNV_OFFSET;
      c = b[p]!;
      while (TUPLE_CLASS[c] === 0) {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = b[++p]!;
      }
      if (c !== COMMA || p === src) throw GIVE_UP;
      const srcEnd = p;
      h = Math.imul(h ^ COMMA, FNV_PRIME);
      const dst = ++p;
      c = b[p]!;
      while (TUPLE_CLASS[c] === 0) {
        h = Math.imul(h ^ c, FNV_PRIME);
        c = b[++p]!;
      }
      if (c !== COMMA || p === dst) throw GIVE_UP;
      const dstEnd = p;
      p++;

      // source port: digits 0-65535 (not in the key)
      c = b[p]!;
      let port = 0;
      if (c < CH_0 || c > CH_0 + 9) throw GIVE_UP;
      do {
        port = port * 10 + (c - CH_0);
        c = b[++p]!;
      } while (c >= CH_0 && c <= CH_0 + 9);
      if (c !== COMMA || port > 65535) throw GIVE_UP;
      p++;

      // destination port: digits 0-65535 without a leading zero (the usual spelling)
      c = b[p]!;
      const dportStart = p;
      let dport = 0;
      if (c < CH_0 || c > CH_0 + 9) throw GIVE_UP;
      do {
        dport = dport * 10 + (c - CH_0);
        c = b[++p]!;
      } while (c >= CH_0 && c <= CH_0 + 9);
      if (c !== COMMA || dport > 65535 || (b[dportStart] === CH_0 && p > dportStart + 1)) throw GIVE_UP;
      p++;

      // protocol: NSG T/U, VNet an IANA number without a leading zero
      c = b[p]!;
      let proto: number;
      if (vnet) {
        const protoStart = p;
        proto = 0;
        if (c < CH_0 || c > CH_0 + 9) throw GIVE_UP;
        do {
          proto = proto * 10 + (c - CH_0);
          c = b[++p]!;
        } while (c >= CH_0 && c <= CH_0 + 9);
        if (c !== COMMA || proto > 255 || (b[protoStart] === CH_0 && p > protoStart + 1)) throw GIVE_UP;
      } else {
        if (c === CH_T) proto = 6;
        else if (c === CH_U) proto = 17;
        else throw GIVE_UP;
        if (b[++p] !== COMMA) throw GIVE_UP;
      }
      p++;

      // direction
      c = b[p]!;
      if ((c !== CH_I && c !== CH_O) || b[p + 1] !== COMMA) throw GIVE_UP;
      let code = dport | (proto << 16) | (c === CH_O ? CODE_OUTBOUND : 0);
      p += 2;

      let started = 0;
      let ended = 0;
      let denied = 0;
      let encrypted = 0;
      let pkts1 = 0;
      let bytes1 = 0;
      let pkts2 = 0;
      let bytes2 = 0;
      c = b[p]!;
      let counters = true;
      if (vnet) {
        // state B/C/E/D, then the encryption field
        if (c === CH_B) started = 1;
        else if (c === CH_E) ended = 1;
        else if (c === CH_D) denied = 1;
        else if (c !== CH_C) throw GIVE_UP;
        if (b[p + 1] !== COMMA) throw GIVE_UP;
        p += 2;
        // encryption state: exactly `X` is encrypted, anything else (NX, NX_…, empty) is not
        if (b[p] === CH_X && b[p + 1] === COMMA) encrypted = 1;
        c = b[p]!;
        while (TUPLE_CLASS[c] === 0) c = b[++p]!;
        if (c !== COMMA) throw GIVE_UP;
        p++;
      } else {
        if (c === CH_D) denied = 1;
        else if (c !== CH_A) throw GIVE_UP;
        p++;
        if (v1) counters = false;
        else {
          if (b[p] !== COMMA) throw GIVE_UP;
          c = b[p + 1]!;
          if (c === CH_B) started = 1;
          else if (c === CH_E) ended = 1;
          else if (c !== CH_C) throw GIVE_UP;
          if (b[p + 2] !== COMMA) throw GIVE_UP;
          p += 3;
        }
      }
      if (denied === 1) code |= CODE_DENY;

      if (counters) {
        // four counters, each empty (0) or digits; commas between, the closing quote after the last
        const counts = this.counts;
        for (let k = 0; k < 4; k++) {
          if (k > 0) {
            if (c !== COMMA) throw GIVE_UP;
            p++;
          }
          c = b[p]!;
          let v = 0;
          while (c >= CH_0 && c <= CH_0 + 9) {
            v = v * 10 + (c - CH_0);
            c = b[++p]!;
          }
          counts[k] = v;
        }
        pkts1 = counts[0]!;
        bytes1 = counts[1]!;
        pkts2 = counts[2]!;
        bytes2 = counts[3]!;
      } else c = b[p]!;
      if (c !== QUOTE) throw GIVE_UP;
      this.pos = p + 1;

      const seconds = time >= 1e11 ? Math.floor(time / 1000) : time;
      if (seconds > MAX_SECONDS) throw GIVE_UP;
      const windowStart = seconds - (seconds % windowSeconds);
      h = (Math.imul(h ^ code, FNV_PRIME) ^ Math.imul(windowStart | 0, 0x9e3779b1) ^ groupMix) | 0;

      // find or add the accumulator
      let slot = h & this.mask;
      let acc = -1;
      for (;;) {
        const a = this.slots[slot]! - 1;
        if (a < 0) break;
        if (
          this.accHash[a] === h &&
          this.accCode[a] === code &&
          this.accWindow[a] === windowStart &&
          this.accGroup[a] === group &&
          sameRange(b, this.accSrc[a]!, this.accSrcEnd[a]!, this.accDstEnd[a]!, src, srcEnd, dstEnd)
        ) {
          acc = a;
          break;
        }
        slot = (slot + 1) & this.mask;
      }
      if (acc < 0) {
        acc = this.addAccumulator(group, h, slot, code, windowStart, src, srcEnd, dstEnd);
        const s = this.sums;
        const o = acc * SUM_STRIDE;
        s[o] = 1;
        s[o + 1] = started;
        s[o + 2] = ended;
        s[o + 3] = denied;
        s[o + 4] = pkts1;
        s[o + 5] = bytes1;
        s[o + 6] = pkts2;
        s[o + 7] = bytes2;
        s[o + 8] = encrypted;
      } else {
        const s = this.sums;
        const o = acc * SUM_STRIDE;
        s[o]! += 1;
        s[o + 1]! += started;
        s[o + 2]! += ended;
        s[o + 3]! += denied;
        s[o + 4]! += pkts1;
        s[o + 5]! += bytes1;
        s[o + 6]! += pkts2;
        s[o + 7]! += bytes2;
        s[o + 8]! += encrypted;
      }
      this.tuples++;

      const next = this.ws();
      this.pos++;
      if (next === COMMA) continue;
      if (next === CLOSE_BRACKET) return;
      throw GIVE_UP;
    }
  }

  private addAccumulator(
    group: number,
    hash: number,
    slot: number,
    code: number,
    windowStart: number,
    src: number,
    srcEnd: number,
    dstEnd: number,
  ): number {
    const a = this.accCount++;
    if (a >= this.accNext.length) this.growAccumulators();
    this.slots[slot] = a + 1;
    this.accSlot[a] = slot;
    this.accHash[a] = hash;
    this.accGroup[a] = group;
    this.accCode[a] = code;
    this.accWindow[a] = windowStart;
    this.accSrc[a] = src;
    this.accSrcEnd[a] = srcEnd;
    this.accDstEnd[a] = dstEnd;
    this.accNext[a] = -1;
    const last = this.groupLast[group]!;
    if (last < 0) this.groupFirst[group] = a;
    else this.accNext[last] = a;
    this.groupLast[group] = a;
    // Keep the table at most half full.
    if (this.accCount * 2 > this.slots.length) this.rehash();
    return a;
  }

  private growAccumulators(): void {
    const n = this.accNext.length * 2;
    this.accNext = grow32(this.accNext, n);
    this.accCode = grow32(this.accCode, n);
    this.accSrc = grow32(this.accSrc, n);
    this.accSrcEnd = grow32(this.accSrcEnd, n);
    this.accDstEnd = grow32(this.accDstEnd, n);
    this.accGroup = grow32(this.accGroup, n);
    this.accHash = grow32(this.accHash, n);
    this.accSlot = grow32(this.accSlot, n);
    const w = new Float64Array(n);
    w.set(this.accWindow);
    this.accWindow = w;
    const s = new Float64Array(n * SUM_STRIDE);
    s.set(this.sums);
    this.sums = s;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let a = 0; a < this.accCount; a++) {
      let slot = this.accHash[a]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = a + 1;
      this.accSlot[a] = slot;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

const PROPERTIES_KEYS = ['Version', 'flows'] as const;
const LOWER_PROPERTIES_KEYS = PROPERTIES_KEYS.map((k) => k.toLowerCase());
const RULE_KEYS = ['rule', 'flows'] as const;
const LOWER_RULE_KEYS = RULE_KEYS.map((k) => k.toLowerCase());
const MAC_FLOW_KEYS = ['mac', 'flowTuples'] as const;
const LOWER_MAC_FLOW_KEYS = MAC_FLOW_KEYS.map((k) => k.toLowerCase());
const FLOW_RECORDS_KEYS = ['flows'] as const;
const LOWER_FLOW_RECORDS_KEYS = FLOW_RECORDS_KEYS.map((k) => k.toLowerCase());
const ACL_KEYS = ['aclID', 'flowGroups'] as const;
const LOWER_ACL_KEYS = ACL_KEYS.map((k) => k.toLowerCase());
const VNET_GROUP_KEYS = ['rule', 'flowTuples'] as const;
const LOWER_VNET_GROUP_KEYS = VNET_GROUP_KEYS.map((k) => k.toLowerCase());

/** bytes[a0, a1) (split at aMid) equals bytes[b0, b1) (split at bMid). */
function sameRange(
  b: Uint8Array,
  a0: number,
  aMid: number,
  a1: number,
  b0: number,
  bMid: number,
  b1: number,
): boolean {
  if (a1 - a0 !== b1 - b0 || aMid - a0 !== bMid - b0) return false;
  for (let k = 0; k < a1 - a0; k++) if (b[a0 + k] !== b[b0 + k]) return false;
  return true;
}

function grow32(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(atLeast, a.length * 2));
  out.set(a);
  return out;
}
