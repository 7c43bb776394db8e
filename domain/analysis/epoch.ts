/**
 * Window starts as epoch milliseconds, parsed once per distinct text: the dashboard's functions read every
 * row's `windowStart` several times per call, and a store of 200,000 rows holds a few thousand distinct
 * ones (one per minute), so Date.parse was a tenth of computing the panels.
 */
const parsed = new Map<string, number>();
const MAX_CACHED = 100_000;

export function epochMs(text: string): number {
  let t = parsed.get(text);
  if (t === undefined) {
    t = Date.parse(text);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(text, t);
  }
  return t;
}
