/**
 * The count-once rule (domain/analysis/double-logging.ts, docs/double-logging.md) over generated rows: true
 * traffic per NIC is logged the way Azure logs it (one NSG, two NSGs on the path, a VNet flow log, or both
 * during a migration), and the counted rows must give the true totals per NIC and hour.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { flowGroupId } from '../../domain/aggregate';
import {
  countOnce,
  judgeDoubleLogging,
  MAX_LONG,
  sourceOf,
  sourceRank,
} from '../../domain/analysis/double-logging';
import { blankSummary, type FlowSummary, SUMMARY_SCHEMA_VERSION } from '../../domain/summary/schema';
import { readSummaryLines, summaryLines } from '../../domain/summary/serialize';

const SUB =
  '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK';
const SUBNET_NSG = `${SUB}/NETWORKSECURITYGROUPS/NSG-SUBNET`;
const NIC_NSG = `${SUB}/NETWORKSECURITYGROUPS/NSG-NIC`;
const VNET =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet1';
const ACL = '7a1b2c3d-0000-4000-8000-000000000001';
const HOUR0 = Date.parse('2025-03-01T10:00:00Z');

/** What happened to the tuples of one flow in one window: the truth the logs describe. */
interface TrueFlow {
  readonly mac: string;
  readonly minute: number;
  readonly inbound: boolean;
  readonly dstPort: number;
  readonly remote: string;
  readonly allowed: number;
  readonly allowedBytes: number;
  /** Denied by the first NSG on the path (inbound: the subnet's; outbound: the NIC's). */
  readonly deniedFirst: number;
  /** Allowed by the first, denied by the second. */
  readonly deniedSecond: number;
}

/** How a NIC is logged in one hour. */
type Logging = 'nsg' | 'nsg2' | 'vnet' | 'vnet+nsg' | 'vnet+nsg2';

function row(
  f: TrueFlow,
  logType: 'nsg' | 'vnet',
  resourceId: string,
  decision: 'Allow' | 'Deny',
  tuples: number,
  bytes: number,
): FlowSummary {
  const local = '10.0.0.4';
  const aclId = logType === 'vnet' ? ACL : null;
  const rule = decision === 'Allow' ? 'AllowSome' : 'DenySome';
  return blankSummary({
    group: flowGroupId(
      SUMMARY_SCHEMA_VERSION,
      '0123456789abcdef',
      60,
      logType,
      resourceId,
      aclId,
      f.mac,
      rule,
    ),
    id: `${logType}-${resourceId.slice(-8)}-${f.mac}-${f.minute}-${f.inbound}-${f.dstPort}-${f.remote}-${decision}`,
    blob: '0123456789abcdef',
    recordTime: new Date(HOUR0 + f.minute * 60_000).toISOString(),
    logType,
    resourceId,
    aclId,
    macAddress: f.mac,
    rule,
    windowStart: new Date(HOUR0 + f.minute * 60_000).toISOString(),
    direction: f.inbound ? 'Inbound' : 'Outbound',
    decision,
    protocol: 'TCP',
    srcIp: f.inbound ? f.remote : local,
    dstIp: f.inbound ? local : f.remote,
    dstPort: f.dstPort,
    tuples,
    flowsStarted: tuples,
    flowsDenied: decision === 'Deny' ? tuples : 0,
    bytesSrcToDst: Math.floor(bytes / 2),
    bytesDstToSrc: bytes - Math.floor(bytes / 2),
    flowsEncrypted: logType === 'vnet' ? 0 : null,
  });
}

/** One NSG's rows for a flow: what it allowed (and the bytes that got through) and what it denied. */
function nsgRows(f: TrueFlow, resourceId: string, first: boolean): FlowSummary[] {
  const out: FlowSummary[] = [];
  // The first NSG allows what the second later denies; those tuples never carry bytes (no connection).
  const allowed = first ? f.allowed + f.deniedSecond : f.allowed;
  const denied = first ? f.deniedFirst : f.deniedSecond;
  if (allowed > 0) out.push(row(f, 'nsg', resourceId, 'Allow', allowed, f.allowedBytes));
  if (denied > 0) out.push(row(f, 'nsg', resourceId, 'Deny', denied, 0));
  return out;
}

