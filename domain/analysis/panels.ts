/**
 * The local dashboard's panels, computed from summary rows the way the KQL functions of deploy/adx compute
 * them in ADX (deploy/generate/functions.ts): the same dedup by `id`, the same `Flows()` view (bytes,
 * packets, the local/remote side of each flow, `remotePublic`, the hourly rollup for ranges over 2 days)
 * and the same summarize of each function. docs/dashboard.md lists which function each panel mirrors;
 * test/dashboard/panels.test.ts holds both definitions side by side.
 *
 * Pure: rows in, plain data out. The live dashboard's server and the `flowlog report` page (in the browser)
 * both call it, so the two show the same numbers for the same rows.
 */

import type { FlowSummary } from '../summary/schema';
import { countOnce } from './double-logging';
import { epochMs } from './epoch';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Flows() reads the hourly rollup for ranges longer than this (ADX.hourlyThreshold). */
export const HOURLY_THRESHOLD_MS = 2 * 24 * HOUR;
/** BlobFreshness(lookback = 3h). */
export const FRESHNESS_LOOKBACK_MS = 3 * HOUR;

/** The flow types whose remote side is public or private (Flows(): PUBLIC_TYPES, PRIVATE_TYPES). */
const PUBLIC_TYPES = new Set(['ExternalPublic', 'MaliciousFlow', 'AzurePublic']);
const PRIVATE_TYPES = new Set(['IntraVNet', 'InterVNet', 'S2S', 'P2S', 'UnknownPrivate']);

/**
 * The rule that counts a flow logged twice only once (a flow between two logged NICs is in both NICs'
 * logs). It receives Flows()'s rows of the range, deduplicated by id, and returns the rows to count. The
 * identity (every row counts) until the project's rule is plugged in.
 */
export type CountOnceRule = (rows: readonly FlowSummary[]) => readonly FlowSummary[];

export interface PanelQuery {
  /** Window starts in [from, to), epoch milliseconds (the dashboard's time range). */
  readonly from: number;
  readonly to: number;
  /** Only this NSG / VNet flow-log target (`resourceId`, as written), or all. */
  readonly resourceId?: string | null;
  /** FlowTimeline's step; default: about 120 buckets over the range. */
  readonly stepMs?: number;
  /** Rows in each top-N table (the dashboards ask for 20). */
  readonly top?: number;
  /** PortScanSuspects's minPorts (default PORT_SCAN_MIN_PORTS, as the KQL function). */
  readonly minScanPorts?: number;
  /** `now()` for BlobFreshness: its lookback and the age of each blob's newest record. */
  readonly now: number;
  /**
   * Which rows count, as `Flows(start, end, countOnce)` decides in ADX: by default the double-logging
   * rule (domain/analysis/double-logging.ts, docs/double-logging.md), as Flows() applies it by default;
   * `null` counts every row as logged (`Flows(start, end, false)`).
   */
  readonly countOnce?: CountOnceRule | null;
}

// ---------------------------------------------------------------------------------------------- Flows()

/** One row of `Flows(start, end)`: the summary plus the columns the function extends it with. */
export interface FlowRow {
  readonly s: FlowSummary;
  /** windowStart in ms (the hour on the rollup). */
  readonly windowStart: number;
  readonly bytes: number;
  readonly packets: number;
  readonly inbound: boolean;
  readonly localIp: string;
  readonly remoteIp: string;
  readonly localLabel: string | null;
  readonly remoteLabel: string | null;
  readonly remoteCountry: string | null;
  readonly remoteCity: string | null;
  readonly remoteLat: number | null;
  readonly remoteLon: number | null;
  readonly remoteAsn: number | null;
  readonly remoteAsOrg: string | null;
  readonly remoteServiceTag: string | null;
  readonly resourceName: string;
  readonly remotePublic: boolean;
}

const empty = (v: string | null | undefined): boolean => v === null || v === undefined || v === '';

/** Kusto's ipv4_is_private: RFC 1918 ranges; null (not false) for anything that is not IPv4. */
export function ipv4IsPrivate(ip: string): boolean | null {
  let known = privateByIp.get(ip);
  if (known === undefined) {
    known = parseIpv4IsPrivate(ip);
    // (Remote addresses of a dashboard's rows: a bounded set, but an internet-facing NIC has many.)
    if (privateByIp.size >= 100_000) privateByIp.clear();
    privateByIp.set(ip, known);
  }
  return known;
}

const privateByIp = new Map<string, boolean | null>();

function parseIpv4IsPrivate(ip: string): boolean | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return null;
  const [a, b] = o as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** Flows()'s `remotePublic`: coalesce(case(public type, private type, has a country, not private), false). */
export function remoteIsPublic(
  flowType: string | null,
  remoteCountry: string | null,
  remoteIp: string,
): boolean {
  if (flowType !== null && PUBLIC_TYPES.has(flowType)) return true;
  if (flowType !== null && PRIVATE_TYPES.has(flowType)) return false;
  if (!empty(remoteCountry)) return true;
  const isPrivate = ipv4IsPrivate(remoteIp);
  return isPrivate === null ? false : !isPrivate;
}

export function flowRow(s: FlowSummary, windowStart: number): FlowRow {
  const inbound = s.direction === 'Inbound';
  const remoteIp = inbound ? s.srcIp : s.dstIp;
  const remoteCountry = inbound ? s.srcCountry : s.dstCountry;
  const parts = s.resourceId.split('/');
  return {
    s,
    windowStart,
    bytes: s.bytesSrcToDst + s.bytesDstToSrc,
    packets: s.packetsSrcToDst + s.packetsDstToSrc,
    inbound,
    localIp: inbound ? s.dstIp : s.srcIp,
    remoteIp,
    localLabel: inbound ? s.dstLabel : s.srcLabel,
    remoteLabel: inbound ? s.srcLabel : s.dstLabel,
    remoteCountry,
    remoteCity: inbound ? s.srcCity : s.dstCity,
    remoteLat: inbound ? s.srcLat : s.dstLat,
    remoteLon: inbound ? s.srcLon : s.dstLon,
    remoteAsn: inbound ? s.srcAsn : s.dstAsn,
    remoteAsOrg: inbound ? s.srcAsOrg : s.dstAsOrg,
    remoteServiceTag: inbound ? s.srcServiceTag : s.dstServiceTag,
    resourceName: parts[parts.length - 1] ?? '',
    remotePublic: remoteIsPublic(s.flowType, remoteCountry, remoteIp),
  };
}

