import { type FlowLogError, type SourceLocation, TupleFormatError } from './errors';
import { type FlowRecord, LOG_TYPE_OF, type TupleLayout } from './formats/record';
import { parseTuple, protocolName } from './formats/tuple';
import { murmur128Hex } from './hash';
import { type FlowSummary, SUMMARY_SCHEMA_VERSION } from './summary/schema';
import { isoSeconds } from './window';

export interface AggregationContext {
  /** Blob identity (see blob-identity.ts). */
  readonly blob: string;
  readonly recordOrdinal: number;
  /** Byte offset of the record in its blob/file, for error messages. */
  readonly byteOffset?: number;
  readonly windowSeconds: number;
}

/** Running sums for one (window, key) inside one record. */
interface Accumulator {
  /** First tuple seen for this key; the key fields are read back from it once, at the end. */
  sample: string;
  windowStart: number;
  tuples: number;
  flowsStarted: number;
  flowsEnded: number;
  flowsDenied: number;
  packetsSrcToDst: number;
  bytesSrcToDst: number;
  packetsDstToSrc: number;
  bytesDstToSrc: number;
}

interface GroupState {
  readonly rule: string;
  readonly macAddress: string;
  readonly aclId: string | null;
  readonly windows: Map<number, Map<string, Accumulator>>;
}

const CH_0 = 48;
const CH_9 = 57;
const CH_A = 65;
const CH_B = 66;
const CH_C = 67;
const CH_D = 68;
const CH_E = 69;
const CH_I = 73;
const CH_O = 79;
const CH_T = 84;
const CH_U = 85;

/** Comma positions of the tuple being read (12 for 13-field layouts). */
const commas = new Int32Array(16);

/** Whole decimal number in s[from, to), or -1 when empty or not all digits. */
function digitsAt(s: string, from: number, to: number): number {
  if (from >= to) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < CH_0 || c > CH_9) return -1;
    value = value * 10 + (c - CH_0);
  }
  return value;
}

/** Counter field: empty means 0 (NSG v2 B tuples), else digits; -1 when invalid. */
function counterAt(s: string, from: number, to: number): number {
  return from === to ? 0 : digitsAt(s, from, to);
}

/** Canonical key text of a tuple whose protocol or port is not spelled the usual way for its layout. */
function canonicalKey(s: string, layout: TupleLayout): string {
  const f = s.split(',');
  const proto = protocolName(f[5] ?? '') ?? '';
  const protoToken =
    layout === 'vnet-v4'
      ? proto === 'TCP'
        ? '6'
        : proto === 'UDP'
          ? '17'
          : proto
      : proto === 'TCP'
        ? 'T'
        : proto === 'UDP'
          ? 'U'
          : proto;
  const decision = layout === 'vnet-v4' ? (f[7] === 'D' ? 'D' : 'A') : f[7];
  return `${f[1]},${f[2]},${Number(f[4])},${protoToken},${f[6]},${decision}`;
}

/**
 * Aggregates the tuples of one record into summaries keyed by (window, key) and appends them to `out`.
 * Malformed tuples are appended to `problems` as TupleFormatErrors and skipped; the rest of the record is
 * still summed. Returns the number of tuples that were summed.
 *
 * This is the hot path of the product (> 1 M tuples/s per core): tuples are scanned in place with
 * indexOf/charCodeAt, the map key is two substrings of the tuple, and no per-tuple object is built.
 */
