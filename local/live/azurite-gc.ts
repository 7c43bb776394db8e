/**
 * Azurite's in-memory blob store frees the data of deleted blobs in a mark-and-sweep GC that runs every
 * 10 minutes, and its sweep removes unreferenced extents one at a time from a Loki collection, each removal
 * scanning the collection. In a live run the app stages and deletes two blobs per run, so after 10 minutes
 * one sweep had thousands of extents to remove and blocked the whole process (app, hub, screen) for about
 * 150 s (measured at the default 4 + 4 NICs every 2 s). Sweeping every few seconds keeps each sweep small
 * (tens of milliseconds).
 *
 * local/azurite.ts has no setting for the interval, so the live command shortens it for the GC managers
 * started in this process. It only touches Azurite's BlobGCManager (a devDependency this command already
 * runs on); when that class is not where it is expected, nothing changes.
 */

interface GcManagerPrototype {
  start?: (...args: unknown[]) => unknown;
  flowlogLiveGcMs?: number;
}

/** Makes every Azurite blob GC manager started from now on sweep at least every `ms`. Idempotent. */
export function shortenAzuriteGcInterval(ms: number): boolean {
  let proto: GcManagerPrototype | undefined;
  try {
    const mod = require('azurite/dist/src/blob/gc/BlobGCManager') as { default?: { prototype?: unknown } };
    proto = mod.default?.prototype as GcManagerPrototype | undefined;
  } catch {
    return false;
  }
  const start = proto?.start;
  if (!proto || typeof start !== 'function') return false;
  if (proto.flowlogLiveGcMs !== undefined) {
    proto.flowlogLiveGcMs = Math.min(proto.flowlogLiveGcMs, ms);
    return true;
  }
  proto.flowlogLiveGcMs = ms;
  const patched = proto;
  proto.start = function (this: { gcIntervalInMS?: unknown }, ...args: unknown[]) {
    // The sweep loop reads the interval after each sweep, so setting it before start() is enough.
    if (typeof this.gcIntervalInMS === 'number' && patched.flowlogLiveGcMs !== undefined)
      this.gcIntervalInMS = Math.min(this.gcIntervalInMS, patched.flowlogLiveGcMs);
    return start.apply(this, args);
  };
  return true;
}