/** Kusto's bin(t, size) for epoch milliseconds. */
export function bin(t: number, size: number): number {
  return Math.floor(t / size) * size;
}

/**
 * `Flows(start, end)` over deduplicated rows: windowStart in [start, end), or for ranges longer than 2 days
 * the hourly rollup (windowStart rounded to its hour, the range rounded out to whole hours). Then the
 * count-once rule.
 */
export function flows(
  rows: Iterable<FlowSummary>,
  from: number,
  to: number,
  countOnce?: CountOnceRule,
): { rows: FlowRow[]; hourly: boolean } {
  const pick = flowsWindow(from, to);
  const picked: { s: FlowSummary; t: number }[] = [];
  for (const s of rows) {
    const t = pick.timeOf(s);
    if (t >= 0) picked.push({ s, t });
  }
  const hourly = pick.hourly;
  let kept: readonly FlowSummary[] = picked.map((p) => p.s);
  const when = new Map<FlowSummary, number>(picked.map((p) => [p.s, p.t]));
  if (countOnce) kept = countOnce(kept);
  return {
    rows: kept.map((s) => flowRow(s, when.get(s) ?? epochMs(s.windowStart))),
    hourly,
  };
}

/**
 * Which rows `Flows(from, to)` reads: `timeOf` gives a row's windowStart (its hour on the rollup, for ranges
 * over 2 days, the range rounded out to whole hours), or -1 for a row outside the range.
 */
function flowsWindow(from: number, to: number): { hourly: boolean; timeOf: (s: FlowSummary) => number } {
  const hourly = to - from > HOURLY_THRESHOLD_MS;
  const lower = hourly ? bin(from, HOUR) : from;
  return {
    hourly,
    timeOf: (s) => {
      const start = epochMs(s.windowStart);
      const t = hourly ? bin(start, HOUR) : start;
      return t >= lower && t < to ? t : -1;
    },
  };
}

/** The first window start and the end of the last window of the rows (ms), or null when there are none. */
export function extentOf(rows: Iterable<FlowSummary>): { from: number; to: number } | null {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const s of rows) {
    const t = epochMs(s.windowStart);
    if (t < from) from = t;
    if (t + s.windowSeconds * 1000 > to) to = t + s.windowSeconds * 1000;
  }
  return from === Number.POSITIVE_INFINITY ? null : { from, to };
}

// ---------------------------------------------------------------------------------------------- summarize

/** A group of a `summarize ... by key`: the rows in input order. */
function groupBy<K>(rows: readonly FlowRow[], key: (r: FlowRow) => K, keyText: (k: K) => string) {
  const groups = new Map<string, { key: K; rows: FlowRow[] }>();
  for (const r of rows) {
    const k = key(r);
    const text = keyText(k);
    let g = groups.get(text);
    if (!g) {
      g = { key: k, rows: [] };
      groups.set(text, g);
    }
    g.rows.push(r);
  }
  return [...groups.values()];
}

const sum = (rows: readonly FlowRow[], f: (r: FlowRow) => number): number => {
  let total = 0;
  for (const r of rows) total += f(r);
  return total;
};
const sumIf = (rows: readonly FlowRow[], f: (r: FlowRow) => number, p: (r: FlowRow) => boolean) =>
  sum(rows, (r) => (p(r) ? f(r) : 0));
/** dcount: exact here (ADX estimates it; equal for the small sets a dashboard shows). */
const dcount = <T>(rows: readonly FlowRow[], f: (r: FlowRow) => T | null): number => {
  const seen = new Set<T>();
  for (const r of rows) {
    const v = f(r);
    if (v !== null && v !== '') seen.add(v);
  }
  return seen.size;
};
/** take_any: a value of the group, here the first that is not empty. */
const takeAny = <T>(rows: readonly FlowRow[], f: (r: FlowRow) => T | null): T | null => {
  for (const r of rows) {
    const v = f(r);
    if (v !== null && v !== '') return v;
  }
  return null;
};
/** min(windowStart) as ISO text. */
const minTime = (rows: readonly FlowRow[]): string => {
  let min = Number.POSITIVE_INFINITY;
  for (const r of rows) if (r.windowStart < min) min = r.windowStart;
  return new Date(min).toISOString();
};
/** max(windowStart) as ISO text (a loop: spreading 100,000 rows into Math.max overflows the stack). */
const maxTime = (rows: readonly FlowRow[]): string => {
  let max = Number.NEGATIVE_INFINITY;
  for (const r of rows) if (r.windowStart > max) max = r.windowStart;
  return new Date(max).toISOString();
};
const makeSet = <T>(rows: readonly FlowRow[], f: (r: FlowRow) => T | null, limit: number): T[] => {
  const out = new Set<T>();
  for (const r of rows) {
    const v = f(r);
    if (v !== null && v !== '' && out.size < limit) out.add(v);
  }
  return [...out];
};
const avg = (rows: readonly FlowRow[], f: (r: FlowRow) => number | null): number | null => {
  let n = 0;
  let total = 0;
  for (const r of rows) {
    const v = f(r);
    if (v !== null) {
      n++;
      total += v;
    }
  }
  return n === 0 ? null : total / n;
};

/** `top n by col desc` (and `order by col desc`): ties in a stable order of the group key. */
function topBy<T>(items: T[], value: (x: T) => number, tie: (x: T) => string, n = Infinity): T[] {
  return items
    .sort((a, b) => value(b) - value(a) || (tie(a) < tie(b) ? -1 : tie(a) > tie(b) ? 1 : 0))
    .slice(0, n);
}

// ---------------------------------------------------------------------------------------------- panels

/** FlowTimeline(start, end, step): per bucket and decision. */
export interface TimelineRow {
  readonly windowStart: string;
  readonly decision: string;
  readonly bytes: number;
  readonly packets: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
}

