/**
 * Deterministic flow-log simulator: realistic NSG v2 and VNet v4 blobs in Azure's layout, for tests,
 * benchmarks and the live demo. Same seed, same bytes.
 *
 * What it models: per NIC a private address in a VNet; east-west traffic to peers; a Zipf-skewed set of
 * public destinations (heavy hitters) over HTTPS/DNS/NTP; inbound scanners that sweep ports on deny
 * rules; TCP flows with a B tuple, C tuples every 5 minutes and an E tuple whose counters are deltas;
 * IPv6 peers; tuple timestamps on window edges (second 59 and second 0); flows that cross the hour go on
 * in the next hour's blob.
 */

import { seededRandom } from '../random';

export interface SimulationOptions {
  readonly nsgs: number;
  readonly vnets: number;
  readonly hours: number;
  /** New flows per NIC per minute. */
  readonly flowsPerMinute: number;
  readonly seed: number;
  /** First hour simulated (UTC, truncated to the hour). */
  readonly start: Date;
  /** Minutes per hour to write (60 = a full hour). */
  readonly minutesPerHour?: number;
  /**
   * A long tail of public destinations: half of the outbound internet flows go to one of this many
   * distinct addresses (uniformly) instead of the heavy hitters, as real traffic does; 0 (default): none.
   */
  readonly longTail?: number;
  /**
   * Where the long tail lies. `octets` (default): a few public /8s. `internet`: anywhere in public IPv4
   * space (one in eight IPv6), and half of the scans on deny rules come from it too, as on an
   * internet-facing NIC scanned all day: few tail addresses share a prefix or a GeoIP record.
   */
  readonly longTailSpace?: 'octets' | 'internet';
}

export interface SimulatedBlob {
  readonly container: string;
  /** Blob name inside the container (Azure layout). */
  readonly name: string;
  readonly logType: 'nsg' | 'vnet';
  /** One JSON text per record, in the order Azure appends them (one per minute). */
  readonly records: readonly string[];
  readonly tuples: number;
}

export const NSG_CONTAINER = 'insights-logs-networksecuritygroupflowevent';
export const VNET_CONTAINER = 'insights-logs-flowlogflowevent';

export { seededRandom };

interface Nic {
  readonly logType: 'nsg' | 'vnet';
  readonly mac: string;
  readonly ip: string;
  readonly peers: readonly string[];
  readonly resourceId: string;
  readonly blobPrefix: string;
  readonly flowLogResourceId: string;
  readonly aclId: string;
}

interface ActiveFlow {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly protocol: 'T' | 'U';
  readonly direction: 'I' | 'O';
  readonly rule: string;
  readonly endsAt: number;
  nextReport: number;
  readonly pktsPerSec: number;
  readonly bytesPerPkt: number;
  lastReport: number;
}

/** First octets of public unicast IPv4 space the long tail is spread over (no private or special ranges). */
const TAIL_FIRST_OCTETS = [23, 31, 37, 45, 62, 77, 81, 93, 103, 109, 151, 176, 185, 193, 203, 212];

/** The i-th address of the long tail: distinct for distinct i below 2^24 × the octets, spread out. */
export function tailAddress(i: number): string {
  const first = TAIL_FIRST_OCTETS[i % TAIL_FIRST_OCTETS.length]!;
  // An odd multiplier permutes the 24-bit rest, so neighbouring i land far apart.
  const rest = Math.imul(Math.floor(i / TAIL_FIRST_OCTETS.length) + 1, 0x9e3779) & 0xffffff;
  return `${first}.${rest >>> 16}.${(rest >>> 8) & 255}.${rest & 255 || 1}`;
}

/** First groups of allocated IPv6 space (RIR blocks) for the internet-wide tail. */
const TAIL_V6_FIRST = [
  0x2001, 0x2400, 0x2401, 0x2600, 0x2604, 0x2607, 0x2800, 0x2a00, 0x2a01, 0x2a02, 0x2c0f,
];

/** True for a public unicast IPv4 address (not private, shared, loopback, link-local, special, multicast). */
function publicV4(v: number): boolean {
  const a = v >>> 24;
  const b = (v >>> 16) & 255;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && (b === 168 || (b === 0 && ((v >>> 8) & 255) <= 2))) return false;
  if (a === 198 && (b === 18 || b === 19 || (b === 51 && ((v >>> 8) & 255) === 100))) return false;
  if (a === 203 && b === 0 && ((v >>> 8) & 255) === 113) return false;
  return true;
}

