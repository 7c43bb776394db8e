/**
 * A small MaxMind DB writer for tests (format 2.0, https://maxmind.github.io/MaxMind-DB/): a binary
 * search tree over the networks given, the data section (each distinct record once; map keys and
 * strings seen before written as pointers, as MaxMind's writers do) and the metadata. Enough to write
 * files in the GeoLite2, DB-IP and IPinfo layouts; not a general-purpose writer (no merging of
 * overlapping networks: the later, more specific one wins below the earlier).
 */

export type MmdbValue =
  | string
  | number
  | boolean
  | { readonly float: number }
  | readonly MmdbValue[]
  | { readonly [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `a.b.c.d/len` or an IPv6 CIDR (IPv4 networks in an IPv6 file are placed at ::a.b.c.d, as MaxMind does). */
  readonly cidr: string;
  readonly record: { readonly [key: string]: MmdbValue };
}

export interface MmdbWriteOptions {
  readonly ipVersion: 4 | 6;
  readonly recordSize: 24 | 28 | 32;
  readonly databaseType: string;
  readonly description?: string;
  readonly buildEpoch?: number;
}

interface Node {
  left: Node | number | null;
  right: Node | number | null;
}

function v4Bits(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4 ${text}`);
  const bits: number[] = [];
  for (const p of parts) for (let i = 7; i >= 0; i--) bits.push((p >> i) & 1);
  return bits;
}

function v6Bits(text: string): number[] {
  let groups: number[];
  const [head = '', tail] = text.split('::');
  const hs = head === '' ? [] : head.split(':');
  const ts = tail === undefined || tail === '' ? [] : tail.split(':');
  const parse = (list: string[]) => list.map((g) => Number.parseInt(g, 16));
  if (tail === undefined) groups = parse(hs);
  else groups = [...parse(hs), ...new Array<number>(8 - hs.length - ts.length).fill(0), ...parse(ts)];
  if (groups.length !== 8) throw new Error(`bad IPv6 ${text}`);
  const bits: number[] = [];
  for (const g of groups) for (let i = 15; i >= 0; i--) bits.push((g >> i) & 1);
  return bits;
}

/** The prefix bits of a network in a tree of `ipVersion`. */
function networkBits(cidr: string, ipVersion: 4 | 6): number[] {
  const [addr = '', lenText = ''] = cidr.split('/');
  const len = Number(lenText);
  if (addr.includes(':')) {
    if (ipVersion === 4) throw new Error(`IPv6 network ${cidr} in an IPv4 file`);
    return v6Bits(addr).slice(0, len);
  }
  const bits = v4Bits(addr).slice(0, len);
  return ipVersion === 6 ? [...new Array<number>(96).fill(0), ...bits] : bits;
}

class DataWriter {
  private readonly chunks: Buffer[] = [];
  length = 0;
  /** Offsets of strings written, for pointers to them. */
  private readonly strings = new Map<string, number>();
  private readonly records = new Map<string, number>();

  /** `dedup`: strings seen before as pointers (not in the metadata, whose readers differ on them). */
  constructor(private readonly dedup = true) {}

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private control(type: number, size: number): void {
    const bytes: number[] = [];
    let sizeBits: number;
    const extra: number[] = [];
    if (size < 29) sizeBits = size;
    else if (size < 285) {
      sizeBits = 29;
      extra.push(size - 29);
    } else if (size < 65821) {
      sizeBits = 30;
      const v = size - 285;
      extra.push(v >> 8, v & 255);
    } else {
      sizeBits = 31;
      const v = size - 65821;
      extra.push((v >> 16) & 255, (v >> 8) & 255, v & 255);
    }
    if (type <= 7) bytes.push((type << 5) | sizeBits);
    else bytes.push(sizeBits, type - 7);
    this.push(Buffer.from([...bytes, ...extra]));
  }

  private pointer(offset: number): void {
    if (offset < 2048) this.push(Buffer.from([0x20 | (offset >> 8), offset & 255]));
    else if (offset < 526336) {
      const v = offset - 2048;
      this.push(Buffer.from([0x28 | (v >> 16), (v >> 8) & 255, v & 255]));
    } else if (offset < 134744064) {
      const v = offset - 526336;
      this.push(Buffer.from([0x30 | (v >> 24), (v >> 16) & 255, (v >> 8) & 255, v & 255]));
    } else {
      const b = Buffer.alloc(5);
      b[0] = 0x38;
      b.writeUInt32BE(offset, 1);
      this.push(b);
    }
  }

  private uint(type: number, v: number, maxBytes: number): void {
    const bytes: number[] = [];
    let x = v;
    while (x > 0) {
      bytes.unshift(x % 256);
      x = Math.floor(x / 256);
    }
    if (bytes.length > maxBytes) throw new Error(`${v} does not fit`);
    this.control(type, bytes.length);
    this.push(Buffer.from(bytes));
  }

  value(v: MmdbValue): void {
    if (typeof v === 'string') {
      const seen = this.dedup ? this.strings.get(v) : undefined;
      if (seen !== undefined) {
        this.pointer(seen);
        return;
      }
      const b = Buffer.from(v, 'utf8');
      this.strings.set(v, this.length);
      this.control(2, b.length);
      this.push(b);
    } else if (typeof v === 'boolean') this.control(14, v ? 1 : 0);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= 0 && v <= 0xffff) this.uint(5, v, 2);
      else if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) this.uint(6, v, 4);
      else if (Number.isInteger(v) && v > 0xffffffff) this.uint(9, v, 8);
      else {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(v);
        this.control(3, 8);
        this.push(b);
      }
    } else if (Array.isArray(v)) {
      this.control(11, v.length);
      for (const x of v) this.value(x);
    } else if ('float' in v && typeof v.float === 'number' && Object.keys(v).length === 1) {
      const b = Buffer.alloc(4);
      b.writeFloatBE(v.float);
      this.control(15, 4);
      this.push(b);
    } else {
      const entries = Object.entries(v as { readonly [key: string]: MmdbValue });
      this.control(7, entries.length);
      for (const [k, x] of entries) {
        this.value(k);
        this.value(x);
      }
    }
  }

  /** Writes a record once; the same record again gets the first one's offset. */
  record(r: { readonly [key: string]: MmdbValue }): number {
    const key = JSON.stringify(r);
    const seen = this.records.get(key);
    if (seen !== undefined) return seen;
    const at = this.length;
    this.value(r);
    this.records.set(key, at);
    return at;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The bytes of an MMDB file holding `networks`. */
export function writeMmdb(networks: readonly MmdbNetwork[], options: MmdbWriteOptions): Buffer {
  const data = new DataWriter();
  const root: Node = { left: null, right: null };
  for (const n of networks) {
    const bits = networkBits(n.cidr, options.ipVersion);
    const at = data.record(n.record);
    if (bits.length === 0) throw new Error('a /0 network is not supported');
    let node = root;
    for (let i = 0; i < bits.length - 1; i++) {
      const side = bits[i] === 0 ? 'left' : 'right';
      const next = node[side];
      if (next === null || typeof next === 'number') {
        // Split a shorter network's data into both halves below it.
        const child: Node = { left: next, right: next };
        node[side] = child;
        node = child;
      } else node = next;
    }
    node[bits[bits.length - 1] === 0 ? 'left' : 'right'] = at;
  }
  // Number the nodes breadth first.
  const order: Node[] = [];
  const index = new Map<Node, number>();
  const queue: Node[] = [root];
  while (queue.length > 0) {
    const n = queue.shift()!;
    index.set(n, order.length);
    order.push(n);
    for (const c of [n.left, n.right]) if (c !== null && typeof c !== 'number') queue.push(c);
  }
  const count = order.length;
  const recordValue = (c: Node | number | null): number =>
    c === null ? count : typeof c === 'number' ? count + 16 + c : index.get(c)!;
  const nodeBytes = options.recordSize / 4;
  const tree = Buffer.alloc(count * nodeBytes);
  order.forEach((n, i) => {
    const l = recordValue(n.left);
    const r = recordValue(n.right);
    const o = i * nodeBytes;
    if (options.recordSize === 24) {
      tree.writeUIntBE(l, o, 3);
      tree.writeUIntBE(r, o + 3, 3);
    } else if (options.recordSize === 28) {
      tree.writeUIntBE(l & 0xffffff, o, 3);
      tree[o + 3] = ((l >>> 24) << 4) | (r >>> 24);
      tree.writeUIntBE(r & 0xffffff, o + 4, 3);
    } else {
      tree.writeUInt32BE(l, o);
      tree.writeUInt32BE(r, o + 4);
    }
  });
  const meta = new DataWriter(false);
  meta.value({
    node_count: count,
    record_size: options.recordSize,
    ip_version: options.ipVersion,
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: options.buildEpoch ?? 1_767_225_600,
    description: { en: options.description ?? `${options.databaseType} (test)` },
  });
  const marker = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);
  return Buffer.concat([tree, Buffer.alloc(16), data.bytes(), marker, meta.bytes()]);
}
