/**
 * A MaxMind DB reader of our own: the search-tree walk over an address's already parsed bits, and a data
 * section decoder that decodes only the fields asked for (MaxMind DB format 2.0,
 * https://maxmind.github.io/MaxMind-DB/).
 *
 * Why not `maxmind`'s Reader: with many distinct addresses it re-parsed each address's text, decoded
 * whole records (eight keys of a DB-IP record for the four used) into fresh objects, and went through a
 * Proxy to read pages on demand; together ~40 % of an enriched run over an internet-facing NIC's hour.
 *
 * The file is read on demand in 4 KiB pages: opening a 134 MB file reads only its metadata, and memory
 * grows by the pages used.
 * The file descriptor stays open (replacing the file by a rename keeps this process on the old one).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { IpAddress } from '../../domain/enrich';

/**
 * 4 KiB pages: a walk touches ~16 scattered nodes, so a run with few distinct addresses (a key-dense NIC:
 * ~100) reads ~6 MB on demand with 4 KiB pages against ~40 MB with 64 KiB ones.
 */
const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
/**
 * Lookups after which a worker reads the rest of the file (PagedSource.readAhead). Past this many distinct
 * addresses many more are coming and will touch most pages, and a page read on demand costs the main
 * thread ~50 µs on the bench VM (page cache reads are slow there): with a 16 MiB threshold those reads
 * took 0.44 s of an internet-facing hour. Below it, as on a key-dense NIC's traffic (~100 addresses),
 * reading the whole file (63 MB for DB-IP's IPv4 file) would be waste: reading ahead from 1 MiB cost
 * ~0.2 s and 60 MB of memory there.
 */
const READ_AHEAD_AFTER_LOOKUPS = 128;
/** The read-ahead worker (PagedSource.readAhead): plain JavaScript, so it runs the same under tsx. */
const READ_AHEAD_WORKER = `
const { workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, size, page, bytes, loaded } = workerData;
const b = new Uint8Array(bytes);
const flags = new Uint8Array(loaded);
for (let p = 0; p < flags.length; ) {
  if (Atomics.load(flags, p) === 1) { p++; continue; }
  let last = p;
  while (last + 1 < flags.length && last - p < 255 && Atomics.load(flags, last + 1) === 0) last++;
  const from = p * page;
  const want = Math.min((last + 1) * page, size) - from;
  let got = 0;
  while (got < want) {
    const n = readSync(fd, b, from + got, want - got, from + got);
    if (n === 0) break;
    got += n;
  }
  if (got < want) break;
  for (let q = p; q <= last; q++) Atomics.store(flags, q, 1);
  p = last + 1;
}
`;

/** Data section offsets start this many bytes after the search tree (16 zero bytes separate them). */
const DATA_SEPARATOR = 16;

/** `\xAB\xCD\xEFMaxMind.com`: the marker before the metadata. */
export const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);

/** Which keys of a map to decode: a nested Want for maps inside, `true` for the whole value. */
export type Want = ReadonlyMap<string, Want | true>;

export interface MmdbMetadata {
  readonly nodeCount: number;
  readonly recordSize: 24 | 28 | 32;
  readonly ipVersion: number;
  readonly databaseType: string;
  readonly buildEpoch: Date;
  readonly description: string | null;
  readonly searchTreeSize: number;
}

/** Bytes addressed by absolute offset; decoding reads through it. */
interface ByteSource {
  byte(off: number): number;
  utf8(off: number, length: number): string;
  double(off: number): number;
  float(off: number): number;
}

class BufferSource implements ByteSource {
  constructor(private readonly b: Buffer) {}
  byte(off: number): number {
    if (off >= this.b.length) throw new RangeError(`offset ${off} past the end of the metadata`);
    return this.b[off]!;
  }
  utf8(off: number, length: number): string {
    if (off + length > this.b.length) throw new RangeError(`string at ${off} past the end`);
    return this.b.toString('utf8', off, off + length);
  }
  double(off: number): number {
    return this.b.readDoubleBE(off);
  }
  float(off: number): number {
    return this.b.readFloatBE(off);
  }
}

