/**
 * A file as a Buffer whose bytes are read from disk only when first used, for MaxMind DB files.
 *
 * The MMDB reader (mmdb-lib, through `maxmind`) wants the whole database as one Buffer, and the default
 * GeoIP City data is 134 MB: reading it costs ~130 ms and 134 MB of memory at every start-up, while a
 * lookup touches about 30 tree nodes and one data record (a few KB). Here the Buffer is allocated
 * zero-filled (the OS maps such large allocations lazily: untouched pages cost no memory) and a Proxy in
 * front of it reads the 4 KiB pages that an index or one of the Buffer methods the reader uses is about
 * to touch. The file stays open, so a database replaced on disk by a rename (how updates are installed)
 * keeps answering from the file that was opened. Going through the Proxy makes a lookup ~3× slower, so
 * a user with many distinct addresses switches to the plain Buffer once most of it has been read
 * (`readAll`, see openMmdb).
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** 4 KiB pages. */
const PAGE_BITS = 12;

/** Buffer methods with a fixed width, by name: the bytes they read from `offset` on. */
const FIXED_WIDTH: ReadonlyMap<string, number> = new Map([
  ['readUInt8', 1],
  ['readUInt16BE', 2],
  ['readUInt32BE', 4],
  ['readInt32BE', 4],
  ['readFloatBE', 4],
  ['readDoubleBE', 8],
]);

export interface PagedFile {
  /** The file's bytes; pass it where a Buffer of the whole file is expected. */
  readonly buffer: Buffer;
  /** Bytes read from disk so far. */
  bytesRead(): number;
  /** Reads what is left and returns the plain Buffer behind `buffer` (no Proxy: full speed). */
  readAll(): Buffer;
  close(): void;
}

export function openPagedFile(path: string): PagedFile {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const real = Buffer.alloc(size);
  const loaded = new Uint8Array((size >>> PAGE_BITS) + 1);
  let read = 0;

  /** Reads the pages of [start, end) not read yet, each run of them with one read. */
  const ensure = (start: number, end: number): void => {
    const from = Math.max(0, Math.floor(start));
    const to = Math.min(size, Math.ceil(end));
    if (to <= from) return;
    const last = (to - 1) >>> PAGE_BITS;
    for (let page = from >>> PAGE_BITS; page <= last; page++) {
      if (loaded[page] === 1) continue;
      let runEnd = page;
      while (runEnd < last && loaded[runEnd + 1] === 0) runEnd++;
      const at = page << PAGE_BITS;
      const length = Math.min(size, (runEnd + 1) << PAGE_BITS) - at;
      let done = 0;
      while (done < length) {
        const n = readSync(fd, real, at + done, length - done, at + done);
        if (n === 0) throw new Error(`${path}: the file ended at ${at + done} (expected ${size} bytes)`);
        done += n;
      }
      read += length;
      loaded.fill(1, page, runEnd + 1);
      page = runEnd;
    }
  };

  const wrapped = new Map<string, unknown>();
  const method = (name: string, fn: (...args: never[]) => unknown): unknown => {
    let w = wrapped.get(name);
    if (w !== undefined) return w;
    const width = FIXED_WIDTH.get(name);
    const call = fn as (...args: unknown[]) => unknown;
    if (width !== undefined) {
      w = (offset = 0) => {
        ensure(offset, offset + width);
        return call.call(real, offset);
      };
    } else if (name === 'readUIntBE' || name === 'readIntBE') {
      w = (offset: number, bytes: number) => {
        ensure(offset, offset + bytes);
        return call.call(real, offset, bytes);
      };
    } else if (name === 'subarray' || name === 'slice') {
      w = (start = 0, end = size) => {
        ensure(start < 0 ? size + start : start, end < 0 ? size + end : end);
        return call.call(real, start, end);
      };
    } else if (name === 'toString') {
      w = (encoding?: BufferEncoding, start = 0, end = size) => {
        ensure(start, end);
        return call.call(real, encoding, start, end);
      };
    } else {
      // Anything else may read anywhere: read the whole file first (correct, just not lazy).
      w = (...args: unknown[]) => {
        ensure(0, size);
        return call.apply(real, args);
      };
    }
    wrapped.set(name, w);
    return w;
  };

  const buffer = new Proxy(real, {
    get(target, key) {
      if (typeof key === 'string') {
        const c = key.charCodeAt(0);
        if (c >= 48 && c <= 57) {
          const i = Number(key);
          if (Number.isInteger(i) && i < size) ensure(i, i + 1);
          return target[i];
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? method(key, value as (...args: never[]) => unknown) : value;
      }
      return Reflect.get(target, key, target);
    },
    set() {
      throw new TypeError('a paged MMDB file is read-only');
    },
  });
  return {
    buffer,
    bytesRead: () => read,
    readAll: () => {
      ensure(0, size);
      return real;
    },
    close: () => closeSync(fd),
  };
}