export function flowTimeline(rows: readonly FlowRow[], hourly: boolean, stepMs: number): TimelineRow[] {
  const bucket = Math.max(stepMs, hourly ? HOUR : MINUTE);
  return groupBy(
    rows,
    (r) => ({ t: bin(r.windowStart, bucket), decision: r.s.decision }),
    (k) => `${k.t} ${k.decision}`,
  )
    .map((g) => ({
      windowStart: new Date(g.key.t).toISOString(),
      decision: g.key.decision,
      bytes: sum(g.rows, (r) => r.bytes),
      packets: sum(g.rows, (r) => r.packets),
      tuples: sum(g.rows, (r) => r.s.tuples),
      flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
      flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    }))
    .sort((a, b) =>
      a.windowStart < b.windowStart
        ? -1
        : a.windowStart > b.windowStart
          ? 1
          : a.decision < b.decision
            ? -1
            : 1,
    );
}

/** TopTalkers(start, end, n). */
export interface TalkerRow {
  readonly localIp: string;
  readonly bytes: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly peers: number;
  readonly label: string | null;
  readonly macAddress: string | null;
}

export function topTalkers(rows: readonly FlowRow[], n: number): TalkerRow[] {
  const out = groupBy(
    rows,
    (r) => r.localIp,
    (k) => k,
  ).map((g) => ({
    localIp: g.key,
    bytes: sum(g.rows, (r) => r.bytes),
    bytesSent: sum(g.rows, (r) => (r.inbound ? r.s.bytesDstToSrc : r.s.bytesSrcToDst)),
    bytesReceived: sum(g.rows, (r) => (r.inbound ? r.s.bytesSrcToDst : r.s.bytesDstToSrc)),
    tuples: sum(g.rows, (r) => r.s.tuples),
    flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    peers: dcount(g.rows, (r) => r.remoteIp),
    label: takeAny(g.rows, (r) => r.localLabel),
    macAddress: takeAny(g.rows, (r) => r.s.macAddress),
  }));
  return topBy(
    out,
    (x) => x.bytes,
    (x) => x.localIp,
    n,
  );
}

/** TopConversations(start, end, n). */
export interface ConversationRow {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly bytes: number;
  readonly packets: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly ports: number;
  readonly srcCountry: string | null;
  readonly dstCountry: string | null;
  readonly flowType: string | null;
}

export function topConversations(rows: readonly FlowRow[], n: number): ConversationRow[] {
  const out = groupBy(
    rows,
    (r) => [r.s.srcIp, r.s.dstIp] as const,
    (k) => `${k[0]} ${k[1]}`,
  ).map((g) => ({
    srcIp: g.key[0],
    dstIp: g.key[1],
    bytes: sum(g.rows, (r) => r.bytes),
    packets: sum(g.rows, (r) => r.packets),
    tuples: sum(g.rows, (r) => r.s.tuples),
    flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    ports: dcount(g.rows, (r) => r.s.dstPort),
    srcCountry: takeAny(g.rows, (r) => r.s.srcCountry),
    dstCountry: takeAny(g.rows, (r) => r.s.dstCountry),
    flowType: takeAny(g.rows, (r) => r.s.flowType),
  }));
  return topBy(
    out,
    (x) => x.bytes,
    (x) => `${x.srcIp} ${x.dstIp}`,
    n,
  );
}

const deniedInbound = (rows: readonly FlowRow[]) => rows.filter((r) => r.inbound && r.s.decision === 'Deny');

/** DeniedInboundBySource(start, end, n). `topPorts` (the most denied destination ports) is the dashboard's own addition. */
export interface DeniedSourceRow {
  readonly srcIp: string;
  readonly deniedFlows: number;
  readonly targets: number;
  readonly ports: number;
  readonly rules: string[];
  readonly country: string | null;
  readonly asOrg: string | null;
  readonly flowType: string | null;
  readonly lastSeen: string;
  readonly topPorts: number[];
}

export function deniedInboundBySource(rows: readonly FlowRow[], n: number): DeniedSourceRow[] {
  const out = groupBy(
    deniedInbound(rows),
    (r) => r.s.srcIp,
    (k) => k,
  ).map((g) => {
    const byPort = new Map<number, number>();
    for (const r of g.rows) byPort.set(r.s.dstPort, (byPort.get(r.s.dstPort) ?? 0) + r.s.flowsDenied);
    return {
      srcIp: g.key,
      deniedFlows: sum(g.rows, (r) => r.s.flowsDenied),
      targets: dcount(g.rows, (r) => r.localIp),
      ports: dcount(g.rows, (r) => r.s.dstPort),
      rules: makeSet(g.rows, (r) => r.s.rule, 10),
      country: takeAny(g.rows, (r) => r.s.srcCountry),
      asOrg: takeAny(g.rows, (r) => r.s.srcAsOrg),
      flowType: takeAny(g.rows, (r) => r.s.flowType),
      lastSeen: maxTime(g.rows),
      topPorts: topBy(
        [...byPort],
        (p) => p[1],
        (p) => String(p[0]).padStart(5, '0'),
        5,
      ).map((p) => p[0]),
    };
  });
  return topBy(
    out,
    (x) => x.deniedFlows,
    (x) => x.srcIp,
    n,
  );
}

/** DeniedInboundByCountry(start, end). */
export interface DeniedCountryRow {
  readonly country: string;
  readonly deniedFlows: number;
  readonly sources: number;
  readonly lat: number | null;
  readonly lon: number | null;
}

export function deniedInboundByCountry(rows: readonly FlowRow[]): DeniedCountryRow[] {
  const out = groupBy(
    deniedInbound(rows),
    (r) => (empty(r.s.srcCountry) ? '(unknown)' : (r.s.srcCountry as string)),
    (k) => k,
  ).map((g) => ({
    country: g.key,
    deniedFlows: sum(g.rows, (r) => r.s.flowsDenied),
    sources: dcount(g.rows, (r) => r.s.srcIp),
    lat: avg(g.rows, (r) => r.s.srcLat),
    lon: avg(g.rows, (r) => r.s.srcLon),
  }));
  return topBy(
    out,
    (x) => x.deniedFlows,
    (x) => x.country,
  );
}