/** The rows Azure writes for one true flow under a logging setup. */
function logged(f: TrueFlow, how: Logging): FlowSummary[] {
  const out: FlowSummary[] = [];
  // Inbound traffic meets the subnet NSG first, outbound the NIC NSG.
  const [first, second] = f.inbound ? [SUBNET_NSG, NIC_NSG] : [NIC_NSG, SUBNET_NSG];
  if (how === 'vnet' || how.startsWith('vnet+')) {
    if (f.allowed > 0) out.push(row(f, 'vnet', VNET, 'Allow', f.allowed, f.allowedBytes));
    const denied = f.deniedFirst + f.deniedSecond;
    if (denied > 0) out.push(row(f, 'vnet', VNET, 'Deny', denied, 0));
  }
  if (how === 'nsg' || how === 'vnet+nsg') {
    // One NSG (here the subnet's): it decides everything, so "second" denials are its own.
    const single: TrueFlow = { ...f, deniedFirst: f.deniedFirst + f.deniedSecond, deniedSecond: 0 };
    out.push(...nsgRows(single, SUBNET_NSG, true));
  }
  if (how === 'nsg2' || how === 'vnet+nsg2') {
    out.push(...nsgRows(f, first, true));
    // The second NSG sees only what the first allowed.
    if (f.allowed + f.deniedSecond > 0) out.push(...nsgRows(f, second, false));
  }
  return out;
}

interface Totals {
  tuples: number;
  denied: number;
  allowed: number;
  bytes: number;
}
const zero = (): Totals => ({ tuples: 0, denied: 0, allowed: 0, bytes: 0 });

function totalsOfRows(rows: readonly FlowSummary[]): Map<string, Totals> {
  const m = new Map<string, Totals>();
  for (const r of rows) {
    const k = `${r.macAddress}@${Math.floor(Date.parse(r.windowStart) / 3_600_000)}`;
    const t = m.get(k) ?? zero();
    t.tuples += r.tuples;
    t.denied += r.flowsDenied;
    if (r.decision === 'Allow') t.allowed += r.tuples;
    t.bytes += r.bytesSrcToDst + r.bytesDstToSrc;
    m.set(k, t);
  }
  return m;
}

function truth(flows: readonly TrueFlow[]): Map<string, Totals> {
  const m = new Map<string, Totals>();
  for (const f of flows) {
    const k = `${f.mac}@${Math.floor((HOUR0 + f.minute * 60_000) / 3_600_000)}`;
    const t = m.get(k) ?? zero();
    const denied = f.deniedFirst + f.deniedSecond;
    t.tuples += f.allowed + denied;
    t.denied += denied;
    t.allowed += f.allowed;
    t.bytes += f.allowedBytes;
    m.set(k, t);
  }
  return m;
}

const MACS = ['00224800A001', '00224800A002', '00224800A003'];
const REMOTES = ['203.0.113.7', '198.51.100.20', '10.1.0.5'];
const LOGGINGS: readonly Logging[] = ['nsg', 'nsg2', 'vnet', 'vnet+nsg', 'vnet+nsg2'];

const trueFlow = fc
  .record({
    mac: fc.constantFrom(...MACS),
    // Three hours, so one NIC can be logged differently from hour to hour.
    minute: fc.integer({ min: 0, max: 179 }),
    inbound: fc.boolean(),
    dstPort: fc.constantFrom(22, 443, 3389),
    remote: fc.constantFrom(...REMOTES),
    allowed: fc.integer({ min: 0, max: 6 }),
    bytesPerTuple: fc.integer({ min: 40, max: 100_000 }),
    deniedFirst: fc.integer({ min: 0, max: 4 }),
    deniedSecond: fc.integer({ min: 0, max: 4 }),
  })
  .filter((f) => f.allowed + f.deniedFirst + f.deniedSecond > 0)
  .map(
    (f): TrueFlow => ({
      mac: f.mac,
      minute: f.minute,
      inbound: f.inbound,
      dstPort: f.dstPort,
      remote: f.remote,
      allowed: f.allowed,
      allowedBytes: f.allowed * f.bytesPerTuple,
      deniedFirst: f.deniedFirst,
      deniedSecond: f.deniedSecond,
    }),
  );