/**
 * The file in one Buffer whose 4 KiB pages are read on first use. The Buffer is whole and its memory
 * is given by the OS on first touch, so memory grows only by the pages read, while every access is a
 * plain index into one contiguous Buffer (no per-page objects, nothing to stitch across page ends).
 * Buffer and page flags live in shared memory, so a read-ahead worker can fill them (see readAhead).
 */
class PagedSource implements ByteSource {
  readonly bytes: Buffer;
  /** 1 for each page read (by a lookup or by the read-ahead worker). */
  readonly loaded: Uint8Array;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {
    this.bytes = Buffer.from(new SharedArrayBuffer(size));
    this.loaded = new Uint8Array(new SharedArrayBuffer(Math.ceil(size / PAGE)));
  }

  private worker: Worker | null = null;
  private closed = false;

  /** Bytes of the file in memory (read on demand or ahead). */
  get bytesRead(): number {
    let pages = 0;
    const loaded = this.loaded;
    for (let p = 0; p < loaded.length; p++) pages += loaded[p]!;
    const lastPage = loaded.length - 1;
    return pages * PAGE - (loaded[lastPage] === 1 ? (lastPage + 1) * PAGE - this.size : 0);
  }

  /** Reads page `index` (it must not be loaded yet). */
  load(index: number): void {
    const from = index * PAGE;
    const want = Math.min(PAGE, this.size - from);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, this.bytes, from + got, want - got, from + got);
      if (n === 0) throw new RangeError(`the file ended at ${from + got} while reading (changed on disk?)`);
      got += n;
    }
    Atomics.store(this.loaded, index, 1);
  }

  /**
   * Starts a worker that reads every page not loaded yet (once), so lookups find the pages in memory: the
   * copying and page faults cost the main thread nothing, and lookups see each page as soon as it is read,
   * whether or not the main thread turns its event loop (libuv's reads were marked only when it did, and
   * queued the app's own file reads behind them). It reads in runs of up to 256 pages (1 MiB), and flags each
   * page after its bytes (a page load() reads meanwhile gets the same bytes twice: harmless). It does
   * not keep the process alive; close() stops it before the file is closed.
   */
  readAhead(): void {
    if (this.worker !== null || this.closed) return;
    const worker = new Worker(READ_AHEAD_WORKER, {
      eval: true,
      workerData: {
        fd: this.fd,
        size: this.size,
        page: PAGE,
        bytes: this.bytes.buffer,
        loaded: this.loaded.buffer,
      },
    });
    // A failed read ahead only means more reads on demand.
    worker.on('error', () => {});
    worker.unref();
    this.worker = worker;
  }

  /** Closes the file (once the read-ahead worker, if any, has stopped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker === null) {
      closeSync(this.fd);
      return;
    }
    void worker.terminate().finally(() => closeSync(this.fd));
  }

  /** Makes bytes [off, off + length) readable from `bytes`. */
  ensure(off: number, length: number): void {
    if (off < 0 || off + length > this.size)
      throw new RangeError(`${length} bytes at ${off} past the end of the file`);
    const last = (off + length - 1) >>> PAGE_BITS;
    for (let p = off >>> PAGE_BITS; p <= last; p++) if (this.loaded[p] === 0) this.load(p);
  }

  byte(off: number): number {
    if (this.loaded[off >>> PAGE_BITS] !== 1) this.ensure(off, 1);
    return this.bytes[off]!;
  }
  utf8(off: number, length: number): string {
    this.ensure(off, length);
    return this.bytes.toString('utf8', off, off + length);
  }
  double(off: number): number {
    this.ensure(off, 8);
    return this.bytes.readDoubleBE(off);
  }
  float(off: number): number {
    this.ensure(off, 4);
    return this.bytes.readFloatBE(off);
  }
}

/** Strings kept by offset before the cache is emptied (keys and shared values such as city names). */
const STRING_CACHE_LIMIT = 100_000;

/** Decodes MMDB data values (section 'Output Data Section' of the spec) from a byte source. */
class Decoder {
  private type = 0;
  private size = 0;
  private at = 0;
  /** Offset after the value decoded last (after the pointer, when it was reached through one). */
  pos = 0;
  private readonly strings = new Map<number, string>();