/** TrafficByCountry(start, end). */
export interface CountryRow {
  readonly country: string;
  readonly bytes: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly malicious: number;
  readonly remoteIps: number;
  readonly lat: number | null;
  readonly lon: number | null;
}

export function trafficByCountry(rows: readonly FlowRow[]): CountryRow[] {
  const out = groupBy(
    rows.filter((r) => r.remotePublic),
    (r) => (empty(r.remoteCountry) ? '(unknown)' : (r.remoteCountry as string)),
    (k) => k,
  ).map((g) => ({
    country: g.key,
    bytes: sum(g.rows, (r) => r.bytes),
    tuples: sum(g.rows, (r) => r.s.tuples),
    flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    malicious: sumIf(
      g.rows,
      (r) => r.s.tuples,
      (r) => r.s.flowType === 'MaliciousFlow',
    ),
    remoteIps: dcount(g.rows, (r) => r.remoteIp),
    lat: avg(g.rows, (r) => r.remoteLat),
    lon: avg(g.rows, (r) => r.remoteLon),
  }));
  return topBy(
    out,
    (x) => x.bytes,
    (x) => x.country,
  );
}

/** FlowTypeBreakdown(start, end). */
export interface FlowTypeRow {
  readonly flowType: string;
  readonly bytes: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly remoteIps: number;
}

export function flowTypeBreakdown(rows: readonly FlowRow[]): FlowTypeRow[] {
  const out = groupBy(
    rows,
    (r) => (empty(r.s.flowType) ? 'Unclassified' : (r.s.flowType as string)),
    (k) => k,
  ).map((g) => ({
    flowType: g.key,
    bytes: sum(g.rows, (r) => r.bytes),
    tuples: sum(g.rows, (r) => r.s.tuples),
    flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    remoteIps: dcount(g.rows, (r) => r.remoteIp),
  }));
  return topBy(
    out,
    (x) => x.bytes,
    (x) => x.flowType,
  );
}

/**
 * Traffic by the remote side's Azure service tag. No shipped function: the query is
 * `Flows(start, end) | where isnotempty(remoteServiceTag) | summarize bytes = sum(bytes), tuples = sum(tuples),
 * flowsDenied = sum(flowsDenied), remoteIps = dcount(remoteIp), region = take_any(...) by serviceTag =
 * remoteServiceTag | top n by bytes desc` (docs/dashboard.md).
 */
export interface ServiceTagRow {
  readonly serviceTag: string;
  readonly bytes: number;
  readonly tuples: number;
  readonly flowsDenied: number;
  readonly remoteIps: number;
  readonly region: string | null;
}

export function trafficByServiceTag(rows: readonly FlowRow[], n: number): ServiceTagRow[] {
  const out = groupBy(
    rows.filter((r) => !empty(r.remoteServiceTag)),
    (r) => r.remoteServiceTag as string,
    (k) => k,
  ).map((g) => ({
    serviceTag: g.key,
    bytes: sum(g.rows, (r) => r.bytes),
    tuples: sum(g.rows, (r) => r.s.tuples),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    remoteIps: dcount(g.rows, (r) => r.remoteIp),
    region: takeAny(g.rows, (r) => (r.inbound ? r.s.srcAzureRegion : r.s.dstAzureRegion)),
  }));
  return topBy(
    out,
    (x) => x.bytes,
    (x) => x.serviceTag,
    n,
  );
}

/** TopPorts(start, end, n). */
export interface PortRow {
  readonly dstPort: number;
  readonly protocol: string;
  readonly l7Protocol: string | null;
  readonly tuples: number;
  readonly bytes: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly hosts: number;
  readonly sources: number;
}

