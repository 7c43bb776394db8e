/**
 * Names of the ADX objects and the column sets derived from the summary schema. The Bicep template,
 * the scripts, the functions and the dashboards all use these.
 */
import { adxRouting } from '../../common/names';
import { type FieldSpec, GROUP_FIELDS, ROW_FIELDS, SUMMARY_FIELDS } from '../../domain/summary/schema';

/** Names and tunables of every ADX object; the Bicep template and the dashboards use the same names. */
export const ADX = {
  /** Default database name (the Bicep template creates it under this name). */
  database: 'flowlog',
  /** Summary rows (ROW_FIELDS): the emitter routes row events here (common/names.ts adxRouting.rows). */
  table: adxRouting.rows.table,
  mapping: adxRouting.rows.mapping,
  dedupView: 'FlowSummariesDedup',
  hourlyView: 'FlowSummariesHourly',
  /** Flow-group lines (GROUP_FIELDS): the emitter routes group events here (adxRouting.groups). */
  groupsTable: adxRouting.groups.table,
  groupsMapping: adxRouting.groups.mapping,
  groupsDedupView: 'FlowGroupsDedup',
  folder: 'flowlog',
  /**
   * How far back (in ingestion time) the dedup view looks for an earlier copy of an id. Covers Event
   * Grid redelivery (24 h), the sweep and same-day reruns; older replays need a longer lookback.
   */
  dedupLookback: '2d',
  /**
   * The same for the flow groups' dedup view. Groups are few next to rows, so it looks back as long as
   * the minute rows live: a group sent again within that time never doubles the rows `Flows()` joins it to.
   */
  groupsDedupLookback: '30d',
  /** Queries over a longer range read the hourly rollup instead of the minute windows. */
  hourlyThreshold: '2d',
  /**
   * The groups keep at least as long as the rows that name them: the raw groups table as the raw rows,
   * the groups' dedup view as the hourly rollup (whose rows name groups too).
   */
  retention: {
    table: '14d',
    dedupView: '30d',
    hourlyView: '365d',
    groupsTable: '14d',
    groupsDedupView: '365d',
  },
  /** Queued-ingestion fallback when streaming is off on the cluster (documented low-latency value). */
  batchingTimeSpan: '00:00:30',
} as const;

const fields: readonly FieldSpec[] = SUMMARY_FIELDS;

/** Names of the fields a row leaves to its flow group's line (the `FlowGroups` columns but `group`). */
export const GROUP_ONLY = new Set(fields.filter((f) => f.table === 'group').map((f) => f.name));

/** The window length is replaced by the hour in the rollup; the identity fields do not survive it. */
const ROLLUP_DROPPED_KEYS = new Set(['windowSeconds']);

/**
 * Fields the hourly rollup groups by: the row's flow group (which stands for the group fields), then the
 * row's own key fields (window start first, rounded to the hour).
 */
export function rollupKeyFields(): FieldSpec[] {
  return [
    ...ROW_FIELDS.filter((f) => f.name === 'group'),
    ...ROW_FIELDS.filter((f) => f.group === 'key' && !ROLLUP_DROPPED_KEYS.has(f.name)),
  ];
}

/** Columns common to the dedup view and the hourly rollup: what `Flows()` returns before its extends. */
export function flowColumns(): string[] {
  return fields.filter((f) => f.group !== 'identity' && !ROLLUP_DROPPED_KEYS.has(f.name)).map((f) => f.name);
}

/** The group fields `Flows()` joins back onto the rows (those of flowColumns()). */
export function joinedGroupColumns(): string[] {
  const wanted = new Set(flowColumns());
  return GROUP_FIELDS.filter((f) => f.name !== 'group' && wanted.has(f.name)).map((f) => f.name);
}

/** The JSON ingestion mapping entries of a table: one per field, path `$.name`. */
export function mappingEntries(of: readonly FieldSpec[] = ROW_FIELDS): { column: string; path: string }[] {
  return of.map((f) => ({ column: f.name, path: `$.${f.name}` }));
}