  /** `base`: where offset 0 of pointers is (the data section start, or the metadata start). */
  constructor(
    private readonly src: ByteSource,
    private readonly base: number,
  ) {}

  /** Reads the control byte(s) at off into type / size / at (for a pointer: size = its target). */
  private head(off: number): void {
    const src = this.src;
    const c = src.byte(off++);
    let type = c >>> 5;
    if (type === 1) {
      const ss = (c >>> 3) & 3;
      const v = c & 7;
      let p: number;
      if (ss === 0) {
        p = (v << 8) | src.byte(off);
        off += 1;
      } else if (ss === 1) {
        p = ((v << 16) | (src.byte(off) << 8) | src.byte(off + 1)) + 2048;
        off += 2;
      } else if (ss === 2) {
        p = ((v << 24) | (src.byte(off) << 16) | (src.byte(off + 1) << 8) | src.byte(off + 2)) + 526336;
        off += 3;
      } else {
        p =
          src.byte(off) * 16777216 +
          ((src.byte(off + 1) << 16) | (src.byte(off + 2) << 8) | src.byte(off + 3));
        off += 4;
      }
      this.type = 1;
      this.size = p;
      this.at = off;
      return;
    }
    if (type === 0) type = 7 + src.byte(off++);
    let size = c & 31;
    if (size >= 29) {
      if (size === 29) size = 29 + src.byte(off++);
      else if (size === 30) {
        size = 285 + ((src.byte(off) << 8) | src.byte(off + 1));
        off += 2;
      } else {
        size = 65821 + ((src.byte(off) << 16) | (src.byte(off + 1) << 8) | src.byte(off + 2));
        off += 3;
      }
    }
    this.type = type;
    this.size = size;
    this.at = off;
  }

  private uint(at: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.src.byte(at + i);
    return v;
  }

  private string(at: number, size: number): string {
    const cached = this.strings.get(at);
    if (cached !== undefined) return cached;
    const s = this.src.utf8(at, size);
    if (this.strings.size >= STRING_CACHE_LIMIT) this.strings.clear();
    this.strings.set(at, s);
    return s;
  }

  /**
   * The value at absolute offset `off`; `want` limits a map to some keys (others are skipped, not
   * decoded). Sets `pos` to the offset after it.
   */
  value(off: number, want?: Want): unknown {
    this.head(off);
    if (this.type === 1) {
      const after = this.at;
      const v = this.value(this.base + this.size, want);
      this.pos = after;
      return v;
    }
    const type = this.type;
    const size = this.size;
    const at = this.at;
    switch (type) {
      case 2:
        this.pos = at + size;
        return this.string(at, size);
      case 3:
        if (size !== 8) throw new RangeError(`double of size ${size} at ${off}`);
        this.pos = at + 8;
        return this.src.double(at);
      case 4: {
        const out = new Uint8Array(size);
        for (let i = 0; i < size; i++) out[i] = this.src.byte(at + i);
        this.pos = at + size;
        return out;
      }
      case 5:
      case 6:
      case 9:
      case 10:
        this.pos = at + size;
        return size <= 6 ? this.uint(at, size) : this.bigUint(at, size);
      case 7:
        return this.map(at, size, want);
      case 8: {
        let v = this.uint(at, size);
        if (size === 4 && v >= 0x80000000) v -= 0x100000000;
        this.pos = at + size;
        return v;
      }
      case 11: {
        const out: unknown[] = [];
        let p = at;
        for (let i = 0; i < size; i++) {
          out.push(this.value(p));
          p = this.pos;
        }
        this.pos = p;
        return out;
      }
      case 14:
        this.pos = at;
        return size !== 0;
      case 15:
        if (size !== 4) throw new RangeError(`float of size ${size} at ${off}`);
        this.pos = at + 4;
        return this.src.float(at);
      default:
        throw new RangeError(`unknown data type ${type} at ${off}`);
    }
  }

