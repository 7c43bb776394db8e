/**
 * MurmurHash3 x86 128-bit over the UTF-8 bytes of a string. Pure, deterministic across platforms, and
 * documented, so a consumer in another language can recompute summary ids (docs/summary-schema.md).
 */

const encodeBuffer = { bytes: new Uint8Array(1024) };

/** UTF-8 encode into a reused buffer; returns the byte length. */
function encodeUtf8(text: string): number {
  let bytes = encodeBuffer.bytes;
  if (bytes.length < text.length * 3) {
    bytes = new Uint8Array(text.length * 3 + 16);
    encodeBuffer.bytes = bytes;
  }
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) bytes[n++] = c;
    else if (c < 0x800) {
      bytes[n++] = 0xc0 | (c >> 6);
      bytes[n++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        bytes[n++] = 0xf0 | (c >> 18);
        bytes[n++] = 0x80 | ((c >> 12) & 63);
        bytes[n++] = 0x80 | ((c >> 6) & 63);
        bytes[n++] = 0x80 | (c & 63);
      } else {
        bytes[n++] = 0xef;
        bytes[n++] = 0xbf;
        bytes[n++] = 0xbd;
      }
    } else {
      bytes[n++] = 0xe0 | (c >> 12);
      bytes[n++] = 0x80 | ((c >> 6) & 63);
      bytes[n++] = 0x80 | (c & 63);
    }
  }
  return n;
}

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function fmix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

/** 32 lowercase hex characters: h1 h2 h3 h4 of MurmurHash3_x86_128 (seed 0), each big-endian. */
export function murmur128Hex(text: string, seed = 0): string {
  const len = encodeUtf8(text);
  const h = lanes;
  h[0] = seed;
  h[1] = seed;
  h[2] = seed;
  h[3] = seed;
  const blocks = len - (len % 16);
  mixBlocks(encodeBuffer.bytes, 0, blocks, h);
  finish(encodeBuffer.bytes, blocks, len, len, h);
  return hex32(h[0]!) + hex32(h[1]!) + hex32(h[2]!) + hex32(h[3]!);
}

/** The four lanes after the whole 16-byte blocks of a prefix; see murmur128HexInto. */
export interface MurmurPrefix {
  readonly h: Int32Array;
  /** Bytes hashed (a multiple of 16). */
  readonly length: number;
}

/** State after hashing bytes[start, end) (end − start a multiple of 16), seed 0. */
export function murmurPrefix(bytes: Uint8Array, start: number, end: number): MurmurPrefix {
  if ((end - start) % 16 !== 0) throw new RangeError('a murmur prefix must be whole 16-byte blocks');
  const h = new Int32Array(4);
  mixBlocks(bytes, start, end, h);
  return { h, length: end - start };
}

const lanes = new Int32Array(4);
const HEX_BYTES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const t = HEX[i]!;
  HEX_BYTES[2 * i] = t.charCodeAt(0);
  HEX_BYTES[2 * i + 1] = t.charCodeAt(1);
}

/**
 * MurmurHash3_x86_128 of (prefix bytes, then bytes[start, end)), written as the 32 lowercase hex ASCII
 * bytes murmur128Hex would return, at out[at, at + 32). With a null prefix it hashes bytes[start, end)
 * alone. Same values as murmur128Hex over the same UTF-8 bytes.
 */
export function murmur128HexInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  prefix: MurmurPrefix | null,
  out: Uint8Array,
  at: number,
): void {
  const h = lanes;
  if (prefix === null) {
    h[0] = 0;
    h[1] = 0;
    h[2] = 0;
    h[3] = 0;
  } else h.set(prefix.h);
  const n = end - start;
  const blocksEnd = start + n - (n % 16);
  mixBlocks(bytes, start, blocksEnd, h);
  finish(bytes, blocksEnd, end, n + (prefix === null ? 0 : prefix.length), h);
  let o = at;
  for (let lane = 0; lane < 4; lane++) {
    const x = h[lane]!;
    for (let shift = 24; shift >= 0; shift -= 8) {
      const byte = (x >>> shift) & 255;
      out[o++] = HEX_BYTES[2 * byte]!;
      out[o++] = HEX_BYTES[2 * byte + 1]!;
    }
  }
}

/** The body of MurmurHash3_x86_128: whole 16-byte blocks of b[from, to) into the lanes h. */
function mixBlocks(b: Uint8Array, from: number, to: number, h: Int32Array): void {
  let h1 = h[0]!;
  let h2 = h[1]!;
  let h3 = h[2]!;
  let h4 = h[3]!;
  for (let i = from; i < to; i += 16) {
    let k1 = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    let k2 = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    let k3 = b[i + 8]! | (b[i + 9]! << 8) | (b[i + 10]! << 16) | (b[i + 11]! << 24);
    let k4 = b[i + 12]! | (b[i + 13]! << 8) | (b[i + 14]! << 16) | (b[i + 15]! << 24);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19) + h2;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17) + h3;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15) + h4;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13) + h1;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }
  h[0] = h1;
  h[1] = h2;
  h[2] = h3;
  h[3] = h4;
}

/** Tail b[from, to) (< 16 bytes) and finalization, for a total length of len bytes. */
function finish(b: Uint8Array, from: number, to: number, len: number, h: Int32Array): void {
  let h1 = h[0]!;
  let h2 = h[1]!;
  let h3 = h[2]!;
  let h4 = h[3]!;
  // Tail: the last (len % 16) bytes, little-endian into four lanes, each mixed only if it has bytes.
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (let i = from; i < to; i++) {
    const k = i - from;
    const v = b[i]! << (8 * (k & 3));
    if (k < 4) t0 ^= v;
    else if (k < 8) t1 ^= v;
    else if (k < 12) t2 ^= v;
    else t3 ^= v;
  }
  const rest = to - from;
  if (rest > 12) h4 ^= Math.imul(rotl(Math.imul(t3, C4), 18), C1);
  if (rest > 8) h3 ^= Math.imul(rotl(Math.imul(t2, C3), 17), C4);
  if (rest > 4) h2 ^= Math.imul(rotl(Math.imul(t1, C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(t0, C1), 15), C2);
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h[0] = h1;
  h[1] = h2;
  h[2] = h3;
  h[3] = h4;
}
