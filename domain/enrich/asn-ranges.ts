/**
 * ASN lookup over address ranges: the CSV format of `@ip-location-db/asn` (and of DB-IP's ip-to-asn
 * lite CSV), one inclusive range a row:
 *
 *   range_start,range_end,autonomous_system_number,autonomous_system_organization
 *
 * where start/end are addresses (`1.0.0.0`, `2001:200::`) or unsigned integers (`16777216`; IPv6 as a
 * 128-bit decimal). Ranges are kept in typed arrays and found by binary search; organisation names are
 * copied once per ASN into a byte pool and decoded only when an ASN is first asked for. Parsing the
 * ~500,000 rows of the default data takes a few hundred ms, so the table also round-trips through a
 * flat binary form (`toBytes` / `fromBytes`) that a loader can cache: reading that back costs ~10 ms.
 */

import type { AsnInfo } from './enricher';
import { EnrichmentDataError } from './errors';
import { type IpAddress, type Ipv6Address, parseIp } from './ip';
import { packSections, sectionU32, u32Bytes, unpackSections } from './sections';
import { U32HashMap } from './u32-hash-map';

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

class GrowableU32 {
  data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  trimmed(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/** Ranges of one family: starts and ends (1 word per IPv4 address, 4 per IPv6) and each range's ASN. */
interface FamilyRanges {
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly asns: Uint32Array;
  readonly count: number;
}

const NO_RANGES: FamilyRanges = {
  starts: new Uint32Array(0),
  ends: new Uint32Array(0),
  asns: new Uint32Array(0),
  count: 0,
};

export class AsnRangeTable {
  private readonly v4: FamilyRanges;
  private readonly v6: FamilyRanges;
  /** Distinct ASNs, ascending, with their organisation names as byte ranges of `orgPool`. */
  private readonly orgAsns: Uint32Array;
  private readonly orgBounds: Uint32Array;
  private readonly orgPool: Uint8Array;
  private readonly orgCache = new Map<number, string | null>();
  private readonly infoCache = new Map<number, AsnInfo>();

  constructor(
    v4: FamilyRanges,
    v6: FamilyRanges,
    orgAsns: Uint32Array,
    orgBounds: Uint32Array,
    orgPool: Uint8Array,
  ) {
    this.v4 = v4;
    this.v6 = v6;
    this.orgAsns = orgAsns;
    this.orgBounds = orgBounds;
    this.orgPool = orgPool;
  }

  get ipv4Ranges(): number {
    return this.v4.count;
  }

  get ipv6Ranges(): number {
    return this.v6.count;
  }

  lookup(address: IpAddress): AsnInfo | null {
    const i = address.family === 4 ? this.find4(address.value) : this.find6(address);
    if (i < 0) return null;
    const asn = (address.family === 4 ? this.v4.asns[i] : this.v6.asns[i]) ?? 0;
    if (asn === 0) return null;
    // One object per ASN, shared by its addresses (with many distinct addresses, fewer allocations).
    let info = this.infoCache.get(asn);
    if (info === undefined) {
      info = { asn, org: this.org(asn) };
      this.infoCache.set(asn, info);
    }
    return info;
  }

  /** Organisation name of an ASN, or null. */
  org(asn: number): string | null {
    const cached = this.orgCache.get(asn);
    if (cached !== undefined) return cached;
    const asns = this.orgAsns;
    let lo = 0;
    let hi = asns.length - 1;
    let name: string | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = asns[mid] ?? 0;
      if (v === asn) {
        const raw = utf8.decode(this.orgPool.subarray(this.orgBounds[mid * 2], this.orgBounds[mid * 2 + 1]));
        name = unquote(raw.trim());
        if (name === '') name = null;
        break;
      }
      if (v < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    this.orgCache.set(asn, name);
    return name;
  }

  /**
   * The table as bytes (sections.ts: little-endian words), so a loader can keep it in a cache file and
   * skip parsing the CSV next time; `AsnRangeTable.fromBytes` reads it back.
   */
  toBytes(): Uint8Array {
    return packSections(MAGIC, [
      u32Bytes(this.v4.starts.subarray(0, this.v4.count)),
      u32Bytes(this.v4.ends.subarray(0, this.v4.count)),
      u32Bytes(this.v4.asns.subarray(0, this.v4.count)),
      u32Bytes(this.v6.starts.subarray(0, this.v6.count * 4)),
      u32Bytes(this.v6.ends.subarray(0, this.v6.count * 4)),
      u32Bytes(this.v6.asns.subarray(0, this.v6.count)),
      u32Bytes(this.orgAsns),
      u32Bytes(this.orgBounds),
      this.orgPool,
    ]);
  }

  /** Reads `toBytes` output; null if the bytes are not a complete table of this format version. */
  static fromBytes(bytes: Uint8Array): AsnRangeTable | null {
    const sections = unpackSections(bytes, MAGIC);
    if (sections === null || sections.length !== 9) return null;
    const words = sections.slice(0, 8).map(sectionU32);
    const [s4, e4, a4, s6, e6, a6, orgAsns, orgBounds] = words;
    const pool = sections[8];
    if (!s4 || !e4 || !a4 || !s6 || !e6 || !a6 || !orgAsns || !orgBounds || !pool) return null;
    const n4 = a4.length;
    const n6 = a6.length;
    if (s4.length !== n4 || e4.length !== n4 || s6.length !== n6 * 4 || e6.length !== n6 * 4) return null;
    if (orgBounds.length !== orgAsns.length * 2) return null;
    return new AsnRangeTable(
      { starts: s4, ends: e4, asns: a4, count: n4 },
      { starts: s6, ends: e6, asns: a6, count: n6 },
      orgAsns,
      orgBounds,
      pool,
    );
  }

  private find4(value: number): number {
    const { starts, ends, count } = this.v4;
    let lo = 0;
    let hi = count - 1;
    if (hi < 0 || (starts[0] ?? 0) > value) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((starts[mid] ?? 0) <= value) lo = mid;
      else hi = mid - 1;
    }
    return value <= (ends[lo] ?? 0) ? lo : -1;
  }

  private find6(a: Ipv6Address): number {
    const { starts, ends, count } = this.v6;
    if (count === 0 || compare6(starts, 0, a) > 0) return -1;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compare6(starts, mid * 4, a) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return compare6(ends, lo * 4, a) >= 0 ? lo : -1;
  }
}

/** `FLASN` + format version; bump the version when the layout changes. */
/** `FLASN` + format version 2 (the sections container; version 1 was a fixed header). */
const MAGIC = Uint8Array.of(0x46, 0x4c, 0x41, 0x53, 0x4e, 0x00, 0x00, 0x02);
const utf8 = new TextDecoder('utf-8');

/** Sign of words[at..at+4) − a. */
function compare6(words: Uint32Array, at: number, a: Ipv6Address): number {
  const w0 = words[at] ?? 0;
  if (w0 !== a.w0) return w0 < a.w0 ? -1 : 1;
  const w1 = words[at + 1] ?? 0;
  if (w1 !== a.w1) return w1 < a.w1 ? -1 : 1;
  const w2 = words[at + 2] ?? 0;
  if (w2 !== a.w2) return w2 < a.w2 ? -1 : 1;
  const w3 = words[at + 3] ?? 0;
  return w3 === a.w3 ? 0 : w3 < a.w3 ? -1 : 1;
}

function unquote(text: string): string {
  if (text.length >= 2 && text.charCodeAt(0) === QUOTE && text.charCodeAt(text.length - 1) === QUOTE) {
    return text.slice(1, -1).replace(/""/g, '"');
  }
  return text;
}

/** Sign of a[i..i+4) − b[j..j+4). */
function compareWords(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[i + k] ?? 0;
    const y = b[j + k] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function indexOfRange(bytes: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === byte) return i;
  return -1;
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/**
 * Parses plain IPv6 text (hex groups, at most one `::`) in bytes[from, to) into out[at..at+4); false if
 * it is not such text (an embedded dotted quad is left to the string parser).
 */
function parseIpv6Bytes(bytes: Uint8Array, from: number, to: number, out: Uint32Array, at: number): boolean {
  const groups = GROUPS;
  let count = 0;
  let gap = -1;
  let i = from;
  if (i + 1 < to && bytes[i] === COLON && bytes[i + 1] === COLON) {
    gap = 0;
    i += 2;
  } else if (bytes[i] === COLON) return false;
  while (i < to) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    while (i < to) {
      const d = HEX[bytes[i] ?? 0] ?? -1;
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = value;
    if (i === to) break;
    if (bytes[i] !== COLON) return false;
    i++;
    if (bytes[i] === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === to) return false;
  }
  if (gap < 0) {
    if (count !== 8) return false;
  } else {
    if (count > 7) return false;
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k] ?? 0;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  }
  for (let k = 0; k < 4; k++) out[at + k] = (groups[2 * k] ?? 0) * 65536 + (groups[2 * k + 1] ?? 0);
  return true;
}

const COLON = 58;
const GROUPS = new Uint32Array(8);
const latin1Decoder = new TextDecoder('latin1');

/**
 * A range bound: an address, or its unsigned integer form (IPv6 when it exceeds 32 bits), written to
 * out[at..at+4) (an IPv4 address in out[at+3]). Returns the family, or 0 if it is not a bound.
 */
function parseBound(bytes: Uint8Array, from: number, to: number, out: Uint32Array, at: number): 0 | 4 | 6 {
  if (indexOfRange(bytes, 46, from, to) < 0 && parseIpv6Bytes(bytes, from, to, out, at)) return 6;
  const text = latin1Decoder.decode(bytes.subarray(from, to));
  if (/^[0-9]{1,39}$/.test(text)) {
    const big = BigInt(text);
    if (big <= 0xffffffffn) {
      out[at + 3] = Number(big);
      return 4;
    }
    if (big >> 128n !== 0n) return 0;
    out[at] = Number((big >> 96n) & 0xffffffffn);
    out[at + 1] = Number((big >> 64n) & 0xffffffffn);
    out[at + 2] = Number((big >> 32n) & 0xffffffffn);
    out[at + 3] = Number(big & 0xffffffffn);
    return 6;
  }
  const ip = parseIp(text);
  if (ip === null) return 0;
  if (ip.family === 4) {
    out[at + 3] = ip.value;
    return 4;
  }
  out[at] = ip.w0;
  out[at + 1] = ip.w1;
  out[at + 2] = ip.w2;
  out[at + 3] = ip.w3;
  return 6;
}

/** Collects the rows of one or more CSV files, then builds the table. */
export class AsnRangeBuilder {
  private readonly v4Starts = new GrowableU32();
  private readonly v4Ends = new GrowableU32();
  private readonly v4Asns = new GrowableU32();
  private readonly v6Starts = new GrowableU32();
  private readonly v6Ends = new GrowableU32();
  private readonly v6Asns = new GrowableU32();
  private readonly orgs = new U32HashMap();
  private readonly orgAsns = new GrowableU32();
  private readonly orgBounds = new GrowableU32();
  private readonly words = new Uint32Array(8);
  private pool = new Uint8Array(1 << 20);
  private poolLength = 0;

  /** Parses one file's bytes; throws EnrichmentDataError naming `source` and the line on a bad row. */
  add(bytes: Uint8Array, source: string): void {
    const len = bytes.length;
    let pos = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let line = 0;
    const bad = (what: string) =>
      new EnrichmentDataError(
        'ASN',
        source,
        'corrupt',
        `line ${line}: ${what}; expected rows range_start,range_end,asn,organisation (the @ip-location-db/asn CSV format)`,
      );
    const words = this.words;
    while (pos < len) {
      line++;
      let eol = bytes.indexOf(LF, pos);
      if (eol < 0) eol = len;
      let end = eol;
      if (end > pos && bytes[end - 1] === CR) end--;
      if (end === pos) {
        pos = eol + 1;
        continue;
      }
      const c1 = bytes.indexOf(COMMA, pos);
      const c2 = c1 < 0 || c1 >= end ? -1 : bytes.indexOf(COMMA, c1 + 1);
      const c3 = c2 < 0 || c2 >= end ? -1 : bytes.indexOf(COMMA, c2 + 1);
      if (c3 < 0 || c3 >= end) throw bad('fewer than 4 fields');
      const asn = parseUint(bytes, c2 + 1, c3);
      if (asn < 0) throw bad('the ASN is not a number');
      const fromV4 = parseUint(bytes, pos, c1);
      const toV4 = fromV4 < 0 ? -1 : parseUint(bytes, c1 + 1, c2);
      if (fromV4 >= 0 && toV4 >= 0) {
        if (toV4 < fromV4) throw bad('the range ends before it starts');
        this.v4Starts.push(fromV4);
        this.v4Ends.push(toV4);
        this.v4Asns.push(asn);
      } else {
        const fromFamily = parseBound(bytes, pos, c1, words, 0);
        const toFamily = parseBound(bytes, c1 + 1, c2, words, 4);
        if (fromFamily === 0 || toFamily === 0) throw bad('the range start or end is not an address');
        if (fromFamily !== toFamily) throw bad('the range starts and ends in different address families');
        if (fromFamily === 4) {
          const from = words[3] ?? 0;
          const to = words[7] ?? 0;
          if (to < from) throw bad('the range ends before it starts');
          this.v4Starts.push(from);
          this.v4Ends.push(to);
          this.v4Asns.push(asn);
        } else {
          if (compareWords(words, 4, words, 0) < 0) throw bad('the range ends before it starts');
          for (let k = 0; k < 4; k++) this.v6Starts.push(words[k] ?? 0);
          for (let k = 4; k < 8; k++) this.v6Ends.push(words[k] ?? 0);
          this.v6Asns.push(asn);
        }
      }
      if (this.orgs.insert(asn, this.orgAsns.length)) this.addOrg(asn, bytes, c3 + 1, end);
      pos = eol + 1;
    }
  }

  private addOrg(asn: number, bytes: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (this.poolLength + n > this.pool.length) {
      const next = new Uint8Array(Math.max(this.pool.length * 2, this.poolLength + n));
      next.set(this.pool.subarray(0, this.poolLength));
      this.pool = next;
    }
    for (let i = 0; i < n; i++) this.pool[this.poolLength + i] = bytes[from + i] ?? 0;
    this.orgAsns.push(asn);
    this.orgBounds.push(this.poolLength);
    this.orgBounds.push(this.poolLength + n);
    this.poolLength += n;
  }

  build(): AsnRangeTable {
    const asns = this.orgAsns.trimmed();
    const bounds = this.orgBounds.trimmed();
    const order = Array.from({ length: asns.length }, (_, i) => i).sort(
      (i, j) => (asns[i] ?? 0) - (asns[j] ?? 0),
    );
    const sortedAsns = new Uint32Array(asns.length);
    const sortedBounds = new Uint32Array(bounds.length);
    order.forEach((from, to) => {
      sortedAsns[to] = asns[from] ?? 0;
      sortedBounds[to * 2] = bounds[from * 2] ?? 0;
      sortedBounds[to * 2 + 1] = bounds[from * 2 + 1] ?? 0;
    });
    return new AsnRangeTable(
      sortRanges(this.v4Starts.trimmed(), this.v4Ends.trimmed(), this.v4Asns.trimmed(), 1),
      sortRanges(this.v6Starts.trimmed(), this.v6Ends.trimmed(), this.v6Asns.trimmed(), 4),
      sortedAsns,
      sortedBounds,
      this.pool.slice(0, this.poolLength),
    );
  }
}

function parseUint(bytes: Uint8Array, from: number, to: number): number {
  if (from >= to || to - from > 10) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = (bytes[i] ?? 0) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= 0xffffffff ? v : -1;
}

/** Orders ranges by start (stable) unless they already are, as the published files are. */
function sortRanges(starts: Uint32Array, ends: Uint32Array, asns: Uint32Array, words: 1 | 4): FamilyRanges {
  const count = asns.length;
  if (count === 0) return NO_RANGES;
  const cmp = (i: number, j: number): number => {
    for (let k = 0; k < words; k++) {
      const a = starts[i * words + k] ?? 0;
      const b = starts[j * words + k] ?? 0;
      if (a !== b) return a < b ? -1 : 1;
    }
    return i - j;
  };
  let sorted = true;
  for (let i = 1; i < count && sorted; i++) if (cmp(i - 1, i) > 0) sorted = false;
  if (sorted) return { starts, ends, asns, count };
  const order = Array.from({ length: count }, (_, i) => i).sort(cmp);
  const s = new Uint32Array(starts.length);
  const e = new Uint32Array(ends.length);
  const a = new Uint32Array(count);
  order.forEach((from, to) => {
    for (let k = 0; k < words; k++) {
      s[to * words + k] = starts[from * words + k] ?? 0;
      e[to * words + k] = ends[from * words + k] ?? 0;
    }
    a[to] = asns[from] ?? 0;
  });
  return { starts: s, ends: e, asns: a, count };
}
