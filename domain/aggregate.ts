import { type FlowLogError, type SourceLocation, TupleFormatError } from './errors';
import { type FlowRecord, LOG_TYPE_OF, type TupleLayout } from './formats/record';
import { parseTuple, protocolName } from './formats/tuple';
import { murmur128Hex } from './hash';
import { type FlowSummary, SUMMARY_SCHEMA_VERSION } from './summary/schema';
import { isoSeconds } from './window';

export interface AggregationContext {
  /** Blob identity (see blob-identity.ts): part of every id, and the source named in messages. */
  readonly blob: string;
  /** The rows' `blob` field (blobIdOf(blob)). */
  readonly blobId: string;
  /** Byte offset of the record in its blob/file: part of every id, the rows' `recordOffset`. */
  readonly byteOffset: number;
  /** Position of the record in what was read, for messages only (ids never depend on it). */
  readonly recordOrdinal?: number;
  readonly windowSeconds: number;
}

/** Running sums for one (window, key) inside one record. */
interface Accumulator {
  /** First tuple seen with this key; key equality is checked against its character ranges. */
  readonly sample: string;
  /** [keyA0, keyA1): "src,dst"; [keyB0, keyB1): ",dport,proto,dir[,decision]" of the sample. */
  readonly keyA0: number;
  readonly srcEnd: number;
  readonly keyA1: number;
  readonly keyB0: number;
  readonly keyB1: number;
  readonly windowStart: number;
  readonly dstPort: number;
  readonly protocol: string;
  readonly direction: 'Inbound' | 'Outbound';
  readonly decision: 'Allow' | 'Deny';
  /** Next accumulator with the same 32-bit key hash. */
  next: Accumulator | undefined;
  tuples: number;
  flowsStarted: number;
  flowsEnded: number;
  flowsDenied: number;
  packetsSrcToDst: number;
  bytesSrcToDst: number;
  packetsDstToSrc: number;
  bytesDstToSrc: number;
  flowsEncrypted: number;
}

interface GroupState {
  readonly rule: string;
  readonly macAddress: string;
  readonly aclId: string | null;
  /** Accumulators by 32-bit hash of (window, key), chained on collision. */
  readonly byHash: Map<number, Accumulator>;
  /** In first-seen order, so output order is deterministic. */
  readonly ordered: Accumulator[];
  /** Hash of everything the group's summaries share; computed once per group (see summaryId). */
  seed: string;
  /** The flow group's `group` id (flowGroupId), '' until first needed. */
  groupId: string;
}

const CH_COMMA = 44;
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
const CH_X = 88;

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
/** Fields hashed into the key: src (1), dst (2), dport (4), protocol (5), direction (6), NSG decision (7). */
const NSG_KEY_FIELDS = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
const VNET_KEY_FIELDS = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 6);

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

function sameChars(a: string, a0: number, a1: number, b: string, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let k = 0; k < a1 - a0; k++) if (a.charCodeAt(a0 + k) !== b.charCodeAt(b0 + k)) return false;
  return true;
}

/**
 * The tuple rewritten with the usual spelling of its layout (NSG: T/U; VNet: IANA numbers; ports without
 * leading zeros), so that the same flow key always hashes the same way. Only unusual tuples get here.
 */
function canonicalTuple(s: string, layout: TupleLayout): string {
  const f = s.split(',');
  const proto = protocolName(f[5] ?? '') ?? f[5] ?? '';
  if (layout === 'vnet-v4') f[5] = proto === 'TCP' ? '6' : proto === 'UDP' ? '17' : proto;
  else f[5] = proto === 'TCP' ? 'T' : proto === 'UDP' ? 'U' : proto;
  if (/^\d+$/.test(f[4] ?? '')) f[4] = String(Number(f[4]));
  if (/^\d+$/.test(f[3] ?? '')) f[3] = String(Number(f[3]));
  return f.join(',');
}

