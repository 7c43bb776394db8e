/**
 * IPv4 / IPv6 addresses in a compact numeric form: an IPv4 address is one unsigned 32-bit number, an IPv6
 * address four (most significant word first). IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are folded to
 * IPv4, because every lookup (GeoIP, ASN, service tags, labels) must treat them as the IPv4 address they
 * carry: an MMDB returns nothing for the mapped form.
 */

export interface Ipv4Address {
  readonly family: 4;
  /** The address as an unsigned 32-bit integer. */
  readonly value: number;
}

export interface Ipv6Address {
  readonly family: 6;
  /** Bits 127..96. */
  readonly w0: number;
  /** Bits 95..64. */
  readonly w1: number;
  /** Bits 63..32. */
  readonly w2: number;
  /** Bits 31..0. */
  readonly w3: number;
}

export type IpAddress = Ipv4Address | Ipv6Address;
export type IpFamily = 4 | 6;

/** Bits in an address of each family. */
export function familyBits(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

const DOT = 46;
const COLON = 58;

/** Parses a dotted quad (no leading zeros, each part 0..255) in text[from, to); -1 if it is not one. */
function parseDottedQuad(text: string, from: number, to: number): number {
  let value = 0;
  let parts = 0;
  let i = from;
  while (i < to) {
    let part = 0;
    let digits = 0;
    const start = i;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      part = part * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || part > 255) return -1;
    if (digits > 1 && text.charCodeAt(start) === 48) return -1;
    value = value * 256 + part;
    parts++;
    if (i === to) break;
    if (text.charCodeAt(i) !== DOT || parts === 4) return -1;
    i++;
    if (i === to) return -1;
  }
  return parts === 4 ? value : -1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses IPv6 text (RFC 4291 forms: `::` compression, an embedded dotted quad at the end; a `%zone`
 * suffix is ignored) into eight 16-bit groups; false if it is not an IPv6 address.
 */
function parseIpv6Groups(text: string, groups: number[]): boolean {
  let end = text.indexOf('%');
  if (end < 0) end = text.length;
  if (end === 0) return false;
  let i = 0;
  let count = 0;
  let gap = -1;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
    if (i === end) {
      for (let k = 0; k < 8; k++) groups[k] = 0;
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    // An embedded IPv4 address may end the text when at most six groups precede it.
    let j = i;
    let value = 0;
    let digits = 0;
    while (j < end) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
      j++;
    }
    if (j < end && text.charCodeAt(j) === DOT) {
      if (count > 6) return false;
      const v4 = parseDottedQuad(text, i, end);
      if (v4 < 0) return false;
      groups[count++] = Math.floor(v4 / 65536);
      groups[count++] = v4 % 65536;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    groups[count++] = value;
    i = j;
    if (i === end) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0) return count === 8;
  if (count > 7) return false;
  const tail = count - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k] ?? 0;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

const scratch: number[] = [0, 0, 0, 0, 0, 0, 0, 0];

/** Parses an IPv4 or IPv6 address; null when the text is not one. IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): IpAddress | null {
  if (text.length === 0 || text.length > 64) return null;
  if (text.indexOf(':') < 0) {
    const v = parseDottedQuad(text, 0, text.length);
    return v < 0 ? null : { family: 4, value: v };
  }
  const g = scratch;
  if (!parseIpv6Groups(text, g)) return null;
  const g0 = g[0] ?? 0;
  const g1 = g[1] ?? 0;
  const g2 = g[2] ?? 0;
  const g3 = g[3] ?? 0;
  const g4 = g[4] ?? 0;
  const g5 = g[5] ?? 0;
  const g6 = g[6] ?? 0;
  const g7 = g[7] ?? 0;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return { family: 4, value: g6 * 65536 + g7 };
  }
  return { family: 6, w0: g0 * 65536 + g1, w1: g2 * 65536 + g3, w2: g4 * 65536 + g5, w3: g6 * 65536 + g7 };
}

/**
 * An IPv4 address written as ASCII at b[from, to) in the form parseIp reads (four decimal octets, no
 * leading zeros), as its 32-bit value; -1 for anything else (the caller falls back to the text).
 */
export function ipv4OfBytes(b: Uint8Array, from: number, to: number): number {
  if (to - from < 7 || to - from > 15) return -1;
  let value = 0;
  let parts = 0;
  let i = from;
  for (;;) {
    const start = i;
    let part = 0;
    while (i < to) {
      const c = b[i]!;
      if (c < 48 || c > 57) break;
      part = part * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || part > 255 || (digits > 1 && b[start] === 48)) return -1;
    value = value * 256 + part;
    parts++;
    if (i === to) return parts === 4 ? value : -1;
    if (b[i] !== DOT || parts === 4) return -1;
    i++;
  }
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952 canonical text: lower case, longest run (≥ 2) of zero groups compressed. */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return formatIpv4(address.value);
  const words = [address.w0, address.w1, address.w2, address.w3];
  const groups: number[] = [];
  for (const w of words) groups.push(Math.floor(w / 65536), w % 65536);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** The address as an unsigned integer (for building tables, not for the per-address hot path). */
export function ipToBigInt(address: IpAddress): bigint {
  if (address.family === 4) return BigInt(address.value);
  return (
    (BigInt(address.w0) << 96n) |
    (BigInt(address.w1) << 64n) |
    (BigInt(address.w2) << 32n) |
    BigInt(address.w3)
  );
}

export function bigIntToIp(family: IpFamily, value: bigint): IpAddress {
  if (family === 4) return { family: 4, value: Number(value & 0xffffffffn) };
  return {
    family: 6,
    w0: Number((value >> 96n) & 0xffffffffn),
    w1: Number((value >> 64n) & 0xffffffffn),
    w2: Number((value >> 32n) & 0xffffffffn),
    w3: Number(value & 0xffffffffn),
  };
}

/** A CIDR block: the network address as an unsigned integer and the prefix length. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly length: number;
}

export interface ParsedCidr extends Cidr {
  /** The text had bits set after the prefix (e.g. `10.0.0.5/24`); `network` has them cleared. */
  readonly hostBitsSet: boolean;
}

/** All-ones mask of the host part of a prefix. */
export function hostMask(family: IpFamily, length: number): bigint {
  return (1n << BigInt(familyBits(family) - length)) - 1n;
}

/** Last address of a block. */
export function cidrLast(cidr: Cidr): bigint {
  return cidr.network | hostMask(cidr.family, cidr.length);
}

/**
 * Parses `address/length`, or a bare address as a host prefix (/32, /128); null if malformed. An
 * IPv4-mapped IPv6 prefix of length ≥ 96 becomes the IPv4 prefix it maps.
 */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addrText);
  if (address === null) return null;
  const mappedV4 = address.family === 4 && addrText.indexOf(':') >= 0;
  let length: number;
  if (slash < 0) {
    length = familyBits(address.family);
  } else {
    const lenText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return null;
    length = Number(lenText);
    if (mappedV4) {
      if (length < 96 || length > 128) return null;
      length -= 96;
    }
    if (length > familyBits(address.family)) return null;
  }
  if (address.family === 4) {
    const size = 2 ** (32 - length);
    const host = address.value % size;
    return { family: 4, network: BigInt(address.value - host), length, hostBitsSet: host !== 0 };
  }
  const value = ipToBigInt(address);
  const network = value & ~hostMask(address.family, length);
  return { family: address.family, network, length, hostBitsSet: network !== value };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(bigIntToIp(cidr.family, cidr.network))}/${cidr.length}`;
}