export function topPorts(rows: readonly FlowRow[], n: number): PortRow[] {
  const out = groupBy(
    rows,
    (r) => [r.s.dstPort, r.s.protocol, r.s.l7Protocol] as const,
    (k) => `${k[0]} ${k[1]} ${k[2] ?? ''}`,
  ).map((g) => ({
    dstPort: g.key[0],
    protocol: g.key[1],
    l7Protocol: g.key[2],
    tuples: sum(g.rows, (r) => r.s.tuples),
    bytes: sum(g.rows, (r) => r.bytes),
    flowsStarted: sum(g.rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
    hosts: dcount(g.rows, (r) => r.localIp),
    sources: dcount(g.rows, (r) => r.s.srcIp),
  }));
  return topBy(
    out,
    (x) => x.tuples,
    (x) => `${String(x.dstPort).padStart(5, '0')} ${x.protocol} ${x.l7Protocol ?? ''}`,
    n,
  );
}

/** BlobFreshness(lookback): per blob id over the dedup view (not Flows(): it needs the identity fields). */
export interface NewExternalIpRow {
  readonly remoteIp: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly tuples: number;
  readonly bytes: number;
  readonly flowsDenied: number;
  readonly localIps: number;
  readonly ports: number[];
  readonly country: string | null;
  readonly asOrg: string | null;
  readonly flowType: string | null;
}

/** NewExternalIps(recent, baseline) as the dashboards call it: the last 15 minutes against 7 days before. */
export const NEW_EXTERNAL_RECENT_MS = 15 * MINUTE;
export const NEW_EXTERNAL_BASELINE_MS = 7 * 24 * HOUR;

/**
 * NewExternalIps(15m, 7d, asOf): public remote addresses seen in the `recent` before asOf and not in the
 * `baseline` before that, newest first (the first n). Like the Grafana and ADX panels, it reads all rows,
 * whatever the dashboard's range and resource.
 */
export function newExternalIps(
  rows: readonly FlowSummary[],
  asOf: number,
  n: number,
  rule?: CountOnceRule,
): NewExternalIpRow[] {
  const t1 = asOf;
  const t0 = t1 - NEW_EXTERNAL_RECENT_MS;
  // One pass instead of the three Flows() calls (the live page asks on every new block): the baseline
  // Flows(t0 - baseline, bin(t0, 1h)) ∪ Flows(bin(t0, 1h), t0) is every window in [bin(t0 - baseline, 1h),
  // t0); it only needs each row's remote address (count-once keeps one of two rows of the same flow, with
  // the same remote address, so it does not change the set).
  const baselineFrom = bin(t0 - NEW_EXTERNAL_BASELINE_MS, HOUR);
  const seenBefore = new Set<string>();
  const recent: FlowSummary[] = [];
  const when = new Map<FlowSummary, number>();
  for (const s of rows) {
    const t = epochMs(s.windowStart);
    if (t >= t0 && t < t1) {
      recent.push(s);
      when.set(s, t);
    } else if (t >= baselineFrom && t < t0) {
      const inbound = s.direction === 'Inbound';
      const remoteIp = inbound ? s.srcIp : s.dstIp;
      if (remoteIsPublic(s.flowType, inbound ? s.srcCountry : s.dstCountry, remoteIp))
        seenBefore.add(remoteIp);
    }
  }
  const counted = rule ? rule(recent) : recent;
  const recentRows = counted.map((s) => flowRow(s, when.get(s) ?? epochMs(s.windowStart)));
  const out: NewExternalIpRow[] = [];
  for (const g of groupBy(
    recentRows.filter((r) => r.remotePublic),
    (r) => r.remoteIp,
    (k) => k,
  )) {
    if (seenBefore.has(g.key)) continue;
    out.push({
      remoteIp: g.key,
      firstSeen: minTime(g.rows),
      lastSeen: maxTime(g.rows),
      tuples: sum(g.rows, (r) => r.s.tuples),
      bytes: sum(g.rows, (r) => r.bytes),
      flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
      localIps: dcount(g.rows, (r) => r.localIp),
      ports: makeSet(g.rows, (r) => r.s.dstPort, 10),
      country: takeAny(g.rows, (r) => r.remoteCountry),
      asOrg: takeAny(g.rows, (r) => r.remoteAsOrg),
      flowType: takeAny(g.rows, (r) => r.s.flowType),
    });
  }
  // order by firstSeen desc (ties by address).
  return out
    .sort((a, b) =>
      a.firstSeen < b.firstSeen ? 1 : a.firstSeen > b.firstSeen ? -1 : a.remoteIp < b.remoteIp ? -1 : 1,
    )
    .slice(0, n);
}

export interface ScanSuspectRow {
  readonly srcIp: string;
  readonly ports: number;
  readonly targets: number;
  readonly tuples: number;
  readonly flowsDenied: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly country: string | null;
  readonly asOrg: string | null;
  readonly flowType: string | null;
  readonly deniedShare: number;
}

/** PortScanSuspects's default: sources that reached at least this many distinct destination ports. */
export const PORT_SCAN_MIN_PORTS = 20;

/** PortScanSuspects(start, end, minPorts): sources reaching many ports, most ports first (the first n). */
export function portScanSuspects(
  rows: readonly FlowRow[],
  n: number,
  minPorts = PORT_SCAN_MIN_PORTS,
): ScanSuspectRow[] {
  const out: ScanSuspectRow[] = [];
  for (const g of groupBy(
    rows,
    (r) => r.s.srcIp,
    (k) => k,
  )) {
    const ports = dcount(g.rows, (r) => r.s.dstPort);
    if (ports < minPorts) continue;
    const tuples = sum(g.rows, (r) => r.s.tuples);
    const flowsDenied = sum(g.rows, (r) => r.s.flowsDenied);
    out.push({
      srcIp: g.key,
      ports,
      targets: dcount(g.rows, (r) => r.s.dstIp),
      tuples,
      flowsDenied,
      firstSeen: minTime(g.rows),
      lastSeen: maxTime(g.rows),
      country: takeAny(g.rows, (r) => r.s.srcCountry),
      asOrg: takeAny(g.rows, (r) => r.s.srcAsOrg),
      flowType: takeAny(g.rows, (r) => r.s.flowType),
      // Kusto's round(todouble(flowsDenied) / tuples, 3).
      deniedShare: tuples === 0 ? 0 : Math.round((1000 * flowsDenied) / tuples) / 1000,
    });
  }
  return topBy(
    out,
    (x) => x.ports,
    (x) => x.srcIp,
    n,
  );
}

export interface ExposedPortRow {
  readonly localIp: string;
  readonly dstPort: number;
  readonly protocol: string;
  readonly l7Protocol: string | null;
  readonly tuples: number;
  readonly bytes: number;
  readonly sources: number;
  readonly countries: number;
  readonly lastSeen: string;
}

/** InternetExposedPorts(start, end): local hosts and ports that accepted inbound flows from public addresses. */
export function internetExposedPorts(rows: readonly FlowRow[], n: number): ExposedPortRow[] {
  const out: ExposedPortRow[] = [];
  for (const g of groupBy(
    rows.filter((r) => r.inbound && r.s.decision === 'Allow' && r.remotePublic),
    (r) => [r.localIp, r.s.dstPort, r.s.protocol, r.s.l7Protocol] as const,
    (k) => k.join('\u0000'),
  )) {
    const [localIp, dstPort, protocol, l7Protocol] = g.key;
    out.push({
      localIp,
      dstPort,
      protocol,
      l7Protocol,
      tuples: sum(g.rows, (r) => r.s.tuples),
      bytes: sum(g.rows, (r) => r.bytes),
      sources: dcount(g.rows, (r) => r.s.srcIp),
      countries: dcount(g.rows, (r) => r.remoteCountry),
      lastSeen: maxTime(g.rows),
    });
  }
  return topBy(
    out,
    (x) => x.sources,
    (x) => `${x.localIp}\u0000${x.dstPort}\u0000${x.protocol}`,
    n,
  );
}

export interface MaliciousRow {
  readonly remoteIp: string;
  readonly direction: string;
  readonly tuples: number;
  readonly allowedTuples: number;
  readonly bytes: number;
  readonly flowsDenied: number;
  readonly localIps: number;
  readonly ports: number[];
  readonly country: string | null;
  readonly asOrg: string | null;
  readonly label: string | null;
  readonly lastSeen: string;
}

/** MaliciousFlows(start, end): flows with an address on the threat labels, allowed ones first (the first n). */
export function maliciousFlows(rows: readonly FlowRow[], n: number): MaliciousRow[] {
  const out: MaliciousRow[] = [];
  for (const g of groupBy(
    rows.filter((r) => r.s.flowType === 'MaliciousFlow'),
    (r) => [r.remoteIp, r.s.direction] as const,
    (k) => k.join('\u0000'),
  )) {
    const [remoteIp, direction] = g.key;
    out.push({
      remoteIp,
      direction,
      tuples: sum(g.rows, (r) => r.s.tuples),
      allowedTuples: sumIf(
        g.rows,
        (r) => r.s.tuples,
        (r) => r.s.decision === 'Allow',
      ),
      bytes: sum(g.rows, (r) => r.bytes),
      flowsDenied: sum(g.rows, (r) => r.s.flowsDenied),
      localIps: dcount(g.rows, (r) => r.localIp),
      ports: makeSet(g.rows, (r) => r.s.dstPort, 20),
      country: takeAny(g.rows, (r) => r.remoteCountry),
      asOrg: takeAny(g.rows, (r) => r.remoteAsOrg),
      label: takeAny(g.rows, (r) => r.remoteLabel),
      lastSeen: maxTime(g.rows),
    });
  }
  // order by allowedTuples desc, tuples desc (ties by the group key).
  return out
    .sort(
      (a, b) =>
        b.allowedTuples - a.allowedTuples ||
        b.tuples - a.tuples ||
        (a.remoteIp < b.remoteIp ? -1 : a.remoteIp > b.remoteIp ? 1 : a.direction < b.direction ? -1 : 1),
    )
    .slice(0, n);
}

export interface UnencryptedRow {
  readonly resourceName: string;
  readonly resourceId: string;
  readonly macAddress: string;
  readonly unencryptedFlows: number;
  readonly encryptedFlows: number;
  readonly unencryptedBytes: number;
  readonly remoteIps: number;
  readonly lastWindow: string;
  readonly unencryptedShare: number;
}

/** Flows()'s flowsUnencrypted: VNet rows' tuples not encrypted by virtual network encryption, else null. */
function flowsUnencrypted(r: FlowRow): number | null {
  return r.s.logType === 'vnet' && r.s.flowsEncrypted !== null ? r.s.tuples - r.s.flowsEncrypted : null;
}

/** UnencryptedFlows(start, end): VNet flows not encrypted, per resource and NIC (the first n). */
export function unencryptedFlows(rows: readonly FlowRow[], n: number): UnencryptedRow[] {
  const vnet = rows.filter((r) => r.s.logType === 'vnet');
  const out: UnencryptedRow[] = [];
  for (const g of groupBy(
    vnet,
    (r) => [r.resourceName, r.s.resourceId, r.s.macAddress] as const,
    (k) => k.join('\u0000'),
  )) {
    const unencrypted = sum(g.rows, (r) => flowsUnencrypted(r) ?? 0);
    if (unencrypted <= 0) continue;
    const encrypted = sum(g.rows, (r) => r.s.flowsEncrypted ?? 0);
    const [resourceName, resourceId, macAddress] = g.key;
    out.push({
      resourceName,
      resourceId,
      macAddress,
      unencryptedFlows: unencrypted,
      encryptedFlows: encrypted,
      unencryptedBytes: sumIf(
        g.rows,
        (r) => r.bytes,
        (r) => (flowsUnencrypted(r) ?? 0) > 0,
      ),
      remoteIps: dcount(
        g.rows.filter((r) => (flowsUnencrypted(r) ?? 0) > 0),
        (r) => r.remoteIp,
      ),
      lastWindow: maxTime(g.rows),
      // Kusto's round(x, 1).
      unencryptedShare: Math.round((1000 * unencrypted) / (unencrypted + encrypted)) / 10,
    });
  }
  return topBy(
    out,
    (x) => x.unencryptedFlows,
    (x) => `${x.resourceId}\u0000${x.macAddress}`,
    n,
  );
}

export interface FreshnessRow {
  readonly blob: string;
  readonly newestRecord: string;
  readonly newestWindow: string;
  readonly records: number;
  readonly summaries: number;
  readonly logType: string;
  readonly resourceId: string;
  readonly macAddress: string;
  readonly ageMinutes: number;
}

export function blobFreshness(rows: Iterable<FlowSummary>, now: number, lookbackMs: number): FreshnessRow[] {
  const groups = new Map<string, FlowSummary[]>();
  for (const s of rows) {
    if (!(epochMs(s.windowStart) > now - lookbackMs)) continue;
    const g = groups.get(s.blob);
    if (g) g.push(s);
    else groups.set(s.blob, [s]);
  }
  const out: FreshnessRow[] = [];
  for (const [blob, g] of groups) {
    let newestRecord = Number.NEGATIVE_INFINITY;
    let newestWindow = Number.NEGATIVE_INFINITY;
    const offsets = new Set<number>();
    for (const s of g) {
      newestRecord = Math.max(newestRecord, epochMs(s.recordTime));
      newestWindow = Math.max(newestWindow, epochMs(s.windowStart));
      offsets.add(s.recordOffset);
    }
    const first = g[0] as FlowSummary;
    out.push({
      blob,
      newestRecord: new Date(newestRecord).toISOString(),
      newestWindow: new Date(newestWindow).toISOString(),
      records: offsets.size,
      summaries: g.length,
      logType: first.logType,
      resourceId: first.resourceId,
      macAddress: first.macAddress,
      ageMinutes: Math.round((now - newestRecord) / 6000) / 10,
    });
  }
  return out.sort((a, b) =>
    a.newestRecord < b.newestRecord ? 1 : a.newestRecord > b.newestRecord ? -1 : a.blob < b.blob ? -1 : 1,
  );
}

/** Totals of the filtered range (`Flows() | summarize`): the dashboard's headline. */
export interface Totals {
  readonly summaries: number;
  readonly bytes: number;
  readonly packets: number;
  readonly tuples: number;
  readonly flowsStarted: number;
  readonly flowsDenied: number;
  readonly localIps: number;
  readonly remoteIps: number;
}

export function totals(rows: readonly FlowRow[]): Totals {
  return {
    summaries: rows.length,
    bytes: sum(rows, (r) => r.bytes),
    packets: sum(rows, (r) => r.packets),
    tuples: sum(rows, (r) => r.s.tuples),
    flowsStarted: sum(rows, (r) => r.s.flowsStarted),
    flowsDenied: sum(rows, (r) => r.s.flowsDenied),
    localIps: dcount(rows, (r) => r.localIp),
    remoteIps: dcount(rows, (r) => r.remoteIp),
  };
}

export interface PanelsData {
  readonly from: string;
  readonly to: string;
  readonly resourceId: string | null;
  readonly hourly: boolean;
  readonly bucketMs: number;
  readonly totals: Totals;
  readonly timeline: TimelineRow[];
  readonly topTalkers: TalkerRow[];
  readonly topConversations: ConversationRow[];
  readonly deniedBySource: DeniedSourceRow[];
  readonly deniedByCountry: DeniedCountryRow[];
  readonly trafficByCountry: CountryRow[];
  readonly flowTypes: FlowTypeRow[];
  readonly serviceTags: ServiceTagRow[];
  readonly topPorts: PortRow[];
  readonly newExternalIps: NewExternalIpRow[];
  readonly portScanSuspects: ScanSuspectRow[];
  readonly internetExposedPorts: ExposedPortRow[];
  readonly maliciousFlows: MaliciousRow[];
  readonly unencryptedFlows: UnencryptedRow[];
  readonly blobFreshness: FreshnessRow[];
}

const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE);