/**
 * Aggregates the tuples of one record into summaries keyed by (window, key) and appends them to `out`.
 * Malformed tuples are appended to `problems` as TupleFormatErrors and skipped; the rest of the record is
 * still summed. Returns the number of tuples that were summed.
 *
 * This is the hot path of the product (> 1 M tuples/s per core). Each tuple string (as JSON.parse made
 * it) is read in one pass of charCodeAt that finds the commas and hashes the key fields; the hash picks
 * the accumulator and equality is checked on character ranges, so no string or object is allocated for a
 * tuple whose key was seen before.
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
  const keyFields = vnet ? VNET_KEY_FIELDS : NSG_KEY_FIELDS;
  const windowSeconds = ctx.windowSeconds;
  const groups = new Map<string, GroupState>();
  let summed = 0;

  for (const group of record.groups) {
    const groupKey = `${group.rule}\u0000${group.macAddress}\u0000${group.aclId ?? ''}`;
    let state = groups.get(groupKey);
    if (state === undefined) {
      state = {
        rule: group.rule,
        macAddress: group.macAddress,
        aclId: group.aclId,
        byHash: new Map(),
        ordered: [],
        seed: '',
        groupId: '',
      };
      groups.set(groupKey, state);
    }
    const byHash = state.byHash;
    const tuples = group.tuples;

    for (let i = 0; i < tuples.length; i++) {
      const raw = tuples[i];
      if (typeof raw !== 'string') {
        problems.push(
          tupleError(ctx, i, `flow tuple must be a string, got ${JSON.stringify(raw)?.slice(0, 40)}`),
        );
        continue;
      }
      let s = raw;
      let attempt = 0;
      // One pass: comma positions and the hash of the key fields. A second pass only for unusual spellings.
      for (;;) {
        const len = s.length;
        let n = 0;
        let h = FNV_OFFSET;
        for (let k = 0; k < len; k++) {
          const c = s.charCodeAt(k);
          if (c === CH_COMMA) {
            if (n === expectedCommas) {
              n = -1;
              break;
            }
            commas[n++] = k;
            h = Math.imul(h ^ n, FNV_PRIME);
          } else if ((keyFields >>> n) & 1) h = Math.imul(h ^ c, FNV_PRIME);
        }
        if (n !== expectedCommas) {
          problems.push(tupleError(ctx, i, explain(raw, layout)));
          break;
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

        // Protocol: NSG writes T/U, VNet IANA numbers; other spellings are rewritten and read again.
        const p0 = s.charCodeAt(c4 + 1);
        let usual: boolean;
        let proto = -1;
        if (c5 === c4 + 2 && (p0 === CH_T || p0 === CH_U)) usual = !vnet;
        else {
          proto = digitsAt(s, c4 + 1, c5);
          ok = ok && proto >= 0 && proto <= 255;
          usual = vnet && (p0 !== CH_0 || c5 === c4 + 2);
        }
        if (s.charCodeAt(c3 + 1) === CH_0 && c4 > c3 + 2) usual = false; // leading zero in the port

        let started = 0;
        let ended = 0;
        let denied = 0;
        let encrypted = 0;
        const flag = s.charCodeAt(c6 + 1);
        let withCounters = false;
        if (vnet) {
          ok = ok && c7 === c6 + 2 && (flag === CH_B || flag === CH_C || flag === CH_E || flag === CH_D);
          if (flag === CH_B) started = 1;
          else if (flag === CH_E) ended = 1;
          else if (flag === CH_D) denied = 1;
          // Encryption state between the 8th and 9th comma: `X` encrypted, anything else not.
          encrypted = commas[8] === c7 + 2 && s.charCodeAt(c7 + 1) === CH_X ? 1 : 0;
          withCounters = true;
        } else {
          ok = ok && c7 === c6 + 2 && (flag === CH_A || flag === CH_D);
          if (flag === CH_D) denied = 1;
          if (!v1) {
            const st = s.charCodeAt(c7 + 1);
            ok = ok && commas[8] === c7 + 2 && (st === CH_B || st === CH_C || st === CH_E);
            if (st === CH_B) started = 1;
            else if (st === CH_E) ended = 1;
            withCounters = true;
          }
        }
        let pkts1 = 0;
        let bytes1 = 0;
        let pkts2 = 0;
        let bytes2 = 0;
        if (withCounters) {
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
          problems.push(tupleError(ctx, i, explain(raw, layout)));
          break;
        }
        if (!usual && attempt === 0) {
          s = canonicalTuple(s, layout);
          attempt = 1;
          continue;
        }

        const seconds = rawTime >= 1e11 ? Math.floor(rawTime / 1000) : rawTime;
        const windowStart = seconds - (seconds % windowSeconds);
        if (vnet && denied === 1) h = Math.imul(h ^ CH_D, FNV_PRIME);
        const slot = (h ^ Math.imul(windowStart, 0x9e3779b1)) | 0;
        const keyB1 = vnet ? c6 : c7;
        const decision = denied === 1 ? 'Deny' : 'Allow';

        const head = byHash.get(slot);
        let acc = head;
        while (
          acc !== undefined &&
          !(
            acc.windowStart === windowStart &&
            acc.decision === decision &&
            sameChars(acc.sample, acc.keyA0, acc.keyA1, s, c0 + 1, c2) &&
            sameChars(acc.sample, acc.keyB0, acc.keyB1, s, c3, keyB1)
          )
        )
          acc = acc.next;

        if (acc === undefined) {
          acc = {
            sample: s,
            keyA0: c0 + 1,
            srcEnd: c1,
            keyA1: c2,
            keyB0: c3,
            keyB1,
            windowStart,
            dstPort,
            protocol:
              p0 === CH_T || proto === 6 ? 'TCP' : p0 === CH_U || proto === 17 ? 'UDP' : String(proto),
            direction: dir === CH_I ? 'Inbound' : 'Outbound',
            decision,
            next: head,
            tuples: 1,
            flowsStarted: started,
            flowsEnded: ended,
            flowsDenied: denied,
            packetsSrcToDst: pkts1,
            bytesSrcToDst: bytes1,
            packetsDstToSrc: pkts2,
            bytesDstToSrc: bytes2,
            flowsEncrypted: encrypted,
          };
          byHash.set(slot, acc);
          state.ordered.push(acc);
        } else {
          acc.tuples++;
          acc.flowsStarted += started;
          acc.flowsEnded += ended;
          acc.flowsDenied += denied;
          acc.packetsSrcToDst += pkts1;
          acc.bytesSrcToDst += bytes1;
          acc.packetsDstToSrc += pkts2;
          acc.bytesDstToSrc += bytes2;
          acc.flowsEncrypted += encrypted;
        }
        summed++;
        break;
      }
    }
  }

  const logType = LOG_TYPE_OF[layout];
  for (const state of groups.values()) {
    for (const acc of state.ordered) out.push(toSummary(acc, state, record, ctx, logType));
  }
  return summed;
}

function toSummary(
  acc: Accumulator,
  group: GroupState,
  record: FlowRecord,
  ctx: AggregationContext,
  logType: 'nsg' | 'vnet',
): FlowSummary {
  if (group.seed === '')
    group.seed = groupSeed(
      ctx.blob,
      ctx.byteOffset,
      ctx.windowSeconds,
      logType,
      record.resourceId,
      group.aclId,
      group.macAddress,
      group.rule,
    );
  if (group.groupId === '')
    group.groupId = flowGroupId(
      SUMMARY_SCHEMA_VERSION,
      ctx.blobId,
      ctx.windowSeconds,
      logType,
      record.resourceId,
      group.aclId,
      group.macAddress,
      group.rule,
    );
  const srcIp = acc.sample.slice(acc.keyA0, acc.srcEnd);
  const dstIp = acc.sample.slice(acc.srcEnd + 1, acc.keyA1);
  const id = summaryId(
    group.seed,
    acc.windowStart,
    acc.direction,
    acc.decision,
    acc.protocol,
    srcIp,
    dstIp,
    acc.dstPort,
  );
  const windowStart = isoSeconds(acc.windowStart);
  return {
    id,
    group: group.groupId,
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    blob: ctx.blobId,
    recordOffset: ctx.byteOffset,
    recordTime: record.time,
    windowStart,
    windowSeconds: ctx.windowSeconds,
    logType,
    resourceId: record.resourceId,
    aclId: group.aclId,
    macAddress: group.macAddress,
    rule: group.rule,
    direction: acc.direction,
    decision: acc.decision,
    protocol: acc.protocol,
    srcIp,
    dstIp,
    dstPort: acc.dstPort,
    tuples: acc.tuples,
    flowsStarted: acc.flowsStarted,
    flowsEnded: acc.flowsEnded,
    flowsDenied: acc.flowsDenied,
    packetsSrcToDst: acc.packetsSrcToDst,
    bytesSrcToDst: acc.bytesSrcToDst,
    packetsDstToSrc: acc.packetsDstToSrc,
    bytesDstToSrc: acc.bytesDstToSrc,
    flowsEncrypted: logType === 'vnet' ? acc.flowsEncrypted : null,
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

const U = '\u001f';

/**
 * Summary ids are MurmurHash3 x86 128 (32 hex) in two steps, so the long shared part is hashed once per
 * flow group: G = H("v2" U blob identity U recordOffset U windowSeconds U logType U resourceId U aclId-or-"" U
 * macAddress U rule), then id = H(G U windowStartEpochSeconds U direction U decision U protocol U srcIp U
 * dstIp U dstPort), with U = U+001F and H over UTF-8.
 */
