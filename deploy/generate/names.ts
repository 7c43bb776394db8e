/**
 * Names of the ADX objects and the column sets derived from the summary schema. The Bicep template,
 * the scripts, the functions and the dashboards all use these.
 */
import { type FieldSpec, SUMMARY_FIELDS } from '../../domain/summary/schema';

/** Names and tunables of every ADX object; the Bicep template and the dashboards use the same names. */
export const ADX = {
  /** Default database name (the Bicep template creates it under this name). */
  database: 'flowlog',
  table: 'FlowSummaries',
  mapping: 'FlowSummariesMapping',
  dedupView: 'FlowSummariesDedup',
  hourlyView: 'FlowSummariesHourly',
  folder: 'flowlog',
  /**
   * How far back (in ingestion time) the dedup view looks for an earlier copy of an id. Covers Event
   * Grid redelivery (24 h), the sweep and same-day reruns; older replays need a longer lookback.
   */
  dedupLookback: '2d',
  /** Queries over a longer range read the hourly rollup instead of the minute windows. */
  hourlyThreshold: '2d',
  retention: { table: '14d', dedupView: '30d', hourlyView: '365d' },
  /** Queued-ingestion fallback when streaming is off on the cluster (documented low-latency value). */
  batchingTimeSpan: '00:00:30',
} as const;

const fields: readonly FieldSpec[] = SUMMARY_FIELDS;

/** The window length is replaced by the hour in the rollup; the identity fields do not survive it. */
const ROLLUP_DROPPED_KEYS = new Set(['windowSeconds']);

/** Fields the hourly rollup groups by (window start first, rounded to the hour). */
export function rollupKeyFields(): FieldSpec[] {
  return fields.filter((f) => f.group === 'key' && !ROLLUP_DROPPED_KEYS.has(f.name));
}

/** Columns common to the dedup view and the hourly rollup: what `Flows()` returns before its extends. */
export function flowColumns(): string[] {
  return fields.filter((f) => f.group !== 'identity' && !ROLLUP_DROPPED_KEYS.has(f.name)).map((f) => f.name);
}

/** The JSON ingestion mapping entries: one per contract field, path `$.name`. */
export function mappingEntries(): { column: string; path: string }[] {
  return fields.map((f) => ({ column: f.name, path: `$.${f.name}` }));
}