/** A step giving about `buckets` buckets over the range (Grafana's $__timeInterval does the same). */
export function autoStep(from: number, to: number, buckets = 120): number {
  const want = (to - from) / buckets;
  return NICE_STEPS.find((s) => s >= want) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
}

/** Every panel for the query, from rows already deduplicated by id. */
export function computePanels(rows: readonly FlowSummary[], q: PanelQuery): PanelsData {
  const f = flows(rows, q.from, q.to, q.countOnce === null ? undefined : (q.countOnce ?? countOnce));
  const resource = q.resourceId ?? null;
  const view = resource === null ? f.rows : f.rows.filter((r) => r.s.resourceId === resource);
  const scoped = resource === null ? rows : rows.filter((s) => s.resourceId === resource);
  const rule = q.countOnce === null ? undefined : (q.countOnce ?? countOnce);
  return panelsOf(
    view,
    blobFreshness(scoped, q.now, FRESHNESS_LOOKBACK_MS),
    newExternalIps(rows, q.now, q.top ?? 20, rule),
    f.hourly,
    resource,
    q,
  );
}

/** What of the panels depends on the range itself, not only on the rows in it: the time line's step. */
function rangePart(
  view: readonly FlowRow[],
  hourly: boolean,
  q: PanelQuery,
): Pick<PanelsData, 'from' | 'to' | 'bucketMs' | 'timeline'> {
  const stepMs = q.stepMs ?? autoStep(q.from, q.to);
  return {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    bucketMs: Math.max(stepMs, hourly ? HOUR : MINUTE),
    timeline: flowTimeline(view, hourly, stepMs),
  };
}

