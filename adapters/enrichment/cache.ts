/**
 * The on-disk cache of built enrichment tables (the parsed ASN CSV, the service-tags index), by default
 * in `$TMPDIR/flowlog-enrichment`. Each entry is one file named `<kind>-<key>.bin`, where the key is a
 * hash of what the table was built from; a reader that cannot use a file just builds the table again.
 * Writes go through a temporary file and a rename, so a concurrent reader never sees half a file, and
 * only the newest few files of each kind are kept (every checkout, data version or tags week adds one).
 */

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorText } from './mmdb';

export const DEFAULT_CACHE_DIR = join(tmpdir(), 'flowlog-enrichment');

/** Files of one kind kept after a write (the newest by modification time). */
export const CACHE_FILES_KEPT = 4;

export type CacheKind = 'asn' | 'service-tags';

/** A 24-hex-digit key over the given parts. */
export function cacheKey(...parts: readonly (string | Uint8Array)[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p).update('\0');
  return hash.digest('hex').slice(0, 24);
}

export function cacheFile(dir: string, kind: CacheKind, key: string): string {
  return join(dir, `${kind}-${key}.bin`);
}

/** The cached bytes, or null when there is no readable file. A hit counts as recent use for pruning. */
export async function readCached(dir: string, kind: CacheKind, key: string): Promise<Buffer | null> {
  const file = cacheFile(dir, kind, key);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return null;
  }
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  return bytes;
}

/**
 * Writes an entry and drops the oldest files of its kind beyond CACHE_FILES_KEPT. Returns what happened,
 * for the data source's details (`wrote …` or `could not write … (reason)`); never throws: a cache that
 * cannot be written only costs the next start-up the build.
 */
export async function writeCached(
  dir: string,
  kind: CacheKind,
  key: string,
  bytes: Uint8Array,
): Promise<string> {
  const file = cacheFile(dir, kind, key);
  try {
    await mkdir(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    return `could not write ${file} (${errorText(e)})`;
  }
  await pruneCache(dir, kind);
  return `wrote ${file}`;
}

async function pruneCache(dir: string, kind: CacheKind): Promise<void> {
  try {
    const names = (await readdir(dir)).filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.bin'));
    if (names.length <= CACHE_FILES_KEPT) return;
    const dated = await Promise.all(
      names.map(async (n) => ({ path: join(dir, n), mtime: (await stat(join(dir, n))).mtimeMs })),
    );
    dated.sort((a, b) => b.mtime - a.mtime);
    await Promise.all(dated.slice(CACHE_FILES_KEPT).map((f) => unlink(f.path)));
  } catch {
    // Another process pruned at the same time, or the folder is read-only: harmless.
  }
}