  /** uint64 / uint128 as maxmind returns them: a number when exact, else a bigint. */
  private bigUint(at: number, size: number): number | bigint {
    let v = 0n;
    for (let i = 0; i < size; i++) v = v * 256n + BigInt(this.src.byte(at + i));
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private map(at: number, size: number, want: Want | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let p = at;
    for (let i = 0; i < size; i++) {
      const key = this.value(p);
      p = this.pos;
      if (typeof key !== 'string') throw new RangeError(`map key at ${p} is not a string`);
      if (want === undefined) {
        out[key] = this.value(p);
        p = this.pos;
        continue;
      }
      const w = want.get(key);
      if (w === undefined) p = this.skip(p);
      else {
        out[key] = this.value(p, w === true ? undefined : w);
        p = this.pos;
      }
    }
    this.pos = p;
    return out;
  }

  /** The offset after the value at `off`, without decoding it. */
  skip(off: number): number {
    this.head(off);
    const type = this.type;
    const size = this.size;
    const at = this.at;
    switch (type) {
      case 1:
      case 14:
        return at;
      case 3:
        return at + 8;
      case 15:
        return at + 4;
      case 7: {
        let p = at;
        for (let i = 0; i < size; i++) p = this.skip(this.skip(p));
        return p;
      }
      case 11: {
        let p = at;
        for (let i = 0; i < size; i++) p = this.skip(p);
        return p;
      }
      default:
        return at + size;
    }
  }
}

function num(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new RangeError(`metadata ${name} is missing or not a number`);
  return v;
}

/** Finds and decodes the metadata in the last bytes of a file (`tail`); null when there is no marker. */
export function readMetadata(tail: Buffer, fileSize: number): MmdbMetadata | null {
  const marker = tail.lastIndexOf(METADATA_MARKER);
  if (marker < 0) return null;
  const start = marker + METADATA_MARKER.length;
  const d = new Decoder(new BufferSource(tail), start);
  const m = d.value(start);
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new RangeError('metadata is not a map');
  const md = m as Record<string, unknown>;
  const nodeCount = num(md['node_count'], 'node_count');
  const recordSize = num(md['record_size'], 'record_size');
  if (recordSize !== 24 && recordSize !== 28 && recordSize !== 32)
    throw new RangeError(`record_size ${recordSize} is not 24, 28 or 32`);
  const descriptions = md['description'];
  const en =
    typeof descriptions === 'object' && descriptions !== null
      ? (descriptions as Record<string, unknown>)['en']
      : undefined;
  const epoch = md['build_epoch'];
  void fileSize;
  return {
    nodeCount,
    recordSize,
    ipVersion: num(md['ip_version'], 'ip_version'),
    databaseType: typeof md['database_type'] === 'string' ? md['database_type'] : '',
    buildEpoch: new Date(typeof epoch === 'number' ? epoch * 1000 : Number.NaN),
    description: typeof en === 'string' ? en : null,
    searchTreeSize: (nodeCount * recordSize) / 4,
  };
}

export class MmdbTree {
  private readonly src: PagedSource;
  private readonly decoder: Decoder;
  private readonly nodeCount: number;
  private readonly recordSize: number;
  private readonly nodeBytes: number;
  /** The node an IPv4 address starts from (after 96 zero bits in an IPv6 tree). */
  private readonly ipv4Start: number;
  /** The node reached by each 16-bit IPv4 prefix, -1 until first walked. */
  private readonly v4Top = new Int32Array(1 << 16).fill(-1);
  /** Addresses looked up (see READ_AHEAD_AFTER_LOOKUPS). */
  private lookups = 0;

  private constructor(
    fd: number,
    size: number,
    readonly metadata: MmdbMetadata,
  ) {
    this.src = new PagedSource(fd, size);
    this.nodeCount = metadata.nodeCount;
    this.recordSize = metadata.recordSize;
    this.nodeBytes = metadata.recordSize / 4;
    this.decoder = new Decoder(this.src, metadata.searchTreeSize + DATA_SEPARATOR);
    let node = 0;
    if (metadata.ipVersion === 6) {
      for (let i = 0; i < 96 && node < this.nodeCount; i++) node = this.child(node, 0);
    }
    this.ipv4Start = node;
  }