export function aggregateRecord(
  record: FlowRecord,
  ctx: AggregationContext,
  out: FlowSummary[],
  problems: FlowLogError[],
): number {
  const layout = record.layout;
  const vnet = layout === 'vnet-v4';
  const v1 = layout === 'nsg-v1';
  const expectedCommas = v1 ? 7 : 12;
  const windowSeconds = ctx.windowSeconds;
  const groups = new Map<string, GroupState>();
  let summed = 0;

  for (const group of record.groups) {
    const groupKey = `${group.rule}\u0000${group.macAddress}\u0000${group.aclId ?? ''}`;
    let state = groups.get(groupKey);
    if (state === undefined) {
      state = { rule: group.rule, macAddress: group.macAddress, aclId: group.aclId, windows: new Map() };
      groups.set(groupKey, state);
    }
    let lastWindow = -1;
    let keys: Map<string, Accumulator> | undefined;
    const tuples = group.tuples;

    for (let i = 0; i < tuples.length; i++) {
      const s = tuples[i];
      if (typeof s !== 'string') {
        problems.push(
          tupleError(ctx, i, `flow tuple must be a string, got ${JSON.stringify(s)?.slice(0, 40)}`),
        );
        continue;
      }
      // Field boundaries.
      let n = 0;
      let from = 0;
      const len = s.length;
      while (n <= expectedCommas) {
        const c = s.indexOf(',', from);
        if (c < 0) break;
        commas[n++] = c;
        from = c + 1;
      }
      if (n !== expectedCommas) {
        problems.push(tupleError(ctx, i, explain(s, layout)));
        continue;
      }
      const c0 = commas[0]!;
      const c1 = commas[1]!;
      const c2 = commas[2]!;
      const c3 = commas[3]!;
      const c4 = commas[4]!;
      const c5 = commas[5]!;
      const c6 = commas[6]!;
      const c7 = v1 ? len : commas[7]!;

      const rawTime = digitsAt(s, 0, c0);
      const srcPort = digitsAt(s, c2 + 1, c3);
      const dstPort = digitsAt(s, c3 + 1, c4);
      const dir = s.charCodeAt(c5 + 1);
      let ok =
        rawTime >= 0 &&
        c1 > c0 + 1 &&
        c2 > c1 + 1 &&
        srcPort >= 0 &&
        srcPort <= 65535 &&
        dstPort >= 0 &&
        dstPort <= 65535 &&
        c6 === c5 + 2 &&
        (dir === CH_I || dir === CH_O);

      // Protocol: NSG writes T/U, VNet IANA numbers; anything else takes the canonical (slow) key path.
      const p0 = s.charCodeAt(c4 + 1);
      let usual: boolean;
      if (c5 === c4 + 2 && (p0 === CH_T || p0 === CH_U)) usual = !vnet;
      else {
        const proto = digitsAt(s, c4 + 1, c5);
        ok = ok && proto >= 0 && proto <= 255;
        usual = vnet && (p0 !== CH_0 || c5 === c4 + 2);
      }
      if (s.charCodeAt(c3 + 1) === CH_0 && c4 > c3 + 2) usual = false; // leading zero in the port

      let started = 0;
      let ended = 0;
      let denied = 0;
      const flag = s.charCodeAt(c6 + 1);
      let countersFrom = -1;
      if (vnet) {
        ok = ok && c7 === c6 + 2 && (flag === CH_B || flag === CH_C || flag === CH_E || flag === CH_D);
        if (flag === CH_B) started = 1;
        else if (flag === CH_E) ended = 1;
        else if (flag === CH_D) denied = 1;
        countersFrom = 8;
      } else {
        ok = ok && c7 === c6 + 2 && (flag === CH_A || flag === CH_D);
        if (flag === CH_D) denied = 1;
        if (!v1) {
          const st = s.charCodeAt(c7 + 1);
          ok = ok && commas[8] === c7 + 2 && (st === CH_B || st === CH_C || st === CH_E);
          if (st === CH_B) started = 1;
          else if (st === CH_E) ended = 1;
          countersFrom = 8;
        }
      }
      let pkts1 = 0;
      let bytes1 = 0;
      let pkts2 = 0;
      let bytes2 = 0;
      if (countersFrom > 0) {
        const k8 = commas[8]!;
        const k9 = commas[9]!;
        const k10 = commas[10]!;
        const k11 = commas[11]!;
        pkts1 = counterAt(s, k8 + 1, k9);
        bytes1 = counterAt(s, k9 + 1, k10);
        pkts2 = counterAt(s, k10 + 1, k11);
        bytes2 = counterAt(s, k11 + 1, len);
        ok = ok && pkts1 >= 0 && bytes1 >= 0 && pkts2 >= 0 && bytes2 >= 0;
      }
      if (!ok) {
        problems.push(tupleError(ctx, i, explain(s, layout)));
        continue;
      }

      const seconds = rawTime >= 1e11 ? Math.floor(rawTime / 1000) : rawTime;
      const windowStart = seconds - (seconds % windowSeconds);
      if (windowStart !== lastWindow || keys === undefined) {
        keys = state.windows.get(windowStart);
        if (keys === undefined) {
          keys = new Map();
          state.windows.set(windowStart, keys);
        }
        lastWindow = windowStart;
      }
      let key: string;
      if (!usual) key = canonicalKey(s, layout);
      else if (vnet) key = s.slice(c0 + 1, c2) + s.slice(c3, c6) + (denied === 1 ? ',D' : ',A');
      else key = s.slice(c0 + 1, c2) + s.slice(c3, c7);

      const acc = keys.get(key);
      if (acc === undefined) {
        keys.set(key, {
          sample: s,
          windowStart,
          tuples: 1,
          flowsStarted: started,
          flowsEnded: ended,
          flowsDenied: denied,
          packetsSrcToDst: pkts1,
          bytesSrcToDst: bytes1,
          packetsDstToSrc: pkts2,
          bytesDstToSrc: bytes2,
        });
      } else {
        acc.tuples++;
        acc.flowsStarted += started;
        acc.flowsEnded += ended;
        acc.flowsDenied += denied;
        acc.packetsSrcToDst += pkts1;
        acc.bytesSrcToDst += bytes1;
        acc.packetsDstToSrc += pkts2;
        acc.bytesDstToSrc += bytes2;
      }
      summed++;
    }
  }

  const logType = LOG_TYPE_OF[layout];
  for (const state of groups.values()) {
    for (const keys of state.windows.values()) {
      for (const acc of keys.values()) out.push(toSummary(acc, state, record, ctx, logType, layout));
    }
  }
  return summed;
}