/** The panels of Flows()'s rows `view`, with the blob freshness and the new external addresses given. */
function panelsOf(
  view: readonly FlowRow[],
  freshness: FreshnessRow[],
  newExternal: NewExternalIpRow[],
  hourly: boolean,
  resource: string | null,
  q: PanelQuery,
): PanelsData {
  const n = q.top ?? 20;
  return {
    ...rangePart(view, hourly, q),
    resourceId: resource,
    hourly,
    totals: totals(view),
    topTalkers: topTalkers(view, n),
    topConversations: topConversations(view, n),
    deniedBySource: deniedInboundBySource(view, n),
    deniedByCountry: deniedInboundByCountry(view),
    trafficByCountry: trafficByCountry(view),
    flowTypes: flowTypeBreakdown(view),
    serviceTags: trafficByServiceTag(view, n),
    topPorts: topPorts(view, n),
    newExternalIps: newExternal,
    portScanSuspects: portScanSuspects(view, n, q.minScanPorts),
    internetExposedPorts: internetExposedPorts(view, n),
    maliciousFlows: maliciousFlows(view, n),
    unencryptedFlows: unencryptedFlows(view, n),
    blobFreshness: freshness,
  };
}

/**
 * The panels of every range preset, for all resources and for each one: what a report embeds instead
 * of its rows, so the page's size does not grow with the rows. Equal to computePanels for each preset
 * (resolveRange over the rows' extent, `now` its end) and resource; Flows() is computed once per preset.
 * Keys: preset, then resourceId ('' for all).
 */