  /** Opens a file whose metadata was already read (readMetadata); the descriptor stays open. */
  static open(path: string, size: number, metadata: MmdbMetadata): MmdbTree {
    const fd = openSync(path, 'r');
    try {
      return new MmdbTree(fd, size, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /** Bytes read from the file so far. */
  get bytesRead(): number {
    return this.src.bytesRead;
  }

  close(): void {
    this.src.close();
  }

  /** Record `bit` (0 left, 1 right) of a node. */
  private child(node: number, bit: number): number {
    const off = node * this.nodeBytes;
    const src = this.src;
    if (src.loaded[off >>> PAGE_BITS] !== 1 || src.loaded[(off + 7) >>> PAGE_BITS] !== 1)
      src.ensure(off, Math.min(8, src.size - off));
    const p = src.bytes;
    switch (this.recordSize) {
      case 24:
        return bit === 0
          ? (p[off]! << 16) | (p[off + 1]! << 8) | p[off + 2]!
          : (p[off + 3]! << 16) | (p[off + 4]! << 8) | p[off + 5]!;
      case 28:
        return bit === 0
          ? ((p[off + 3]! & 0xf0) << 20) | (p[off]! << 16) | (p[off + 1]! << 8) | p[off + 2]!
          : ((p[off + 3]! & 0x0f) << 24) | (p[off + 4]! << 16) | (p[off + 5]! << 8) | p[off + 6]!;
      default:
        return bit === 0 ? p.readUInt32BE(off) : p.readUInt32BE(off + 4);
    }
  }

  /** Follows the 32 bits of `word` from `node`. */
  private walkWord(node: number, word: number): number {
    return this.walkBits(node, word, 32);
  }

  /**
   * Follows the low `bits` bits of `word` (most significant first) from `node`; the 28-bit layout (DB-IP,
   * GeoLite2 City) inlined.
   */
  private walkBits(node: number, word: number, bits: number): number {
    const count = this.nodeCount;
    if (this.recordSize !== 28) {
      for (let i = bits - 1; i >= 0 && node < count; i--) node = this.child(node, (word >>> i) & 1);
      return node;
    }
    const src = this.src;
    const loaded = src.loaded;
    const p = src.bytes;
    for (let i = bits - 1; i >= 0 && node < count; i--) {
      const off = node * 7;
      if (loaded[off >>> PAGE_BITS] !== 1 || loaded[(off + 6) >>> PAGE_BITS] !== 1) src.ensure(off, 7);
      node =
        ((word >>> i) & 1) === 0
          ? ((p[off + 3]! & 0xf0) << 20) | (p[off]! << 16) | (p[off + 1]! << 8) | p[off + 2]!
          : ((p[off + 3]! & 0x0f) << 24) | (p[off + 4]! << 16) | (p[off + 5]! << 8) | p[off + 6]!;
    }
    return node;
  }

  /**
   * Where the address's record is (an absolute file offset, the key of `record` and of any cache of
   * decoded records), or -1 when the tree has none. An IPv6 address in an IPv4 tree: -1 (callers route by
   * family; looking it up would give an IPv4 network's record).
   */
  find(address: IpAddress): number {
    if (++this.lookups === READ_AHEAD_AFTER_LOOKUPS) this.src.readAhead();
    let node: number;
    if (address.family === 4) {
      // The node after an address's first 16 bits, remembered: the walk then takes the last 16 only.
      const top = address.value >>> 16;
      let mid = this.v4Top[top]!;
      if (mid < 0) {
        mid = this.walkBits(this.ipv4Start, top, 16);
        this.v4Top[top] = mid;
      }
      node = this.walkBits(mid, address.value & 0xffff, 16);
    } else {
      if (this.metadata.ipVersion !== 6) return -1;
      node = this.walkWord(0, address.w0);
      node = this.walkWord(node, address.w1);
      node = this.walkWord(node, address.w2);
      node = this.walkWord(node, address.w3);
    }
    const count = this.nodeCount;
    if (node <= count) return -1;
    return this.metadata.searchTreeSize + node - count;
  }

  /** The record at an offset `find` returned, with only the keys in `want` (all when absent). */
  record(offset: number, want?: Want): unknown {
    return this.decoder.value(offset, want);
  }
}
