/** Windowing: which window a tuple falls in, and its ISO-8601 label. */

/** Values at or above this are epoch milliseconds (13 digits); below, epoch seconds (10 digits). */
const MILLISECONDS_THRESHOLD = 1e11;

/** Tuple timestamp in whole epoch seconds, whichever unit it was written in. */
export function toEpochSeconds(raw: number): number {
  return raw >= MILLISECONDS_THRESHOLD ? Math.floor(raw / 1000) : raw;
}

/** floor(seconds / window) × window. */
export function windowStartSeconds(epochSeconds: number, windowSeconds: number): number {
  return epochSeconds - (((epochSeconds % windowSeconds) + windowSeconds) % windowSeconds);
}

const isoCache = new Map<number, string>();

/** `YYYY-MM-DDTHH:MM:SSZ` (no fraction), cached because a blob has few distinct windows. */
export function isoSeconds(epochSeconds: number): string {
  let iso = isoCache.get(epochSeconds);
  if (iso === undefined) {
    if (isoCache.size > 4096) isoCache.clear();
    iso = `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}Z`;
    isoCache.set(epochSeconds, iso);
  }
  return iso;
}