export function computePanelSets(
  rows: readonly FlowSummary[],
  allResources: readonly string[],
  options: { readonly top?: number; readonly countOnce?: CountOnceRule | null } = {},
): {
  extent: { from: number; to: number } | null;
  /** BlobFreshness's now() and where the ranges end: the end of the newest window (no rows: the clock). */
  now: number;
  sets: Record<string, Record<string, PanelsData>>;
} {
  const extent = extentOf(rows);
  // '' is the key of all resources (a row without a resource id counts there only).
  const resources = allResources.filter((r) => r !== '');
  const now = extent?.to ?? Date.now();
  const rule = options.countOnce === null ? undefined : (options.countOnce ?? countOnce);
  const scopedBy = new Map<string, FlowSummary[]>(resources.map((r) => [r, []]));
  for (const s of rows) scopedBy.get(s.resourceId)?.push(s);
  // NewExternalIps depends on neither the range nor the resource (as on the Grafana and ADX dashboards).
  const newExternal = newExternalIps(rows, now, options.top ?? 20, rule);
  // Blob freshness depends on the resource only, not on the range.
  const freshness = new Map<string, FreshnessRow[]>([['', blobFreshness(rows, now, FRESHNESS_LOOKBACK_MS)]]);
  for (const resource of resources)
    freshness.set(resource, blobFreshness(scopedBy.get(resource) ?? [], now, FRESHNESS_LOOKBACK_MS));
  const sets: Record<string, Record<string, PanelsData>> = {};
  // Ranges end together, so two that pick as many rows at the same granularity pick the same rows: only
  // the time line (its step) and the range differ; the rest is taken from the first of them.
  const computed = new Map<string, { viewBy: Map<string, FlowRow[]>; sets: Record<string, PanelsData> }>();
  for (const preset of Object.keys(RANGE_PRESETS) as RangePreset[]) {
    const range = resolveRange(preset, extent, now);
    const q: PanelQuery = { ...range, now, ...(options.top === undefined ? {} : { top: options.top }) };
    const pick = flowsWindow(range.from, range.to);
    const hourly = pick.hourly;
    let picked = 0;
    for (const s of rows) if (pick.timeOf(s) >= 0) picked++;
    const sameRows = `${hourly}:${picked}`;
    const known = computed.get(sameRows);
    let viewBy: Map<string, FlowRow[]>;
    if (known === undefined) {
      const f = flows(rows, range.from, range.to, rule);
      viewBy = new Map<string, FlowRow[]>([
        ['', f.rows],
        ...resources.map((r): [string, FlowRow[]] => [r, []]),
      ]);
      for (const r of f.rows) if (r.s.resourceId !== '') viewBy.get(r.s.resourceId)?.push(r);
    } else viewBy = known.viewBy;
    const bySource: Record<string, PanelsData> = {};
    for (const resource of ['', ...resources]) {
      const view = viewBy.get(resource) ?? [];
      const earlier = known?.sets[resource];
      bySource[resource] =
        earlier === undefined
          ? panelsOf(
              view,
              freshness.get(resource) ?? [],
              newExternal,
              hourly,
              resource === '' ? null : resource,
              q,
            )
          : { ...earlier, ...rangePart(view, hourly, q) };
    }
    if (known === undefined) computed.set(sameRows, { viewBy, sets: bySource });
    sets[preset] = bySource;
  }
  return { extent, now, sets };
}

// ---------------------------------------------------------------------------------------------- rows kept

/**
 * Summary rows deduplicated by `id` (what ADX's dedup view does), the oldest dropped past `maxRows`.
 */
export class SummaryStore {
  private readonly byId = new Map<string, FlowSummary>();
  private readonly resourceCounts = new Map<string, number>();
  /** Rows offered, duplicates included. */
  offered = 0;
  /** Rows dropped because their id was already kept. */
  duplicates = 0;
  /** Changes with every row kept or dropped (the live page refetches when it moves). */
  version = 0;

  constructor(private readonly maxRows = 500_000) {}

  /** Adds rows; returns how many were new. */
  add(rows: Iterable<FlowSummary>): number {
    let added = 0;
    for (const s of rows) {
      this.offered++;
      if (this.byId.has(s.id)) {
        this.duplicates++;
        continue;
      }
      this.byId.set(s.id, s);
      this.resourceCounts.set(s.resourceId, (this.resourceCounts.get(s.resourceId) ?? 0) + 1);
      added++;
    }
    while (this.byId.size > this.maxRows) {
      const oldest = this.byId.keys().next().value as string;
      const s = this.byId.get(oldest) as FlowSummary;
      this.byId.delete(oldest);
      const left = (this.resourceCounts.get(s.resourceId) ?? 1) - 1;
      if (left === 0) this.resourceCounts.delete(s.resourceId);
      else this.resourceCounts.set(s.resourceId, left);
    }
    if (added > 0) this.version++;
    return added;
  }

  get size(): number {
    return this.byId.size;
  }

  rows(): FlowSummary[] {
    return [...this.byId.values()];
  }

  /** The resources of the rows kept, by name. */
  resources(): string[] {
    return [...this.resourceCounts.keys()].sort();
  }

  /** The earliest window start and the end of the latest window kept (ms), or null when empty. */
  extent(): { from: number; to: number } | null {
    return extentOf(this.byId.values());
  }
}

/**
 * Which KQL function of deploy/adx each panel's data mirrors, and the columns the dashboard adds to it
 * (docs/dashboard.md; test/dashboard/panels.test.ts checks the columns against the function bodies).
 */
export const PANEL_MIRRORS = {
  timeline: { kql: 'FlowTimeline', extra: [] },
  topTalkers: { kql: 'TopTalkers', extra: [] },
  topConversations: { kql: 'TopConversations', extra: [] },
  deniedBySource: { kql: 'DeniedInboundBySource', extra: ['topPorts'] },
  deniedByCountry: { kql: 'DeniedInboundByCountry', extra: [] },
  trafficByCountry: { kql: 'TrafficByCountry', extra: [] },
  flowTypes: { kql: 'FlowTypeBreakdown', extra: [] },
  serviceTags: { kql: null, extra: [] },
  topPorts: { kql: 'TopPorts', extra: [] },
  newExternalIps: { kql: 'NewExternalIps', extra: [] },
  portScanSuspects: { kql: 'PortScanSuspects', extra: [] },
  internetExposedPorts: { kql: 'InternetExposedPorts', extra: [] },
  maliciousFlows: { kql: 'MaliciousFlows', extra: [] },
  unencryptedFlows: { kql: 'UnencryptedFlows', extra: [] },
  blobFreshness: { kql: 'BlobFreshness', extra: [] },
} as const satisfies Record<string, { kql: string | null; extra: readonly string[] }>;

/** The dashboard's time ranges: the last part of the data, or all of it. */
export const RANGE_PRESETS = {
  '15m': 15 * MINUTE,
  '1h': HOUR,
  '6h': 6 * HOUR,
  '24h': 24 * HOUR,
  '7d': 7 * 24 * HOUR,
  all: null,
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;

export function isRangePreset(value: string): value is RangePreset {
  return Object.hasOwn(RANGE_PRESETS, value);
}

/**
 * The [from, to) of a preset over the rows' extent, ending where the newest window ends (now when there
 * are no rows): "last hour" is the last hour of the data, also for replayed or simulated time.
 */
export function resolveRange(
  preset: RangePreset,
  extent: { from: number; to: number } | null,
  now: number,
): { from: number; to: number } {
  const to = extent?.to ?? now;
  const span = RANGE_PRESETS[preset];
  if (span === null) return { from: extent?.from ?? to - HOUR, to };
  return { from: to - span, to };
}