/** The i-th address of the internet-wide tail: a public IPv4 address anywhere, or (1 in 8) an IPv6 one. */
export function internetTailAddress(i: number): string {
  // Multiplying by an odd constant permutes 32-bit numbers: distinct i, distinct addresses, spread out.
  let h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  if (i % 8 === 7) {
    const g = (k: number) => ((Math.imul(h, k) >>> 16) & 0xffff).toString(16);
    return `${TAIL_V6_FIRST[h % TAIL_V6_FIRST.length]!.toString(16)}:${g(0x85eb)}:${g(0xc2b3)}::${g(0x27d5)}`;
  }
  while (!publicV4(h)) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return `${h >>> 24}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
}

const SUBSCRIPTION = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
const HEAVY_HITTERS = [
  '20.60.128.4', // Azure Storage
  '13.107.42.14', // Microsoft 365
  '52.239.184.180', // Azure Storage
  '8.8.8.8',
  '140.82.112.3', // GitHub
  '151.101.1.69', // Fastly
  '104.16.132.229', // Cloudflare
  '2603:1030:20e:3::23c', // Azure IPv6
  '2a00:1450:4001:80b::200e', // Google IPv6
  '185.199.108.153',
  '23.45.67.89',
  '35.190.27.188',
];
const SCANNERS = ['45.146.164.110', '185.224.128.17', '194.26.29.113', '162.142.125.9', '2001:470:1:332::2c'];
const PORTS_OUT: ReadonlyArray<[number, 'T' | 'U']> = [
  [443, 'T'],
  [443, 'T'],
  [443, 'T'],
  [80, 'T'],
  [53, 'U'],
  [123, 'U'],
  [1433, 'T'],
  [5671, 'T'],
];
const PORTS_EAST_WEST: ReadonlyArray<[number, 'T' | 'U']> = [
  [443, 'T'],
  [22, 'T'],
  [5432, 'T'],
  [6379, 'T'],
  [8080, 'T'],
  [3389, 'T'],
];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function buildNics(options: SimulationOptions, rnd: () => number): Nic[] {
  const nics: Nic[] = [];
  const total = options.nsgs + options.vnets;
  for (let n = 0; n < total; n++) {
    const isNsg = n < options.nsgs;
    const index = isNsg ? n : n - options.nsgs;
    const mac = `000D3A${hex2(n >> 8)}${hex2(n & 255)}${hex2(Math.floor(rnd() * 256))}`;
    const third = 1 + (n % 200);
    const ip = `10.${1 + Math.floor(n / 200)}.${third}.${4 + (n % 50)}`;
    const peers = Array.from({ length: 6 }, (_, i) => `10.${1 + Math.floor(n / 200)}.${third}.${10 + i}`);
    const rg = `RG-FLOWLOG-${index % 3}`;
    if (isNsg) {
      const resourceId = `/SUBSCRIPTIONS/${SUBSCRIPTION}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-APP-${index}`;
      nics.push({
        logType: 'nsg',
        mac,
        ip,
        peers,
        resourceId,
        blobPrefix: `resourceId=${resourceId}`,
        flowLogResourceId: '',
        aclId: '',
      });
    } else {
      const flowLog = `/SUBSCRIPTIONS/${SUBSCRIPTION}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/VNET-${index}-FLOWLOG`;
      nics.push({
        logType: 'vnet',
        mac,
        ip,
        peers,
        resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/vnet-${index}`,
        blobPrefix: `flowLogResourceID=${flowLog}`,
        flowLogResourceId: flowLog,
        aclId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-vnet-${index}`,
      });
    }
  }
  return nics;
}

/** Zipf-like pick: index 0 most often. */
function skewed(rnd: () => number, size: number): number {
  return Math.min(size - 1, Math.floor(size * rnd() ** 2.2));
}

/** Every simulated blob, NIC by NIC and hour by hour (flows crossing the hour continue). */
export function* simulateBlobs(options: SimulationOptions): Generator<SimulatedBlob> {
  const rnd = seededRandom(options.seed);
  const nics = buildNics(options, rnd);
  const start = Math.floor(options.start.getTime() / 3_600_000) * 3600;
  const minutes = options.minutesPerHour ?? 60;
  for (const nic of nics) {
    const active: ActiveFlow[] = [];
    for (let h = 0; h < options.hours; h++) {
      const hour = start + h * 3600;
      const d = new Date(hour * 1000);
      const datePath = `y=${d.getUTCFullYear()}/m=${pad2(d.getUTCMonth() + 1)}/d=${pad2(d.getUTCDate())}/h=${pad2(d.getUTCHours())}/m=00/macAddress=${nic.mac}/PT1H.json`;
      const records: string[] = [];
      let tuples = 0;
      for (let m = 0; m < minutes; m++) {
        const minuteStart = hour + m * 60;
        const minute = simulateMinute(
          nic,
          active,
          minuteStart,
          options.flowsPerMinute,
          rnd,
          options.longTail ?? 0,
          options.longTailSpace === 'internet',
        );
        tuples += minute.count;
        records.push(minute.json);
      }
      yield {
        container: nic.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER,
        name: `${nic.blobPrefix}/${datePath}`,
        logType: nic.logType,
        records,
        tuples,
      };
    }
  }
}

/** A simulated blob as Azure leaves it once complete: `{"records":[r1,r2,...]}`. */
export function blobText(blob: SimulatedBlob): string {
  return `{"records":[${blob.records.join(',')}]}`;
}

interface Tuple {
  readonly time: number;
  readonly text: string;
  readonly rule: string;
}

function simulateMinute(
  nic: Nic,
  active: ActiveFlow[],
  minuteStart: number,
  flowsPerMinute: number,
  rnd: () => number,
  longTail: number,
  internetTail: boolean,
): { json: string; count: number } {
  const out: Tuple[] = [];
  const vnet = nic.logType === 'vnet';
  const tuple = (
    t: number,
    src: string,
    dst: string,
    sp: number,
    dp: number,
    proto: 'T' | 'U',
    dir: 'I' | 'O',
    state: 'B' | 'C' | 'E' | 'D',
    c: readonly [number, number, number, number] | null,
    rule: string,
  ) => {
    if (vnet) {
      const counters = c ? c.join(',') : '0,0,0,0';
      out.push({
        time: t,
        rule,
        text: `${t * 1000 + Math.floor(rnd() * 1000)},${src},${dst},${sp},${dp},${proto === 'T' ? 6 : 17},${dir},${state},NX,${counters}`,
      });
    } else {
      const decision = state === 'D' ? 'D' : 'A';
      const nsgState = state === 'D' ? 'B' : state;
      const counters = c ? c.join(',') : ',,,';
      out.push({
        time: t,
        rule,
        text: `${t},${src},${dst},${sp},${dp},${proto},${dir},${decision},${nsgState},${counters}`,
      });
    }
  };

  // New allowed flows: outbound to heavy hitters, east-west, some inbound.
  for (let f = 0; f < flowsPerMinute; f++) {
    const kind = rnd();
    // Window edges: a share of flows start on second 59 or second 0.
    const edge = rnd();
    const offset = edge < 0.1 ? 59 : edge < 0.2 ? 0 : Math.floor(rnd() * 60);
    const t = minuteStart + offset;
    if (kind < 0.12) {
      // Scanner on a deny rule: one denied tuple per probed port.
      // (rnd is drawn for the tail only when asked: existing options keep their bytes.)
      const scanner =
        internetTail && longTail > 0 && rnd() < 0.5
          ? internetTailAddress(Math.floor(rnd() * longTail))
          : SCANNERS[skewed(rnd, SCANNERS.length)]!;
      const ports = 1 + Math.floor(rnd() * 6);
      for (let p = 0; p < ports; p++) {
        const port =
          [22, 23, 445, 3389, 1433, 5900, 8080, 8443][Math.floor(rnd() * 8)]! + (rnd() < 0.3 ? p : 0);
        tuple(
          t,
          scanner,
          nic.ip,
          1024 + Math.floor(rnd() * 60000),
          port,
          'T',
          'I',
          'D',
          null,
          vnet ? 'DefaultRule_DenyAllInBound' : 'DefaultRule_DenyAllInBound',
        );
      }
      continue;
    }
    let dst: string;
    let port: number;
    let proto: 'T' | 'U';
    let dir: 'I' | 'O' = 'O';
    let src = nic.ip;
    let rule: string;
    if (kind < 0.7) {
      // (rnd is drawn for the tail only when there is one: without it, the same seed gives the same bytes.)
      dst =
        longTail > 0 && rnd() < 0.5
          ? (internetTail ? internetTailAddress : tailAddress)(Math.floor(rnd() * longTail))
          : HEAVY_HITTERS[skewed(rnd, HEAVY_HITTERS.length)]!;
      [port, proto] = PORTS_OUT[Math.floor(rnd() * PORTS_OUT.length)]!;
      if (dst === '8.8.8.8') [port, proto] = [53, 'U'];
      rule = 'DefaultRule_AllowInternetOutBound';
    } else if (kind < 0.92) {
      dst = nic.peers[skewed(rnd, nic.peers.length)]!;
      [port, proto] = PORTS_EAST_WEST[Math.floor(rnd() * PORTS_EAST_WEST.length)]!;
      rule = 'DefaultRule_AllowVnetOutBound';
    } else {
      src = nic.peers[Math.floor(rnd() * nic.peers.length)]!;
      dst = nic.ip;
      dir = 'I';
      [port, proto] = [443, 'T'];
      rule = 'UserRule_allow-https-in';
    }
    const duration = rnd() < 0.7 ? 1 + Math.floor(rnd() * 50) : 60 + Math.floor(rnd() * 900);
    const flow: ActiveFlow = {
      src,
      dst,
      srcPort: 1024 + Math.floor(rnd() * 64000),
      dstPort: port,
      protocol: proto,
      direction: dir,
      rule,
      endsAt: t + duration,
      nextReport: t + 300,
      pktsPerSec: 1 + Math.floor(rnd() * 40),
      bytesPerPkt: 60 + Math.floor(rnd() * 1400),
      lastReport: t,
    };
    tuple(t, src, dst, flow.srcPort, port, proto, dir, 'B', null, rule);
    active.push(flow);
  }

  // Continuing and ending flows: counters are deltas since the flow's previous tuple.
  const minuteEnd = minuteStart + 60;
  for (let i = active.length - 1; i >= 0; i--) {
    const flow = active[i]!;
    const report = (until: number, state: 'C' | 'E') => {
      const seconds = Math.max(1, until - flow.lastReport);
      const pkts = flow.pktsPerSec * seconds;
      const back = Math.max(1, Math.floor(pkts * 0.8));
      tuple(
        until,
        flow.src,
        flow.dst,
        flow.srcPort,
        flow.dstPort,
        flow.protocol,
        flow.direction,
        state,
        [pkts, pkts * flow.bytesPerPkt, back, back * Math.floor(flow.bytesPerPkt * 1.5)],
        flow.rule,
      );
      flow.lastReport = until;
    };
    if (flow.endsAt < minuteEnd) {
      report(Math.max(flow.endsAt, minuteStart), 'E');
      active.splice(i, 1);
    } else if (flow.nextReport < minuteEnd) {
      report(Math.max(flow.nextReport, minuteStart), 'C');
      flow.nextReport += 300;
    }
  }

  out.sort((a, b) => a.time - b.time);
  const recordTime = new Date((minuteStart + 60) * 1000 + Math.floor(rnd() * 900))
    .toISOString()
    .replace('Z', '0000Z');
  return {
    json: vnet ? vnetRecord(nic, out, recordTime) : nsgRecord(nic, out, recordTime),
    count: out.length,
  };
}

function byRule(tuples: readonly Tuple[]): Map<string, string[]> {
  const rules = new Map<string, string[]>();
  for (const t of tuples) {
    let list = rules.get(t.rule);
    if (!list) {
      list = [];
      rules.set(t.rule, list);
    }
    list.push(t.text);
  }
  return rules;
}

function nsgRecord(nic: Nic, tuples: readonly Tuple[], time: string): string {
  const flows = [...byRule(tuples)].map(([rule, list]) => ({
    rule,
    flows: [{ mac: nic.mac, flowTuples: list }],
  }));
  // Azure lists every rule of the NSG, including rules that matched nothing in the minute.
  flows.push({ rule: 'DefaultRule_AllowAzureLoadBalancerInBound', flows: [] });
  return JSON.stringify({
    time,
    systemId: '7d3c2b1a-0f9e-4d8c-b7a6-958473625140',
    macAddress: nic.mac,
    category: 'NetworkSecurityGroupFlowEvent',
    resourceId: nic.resourceId,
    operationName: 'NetworkSecurityGroupFlowEvents',
    properties: { Version: 2, flows },
  });
}

function vnetRecord(nic: Nic, tuples: readonly Tuple[], time: string): string {
  const flowGroups = [...byRule(tuples)].map(([rule, flowTuples]) => ({ rule, flowTuples }));
  return JSON.stringify({
    time,
    flowLogVersion: 4,
    flowLogGUID: '9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    macAddress: nic.mac,
    category: 'FlowLogFlowEvent',
    flowLogResourceID: nic.flowLogResourceId,
    targetResourceID: nic.resourceId,
    operationName: 'FlowLogFlowEvent',
    flowRecords: { flows: [{ aclID: nic.aclId, flowGroups }] },
  });
}