/** Distinct flows (one true record per key), each NIC-hour logged one way. */
const scenario = fc
  .record({
    flows: fc.uniqueArray(trueFlow, {
      maxLength: 40,
      selector: (f) => `${f.mac}/${f.minute}/${f.inbound}/${f.dstPort}/${f.remote}`,
    }),
    logging: fc.array(fc.constantFrom(...LOGGINGS), {
      minLength: MACS.length * 3,
      maxLength: MACS.length * 3,
    }),
    seed: fc.integer(),
  })
  .map(({ flows, logging, seed }) => {
    const how = (mac: string, hour: number): Logging => logging[MACS.indexOf(mac) * 3 + hour] ?? 'nsg';
    const rows = flows.flatMap((f) => logged(f, how(f.mac, Math.floor(f.minute / 60))));
    // Rows arrive in any order; the rule must not depend on it.
    const shuffled = [...rows];
    let s = seed >>> 0;
    for (let i = shuffled.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    return { flows, how, rows: shuffled };
  });

describe('count-once rule over generated rows', () => {
  test('counted rows give the true totals per NIC and hour, however the NIC is logged', () => {
    fc.assert(
      fc.property(scenario, ({ flows, rows }) => {
        assert.deepEqual(totalsOfRows(countOnce(rows)), truth(flows));
      }),
      { numRuns: 300 },
    );
  });

  test('without the rule the same rows over-count wherever a NIC-hour has two sources', () => {
    const flows: TrueFlow[] = [
      {
        mac: MACS[0]!,
        minute: 5,
        inbound: true,
        dstPort: 443,
        remote: REMOTES[0]!,
        allowed: 3,
        allowedBytes: 9000,
        deniedFirst: 0,
        deniedSecond: 0,
      },
    ];
    for (const how of ['nsg2', 'vnet+nsg', 'vnet+nsg2'] as const) {
      const rows = flows.flatMap((f) => logged(f, how));
      const raw = [...totalsOfRows(rows).values()][0]!;
      const once = [...totalsOfRows(countOnce(rows)).values()][0]!;
      assert.ok(raw.bytes > 9000, `${how}: the raw rows double count`);
      assert.deepEqual(once, { tuples: 3, denied: 0, allowed: 3, bytes: 9000 }, how);
    }
  });

  test('a NIC-hour logged by VNet and NSG counts its VNet rows only; hours with NSG only keep theirs', () => {
    fc.assert(
      fc.property(scenario, ({ how, rows }) => {
        const kept = new Set(countOnce(rows));
        for (const r of rows) {
          const h = Math.floor((Date.parse(r.windowStart) - HOUR0) / 3_600_000);
          const logging = how(r.macAddress, h);
          if (logging.startsWith('vnet')) assert.equal(kept.has(r), r.logType === 'vnet');
          // One NSG and nothing else: every row counts.
          if (logging === 'nsg') assert.ok(kept.has(r));
        }
      }),
      { numRuns: 200 },
    );
  });

  test('different NICs are never merged: the rule over all NICs is the rule over each NIC', () => {
    fc.assert(
      fc.property(scenario, ({ rows }) => {
        const all = new Set(countOnce(rows));
        const each = new Set(MACS.flatMap((mac) => countOnce(rows.filter((r) => r.macAddress === mac))));
        assert.deepEqual(all, each);
      }),
      { numRuns: 200 },
    );
  });

  test('identical flows on two NICs both count, even with every other key field equal', () => {
    const f: TrueFlow = {
      mac: MACS[0]!,
      minute: 0,
      inbound: true,
      dstPort: 22,
      remote: REMOTES[1]!,
      allowed: 2,
      allowedBytes: 800,
      deniedFirst: 1,
      deniedSecond: 0,
    };
    const rows = [...logged(f, 'nsg'), ...logged({ ...f, mac: MACS[1]! }, 'nsg')];
    assert.equal(countOnce(rows).length, rows.length);
  });

  test('two NSGs of one NIC: a flow allowed by both counts once, a denial counts where it happened', () => {
    const base: TrueFlow = {
      mac: MACS[2]!,
      minute: 30,
      inbound: true,
      dstPort: 3389,
      remote: REMOTES[0]!,
      allowed: 5,
      allowedBytes: 5000,
      deniedFirst: 3,
      deniedSecond: 2,
    };
    const rows = logged(base, 'nsg2');
    const verdicts = judgeDoubleLogging(rows);
    const byVerdict = rows.map(
      (r, i) => `${sourceOf(r).includes('SUBNET') ? 'subnet' : 'nic'} ${r.decision} ${verdicts[i]}`,
    );
    assert.deepEqual(byVerdict.sort(), [
      'nic Allow counted',
      'nic Deny counted',
      'subnet Allow allow-from-other-source',
      'subnet Deny counted',
    ]);
    assert.deepEqual(
      [...totalsOfRows(countOnce(rows)).values()],
      [{ tuples: 10, denied: 5, allowed: 5, bytes: 5000 }],
    );
  });

  test('ties between sources are broken the same way whatever the input order', () => {
    const f: TrueFlow = {
      mac: MACS[0]!,
      minute: 1,
      inbound: false,
      dstPort: 443,
      remote: REMOTES[0]!,
      allowed: 4,
      allowedBytes: 400,
      deniedFirst: 0,
      deniedSecond: 0,
    };
    const rows = logged(f, 'nsg2');
    const a = countOnce(rows);
    const b = countOnce([...rows].reverse());
    assert.equal(a.length, 1);
    assert.deepEqual(a, b);
    // The smaller source name wins a full tie.
    assert.equal(a[0]!.resourceId, [NIC_NSG, SUBNET_NSG].sort()[0]);
  });

  test('NSG v2 wins a tie in tuples against v1 (bytes), whatever the names', () => {
    const f: TrueFlow = {
      mac: MACS[0]!,
      minute: 1,
      inbound: true,
      dstPort: 443,
      remote: REMOTES[0]!,
      allowed: 4,
      allowedBytes: 400,
      deniedFirst: 0,
      deniedSecond: 0,
    };
    // v2 on the NSG whose name sorts last, so only the bytes can make it win.
    assert.ok(NIC_NSG < SUBNET_NSG);
    const [v2] = nsgRows(f, SUBNET_NSG, false);
    const [v1] = nsgRows({ ...f, allowedBytes: 0 }, NIC_NSG, true);
    assert.ok(v1 && v2);
    assert.deepEqual(
      countOnce([v1, v2]).map((r) => r.resourceId),
      [SUBNET_NSG],
    );
  });

  test('rows as stored (null fields left out) and parsed back are judged the same', () => {
    fc.assert(
      fc.property(scenario, ({ rows }) => {
        const parsed = readSummaryLines(summaryLines(rows));
        assert.deepEqual(judgeDoubleLogging(parsed), judgeDoubleLogging(rows));
      }),
      { numRuns: 50 },
    );
  });

  test('the source rank orders by allowed tuples, then bytes (more first), then name', () => {
    assert.ok(sourceRank(1, 0, 'b|') < sourceRank(2, 0, 'a|'));
    assert.ok(sourceRank(2, 500, 'b|') < sourceRank(2, 10, 'a|'));
    assert.ok(sourceRank(2, 10, 'a|') < sourceRank(2, 10, 'b|'));
    // Numbers past 2^32 keep their order (fixed-width hex, as Kusto's tohex(x, 16)).
    assert.ok(sourceRank(2 ** 40, 0, 'a|') > sourceRank(2 ** 33, 0, 'a|'));
    assert.equal(sourceRank(0, 0, 'x').slice(16, 32), MAX_LONG.toString(16));
  });
});
