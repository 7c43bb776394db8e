/**
 * A flat container of byte sections for tables that a loader caches on disk (the ASN table, the service-tags
 * index): an 8-byte magic, the section count and byte lengths, then each section padded to 4 bytes so a
 * Uint32Array can view it in place. Numbers inside sections are little-endian.
 */

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function padded(n: number): number {
  return (n + 3) & ~3;
}

export function packSections(magic: Uint8Array, sections: readonly Uint8Array[]): Uint8Array {
  if (magic.length !== 8) throw new RangeError('the magic must be 8 bytes');
  let size = 8 + 4 + 4 * sections.length;
  for (const s of sections) size += padded(s.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(magic, 0);
  view.setUint32(8, sections.length, true);
  let at = 12 + 4 * sections.length;
  sections.forEach((s, i) => {
    view.setUint32(12 + 4 * i, s.length, true);
    out.set(s, at);
    at += padded(s.length);
  });
  return out;
}

/** The sections of `packSections` output, or null if the bytes are not a whole container of `magic`. */
export function unpackSections(bytes: Uint8Array, magic: Uint8Array): Uint8Array[] | null {
  if (bytes.length < 12) return null;
  for (let i = 0; i < 8; i++) if (bytes[i] !== magic[i]) return null;
  // Copy once when the buffer is not 4-aligned, so u32 views below can share memory.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const view = new DataView(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  const count = view.getUint32(8, true);
  let at = 12 + 4 * count;
  if (at > aligned.length) return null;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(12 + 4 * i, true);
    if (at + length > aligned.length) return null;
    out.push(aligned.subarray(at, at + length));
    at += padded(length);
  }
  return at === aligned.length ? out : null;
}

/** The bytes of a Uint32Array (or Int32Array) in little-endian order. */
export function u32Bytes(values: Uint32Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, (values[i] ?? 0) >>> 0, true);
  return out;
}

/** A section as 32-bit words (a view when possible); null if its length is not a multiple of 4. */
export function sectionU32(section: Uint8Array): Uint32Array | null {
  if (section.length % 4 !== 0) return null;
  if (LITTLE_ENDIAN && section.byteOffset % 4 === 0)
    return new Uint32Array(section.buffer, section.byteOffset, section.length / 4);
  const out = new Uint32Array(section.length / 4);
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

export function sectionI32(section: Uint8Array): Int32Array | null {
  const words = sectionU32(section);
  return words === null ? null : new Int32Array(words.buffer, words.byteOffset, words.length);
}
