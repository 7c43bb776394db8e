/**
 * The count-once rule for flows that Azure logs twice (docs/double-logging.md): the same rule that
 * `Flows(start, end, countOnce = true)` applies in ADX (deploy/generate/functions.ts builds its KQL from the
 * constants below), as a pure function over summary rows, so the local dashboard and the tests count the
 * same way ADX does.
 *
 * 1. Log type per NIC and hour: a NIC (`macAddress`) that has VNet flow log rows in a UTC hour counts only
 *    its VNet rows in that hour; its NSG flow log rows of that hour are dropped. Hours where the NIC has no
 *    VNet rows keep their NSG rows.
 * 2. Source per flow: a flow is the FLOW_KEY below (NIC, window, direction, protocol, addresses, port); a
 *    source is one flow log target and ACL (`resourceId`, `aclId`: two NSGs of one NIC are two sources).
 *    Deny rows count from every source (a tuple denied by the first NSG on the path never reaches the
 *    second one, so each denied tuple is in one log only). Allow rows count from one source: the one with
 *    the fewest allowed tuples (the last NSG on the path sees only what the first one let through), ties
 *    broken by the most allowed bytes (NSG v2 over v1), then by the smallest `resourceId|aclId` text.
 *
 * Every kept row is a row as logged; nothing is merged or rescaled. Different NICs are never merged.
 */

import type { FlowSummary } from '../summary/schema';
import { epochMs } from './epoch';

/** The fields the rule reads; any row type with them (FlowSummary, Flows() rows) can be filtered. */
export type DoubleLoggingRow = Pick<
  FlowSummary,
  | 'logType'
  | 'macAddress'
  | 'windowStart'
  | 'direction'
  | 'protocol'
  | 'srcIp'
  | 'dstIp'
  | 'dstPort'
  | 'resourceId'
  | 'aclId'
  | 'decision'
  | 'tuples'
  | 'bytesSrcToDst'
  | 'bytesDstToSrc'
>;

/** The log type that wins a NIC-hour logged by both. */
export const PREFERRED_LOG_TYPE = 'vnet';
/** The unit of step 1. An hour, not the minute window: see docs/double-logging.md ("Why the hour"). */
export const LOG_TYPE_UNIT_MS = 3_600_000;
/** What makes two rows the same flow in step 2 (in the order the KQL key lists them). */
export const FLOW_KEY = [
  'macAddress',
  'windowStart',
  'direction',
  'protocol',
  'srcIp',
  'dstIp',
  'dstPort',
] as const satisfies readonly (keyof DoubleLoggingRow)[];
/** Joins `resourceId` and `aclId` into a source name (ARM ids and GUIDs never contain it). */
export const SOURCE_SEPARATOR = '|';
/** Hex digits of each number in a source's rank (Kusto `tohex(x, 16)`: a long, zero-padded). */
export const RANK_HEX_DIGITS = 16;
/** Kusto's max long: `MAX_LONG - bytes` turns "most bytes" into "smallest" for min(). */
export const MAX_LONG = 9223372036854775807n;

/** Why a row is or is not counted. */
export type Verdict =
  /** Counted. */
  | 'counted'
  /** NSG row of a NIC-hour that has VNet rows. */
  | 'nsg-under-vnet'
  /** Allow row of a flow whose allowed tuples are counted from another source. */
  | 'allow-from-other-source';

/** `resourceId|aclId`, the name of a source (aclId null for NSG rows, as Kusto's empty string). */
export function sourceOf(row: Pick<DoubleLoggingRow, 'resourceId' | 'aclId'>): string {
  return `${row.resourceId}${SOURCE_SEPARATOR}${row.aclId ?? ''}`;
}

function hex(value: bigint): string {
  return value.toString(16).padStart(RANK_HEX_DIGITS, '0');
}

/**
 * A source's rank within one flow, the text Flows() takes the min() of: fewest allowed tuples, then most
 * allowed bytes, then the source name. Exactly the KQL `strcat(tohex(allowed, 16), tohex(MAX_LONG -
 * allowedBytes, 16), source)`, so both pick the same source (ordinal string order).
 */
export function sourceRank(allowedTuples: number, allowedBytes: number, source: string): string {
  return `${hex(BigInt(allowedTuples))}${hex(MAX_LONG - BigInt(allowedBytes))}${source}`;
}

function hourOf(row: DoubleLoggingRow): number {
  const t = epochMs(row.windowStart);
  return Math.floor(t / LOG_TYPE_UNIT_MS) * LOG_TYPE_UNIT_MS;
}

function nicHourKey(row: DoubleLoggingRow): string {
  return `${row.macAddress}\u0000${hourOf(row)}`;
}

/** The flow a row belongs to; windowStart by instant, so differently written equal times match. */
function flowKeyOf(row: DoubleLoggingRow): string {
  return FLOW_KEY.map((f) => (f === 'windowStart' ? String(epochMs(row.windowStart)) : String(row[f]))).join(
    '\u0000',
  );
}

/** The verdict on each row, in input order. Rows are expected deduplicated by id (Flows() reads the dedup view). */
export function judgeDoubleLogging(rows: readonly DoubleLoggingRow[]): Verdict[] {
  const vnetNicHours = new Set<string>();
  for (const r of rows) if (r.logType === PREFERRED_LOG_TYPE) vnetNicHours.add(nicHourKey(r));

  const verdicts: Verdict[] = rows.map((r) =>
    r.logType !== PREFERRED_LOG_TYPE && vnetNicHours.has(nicHourKey(r)) ? 'nsg-under-vnet' : 'counted',
  );

  // Step 2 over the rows step 1 kept: allowed tuples and bytes per flow and source.
  const perFlow = new Map<string, Map<string, { tuples: number; bytes: number }>>();
  const keys: (string | undefined)[] = rows.map((r, i) => {
    if (verdicts[i] !== 'counted') return undefined;
    const key = flowKeyOf(r);
    let sources = perFlow.get(key);
    if (sources === undefined) {
      sources = new Map();
      perFlow.set(key, sources);
    }
    const source = sourceOf(r);
    let acc = sources.get(source);
    if (acc === undefined) {
      acc = { tuples: 0, bytes: 0 };
      sources.set(source, acc);
    }
    if (r.decision === 'Allow') {
      acc.tuples += r.tuples;
      acc.bytes += r.bytesSrcToDst + r.bytesDstToSrc;
    }
    return key;
  });
  const allowSource = new Map<string, string>();
  for (const [key, sources] of perFlow) {
    let best: string | undefined;
    let bestSource = '';
    for (const [source, acc] of sources) {
      const rank = sourceRank(acc.tuples, acc.bytes, source);
      if (best === undefined || rank < best) {
        best = rank;
        bestSource = source;
      }
    }
    allowSource.set(key, bestSource);
  }
  rows.forEach((r, i) => {
    const key = keys[i];
    if (key === undefined || r.decision !== 'Allow') return;
    if (allowSource.get(key) !== sourceOf(r)) verdicts[i] = 'allow-from-other-source';
  });
  return verdicts;
}

/**
 * The rows to count, in input order: Flows(start, end)'s default (countOnce = true). Same signature as the
 * local dashboard's CountOnceRule (domain/analysis/panels.ts).
 */
export function countOnce<R extends DoubleLoggingRow>(rows: readonly R[]): R[] {
  const verdicts = judgeDoubleLogging(rows);
  return rows.filter((_, i) => verdicts[i] === 'counted');
}