export function groupSeed(
  blob: string,
  recordOffset: number,
  windowSeconds: number,
  logType: string,
  resourceId: string,
  aclId: string | null,
  macAddress: string,
  rule: string,
): string {
  return murmur128Hex(
    `v2${U}${blob}${U}${recordOffset}${U}${windowSeconds}${U}${logType}${U}${resourceId}${U}${aclId ?? ''}${U}${macAddress}${U}${rule}`,
  );
}

/**
 * The `group` id of a flow group's `FlowGroups` line: the first 16 hex of H("g3" U schemaVersion U blob id U
 * windowSeconds U logType U resourceId U aclId U macAddress U rule), aclId as "-" when null and "=" + the
 * id otherwise. Content-addressed: the same fields give the same id wherever and however often the line
 * is made (any chunking, reruns, `flowlog process`), so ADX keeps one line per id.
 */
export function flowGroupId(
  schemaVersion: number,
  blobId: string,
  windowSeconds: number,
  logType: string,
  resourceId: string,
  aclId: string | null,
  macAddress: string,
  rule: string,
): string {
  return murmur128Hex(
    `g3${U}${schemaVersion}${U}${blobId}${U}${windowSeconds}${U}${logType}${U}${resourceId}${U}${aclId === null ? '-' : `=${aclId}`}${U}${macAddress}${U}${rule}`,
  ).slice(0, 16);
}

export function summaryId(
  seed: string,
  windowStartSeconds: number,
  direction: string,
  decision: string,
  protocol: string,
  srcIp: string,
  dstIp: string,
  dstPort: number,
): string {
  return murmur128Hex(
    `${seed}${U}${windowStartSeconds}${U}${direction}${U}${decision}${U}${protocol}${U}${srcIp}${U}${dstIp}${U}${dstPort}`,
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
    byteOffset: ctx.byteOffset,
    ...(ctx.recordOrdinal === undefined ? {} : { recordOrdinal: ctx.recordOrdinal }),
    tupleIndex,
  };
  return new TupleFormatError(
    'malformed-tuple',
    at,
    `${what}; the tuple was skipped, the rest of the record was summed`,
  );
}