function toSummary(
  acc: Accumulator,
  group: GroupState,
  record: FlowRecord,
  ctx: AggregationContext,
  logType: 'nsg' | 'vnet',
  layout: TupleLayout,
): FlowSummary {
  const tuple = parseTuple(acc.sample, layout);
  if (typeof tuple === 'string') throw new Error(`internal: accepted tuple does not parse: ${tuple}`);
  const windowStart = isoSeconds(acc.windowStart);
  const id = summaryId(
    ctx.blob,
    ctx.recordOrdinal,
    acc.windowStart,
    ctx.windowSeconds,
    logType,
    record.resourceId,
    group.aclId,
    group.macAddress,
    group.rule,
    tuple.direction,
    tuple.decision,
    tuple.protocol,
    tuple.srcIp,
    tuple.dstIp,
    tuple.dstPort,
  );
  return {
    id,
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    blob: ctx.blob,
    recordOrdinal: ctx.recordOrdinal,
    recordTime: record.time,
    windowStart,
    windowSeconds: ctx.windowSeconds,
    logType,
    resourceId: record.resourceId,
    aclId: group.aclId,
    macAddress: group.macAddress,
    rule: group.rule,
    direction: tuple.direction,
    decision: tuple.decision,
    protocol: tuple.protocol,
    srcIp: tuple.srcIp,
    dstIp: tuple.dstIp,
    dstPort: tuple.dstPort,
    tuples: acc.tuples,
    flowsStarted: acc.flowsStarted,
    flowsEnded: acc.flowsEnded,
    flowsDenied: acc.flowsDenied,
    packetsSrcToDst: acc.packetsSrcToDst,
    bytesSrcToDst: acc.bytesSrcToDst,
    packetsDstToSrc: acc.packetsDstToSrc,
    bytesDstToSrc: acc.bytesDstToSrc,
    srcCountry: null,
    srcCity: null,
    srcLat: null,
    srcLon: null,
    srcAsn: null,
    srcAsOrg: null,
    srcServiceTag: null,
    srcAzureRegion: null,
    srcLabel: null,
    dstCountry: null,
    dstCity: null,
    dstLat: null,
    dstLon: null,
    dstAsn: null,
    dstAsOrg: null,
    dstServiceTag: null,
    dstAzureRegion: null,
    dstLabel: null,
    flowType: null,
    l7Protocol: null,
  };
}

/**
 * The summary id: MurmurHash3 x86 128 (hex) of the unit-separated (U+001F) fields
 * `v1, blob, recordOrdinal, windowStartEpochSeconds, windowSeconds, logType, resourceId, aclId or "",
 * macAddress, rule, direction, decision, protocol, srcIp, dstIp, dstPort`.
 */
export function summaryId(
  blob: string,
  recordOrdinal: number,
  windowStartSeconds: number,
  windowSeconds: number,
  logType: string,
  resourceId: string,
  aclId: string | null,
  macAddress: string,
  rule: string,
  direction: string,
  decision: string,
  protocol: string,
  srcIp: string,
  dstIp: string,
  dstPort: number,
): string {
  const U = '\u001f';
  return murmur128Hex(
    `v1${U}${blob}${U}${recordOrdinal}${U}${windowStartSeconds}${U}${windowSeconds}${U}${logType}${U}${resourceId}${U}${aclId ?? ''}${U}${macAddress}${U}${rule}${U}${direction}${U}${decision}${U}${protocol}${U}${srcIp}${U}${dstIp}${U}${dstPort}`,
  );
}

function explain(s: string, layout: TupleLayout): string {
  const parsed = parseTuple(s, layout);
  const why = typeof parsed === 'string' ? parsed : 'malformed';
  return `malformed flow tuple "${s.length > 120 ? `${s.slice(0, 120)}…` : s}": ${why}`;
}

function tupleError(ctx: AggregationContext, tupleIndex: number, what: string): TupleFormatError {
  const at: SourceLocation = {
    source: ctx.blob,
    ...(ctx.byteOffset === undefined ? {} : { byteOffset: ctx.byteOffset }),
    recordOrdinal: ctx.recordOrdinal,
    tupleIndex,
  };
  return new TupleFormatError(
    'malformed-tuple',
    at,
    `${what}; the tuple was skipped, the rest of the record was summed`,
  );
}
