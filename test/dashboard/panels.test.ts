/**
 * The dashboard's panels (domain/analysis/panels.ts) against the KQL functions they mirror
 * (deploy/generate/functions.ts): the columns each function's summarize makes, the groups and the
 * numbers over the same rows, dedup by id, the hourly rollup switch and the Flows() remote view.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ANALYSIS_FUNCTIONS, BASE_FUNCTIONS } from '../../deploy/generate/functions';
import { countOnce } from '../../domain/analysis/double-logging';
import {
  blobFreshness,
  computePanelSets,
  computePanels,
  flows,
  ipv4IsPrivate,
  NEW_EXTERNAL_BASELINE_MS,
  NEW_EXTERNAL_RECENT_MS,
  newExternalIps,
  PANEL_MIRRORS,
  type PanelsData,
  RANGE_PRESETS,
  type RangePreset,
  remoteIsPublic,
  resolveRange,
  SummaryStore,
} from '../../domain/analysis/panels';
import { blankSummary, type FlowSummary } from '../../domain/summary/schema';

const ROOT = join(__dirname, '..', '..');
const T0 = Date.parse('2026-11-30T03:00:00Z');
const NSG = '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG-WEB';
const VNET = '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/VNET-HUB';

let seq = 0;
function row(fields: Partial<FlowSummary>): FlowSummary {
  seq++;
  return blankSummary({
    id: `id${seq}`,
    blob: 'aaaaaaaaaaaaaaaa',
    recordOffset: 0,
    recordTime: new Date(T0).toISOString(),
    windowStart: new Date(T0).toISOString(),
    logType: 'nsg',
    resourceId: NSG,
    macAddress: '000D3A0000A1',
    rule: 'DefaultRule_AllowInternetOutBound',
    direction: 'Outbound',
    decision: 'Allow',
    protocol: 'TCP',
    srcIp: '10.0.0.4',
    dstIp: '52.1.1.1',
    dstPort: 443,
    tuples: 1,
    ...fields,
  });
}

/** The output columns of a KQL function: the last summarize's aggregates and by-columns, then extends. */
function kqlColumns(body: string): string[] {
  const at = body.lastIndexOf('| summarize');
  assert.ok(at >= 0, 'a summarize');
  const tail = body.slice(at + '| summarize'.length);
  const end = tail.search(/\n\|/);
  const summarize = end < 0 ? tail : tail.slice(0, end);
  const [aggs, by = ''] = summarize.split(/\n\s*by\s+/);
  const names = (list: string) => {
    const out: string[] = [];
    let depth = 0;
    let current = '';
    for (const ch of list) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === ',' && depth === 0) {
        out.push(current);
        current = '';
      } else current += ch;
    }
    out.push(current);
    return out
      .map((x) => x.trim())
      .filter((x) => x !== '')
      .map((x) => (/^(\w+)\s*=/.exec(x)?.[1] ?? x).trim());
  };
  const cols = [...names(aggs ?? ''), ...names(by)];
  for (const m of body.slice(at).matchAll(/\| extend (\w+) =/g)) cols.push(m[1]!);
  return cols;
}

function fn(name: string) {
  const f = [...BASE_FUNCTIONS, ...ANALYSIS_FUNCTIONS].find((x) => x.name === name);
  assert.ok(f, `${name} is a shipped function`);
  return f;
}

/** A mixed set: two resources, both directions, denied scans from abroad, service tags, private peers. */
function sample(): FlowSummary[] {
  const at = (m: number) => new Date(T0 + m * 60_000).toISOString();
  return [
    row({
      windowStart: at(0),
      bytesSrcToDst: 1000,
      bytesDstToSrc: 5000,
      packetsSrcToDst: 3,
      packetsDstToSrc: 4,
      flowsStarted: 1,
      dstCountry: 'US',
      dstLat: 40,
      dstLon: -75,
      dstServiceTag: 'Storage.EastUS',
      dstAzureRegion: 'eastus',
      flowType: 'AzurePublic',
      l7Protocol: 'https',
    }),
    row({
      windowStart: at(1),
      bytesSrcToDst: 200,
      bytesDstToSrc: 300,
      dstIp: '52.1.1.2',
      dstCountry: 'US',
      dstLat: 42,
      dstLon: -71,
      flowType: 'ExternalPublic',
      l7Protocol: 'https',
    }),
    row({
      windowStart: at(1),
      srcIp: '10.0.0.5',
      dstIp: '10.0.1.9',
      bytesSrcToDst: 700,
      flowType: 'IntraVNet',
      dstPort: 1433,
      l7Protocol: 'ms-sql-s',
    }),
    row({
      windowStart: at(2),
      direction: 'Inbound',
      decision: 'Deny',
      rule: 'DenyAllInBound',
      srcIp: '203.0.113.7',
      dstIp: '10.0.0.4',
      dstPort: 22,
      flowsDenied: 3,
      tuples: 3,
      srcCountry: 'CN',
      srcLat: 30,
      srcLon: 120,
      srcAsOrg: 'Example AS',
      flowType: 'ExternalPublic',
      l7Protocol: 'ssh',
    }),
    row({
      windowStart: at(2),
      direction: 'Inbound',
      decision: 'Deny',
      rule: 'DenyAllInBound',
      srcIp: '203.0.113.7',
      dstIp: '10.0.0.5',
      dstPort: 3389,
      flowsDenied: 2,
      tuples: 2,
      srcCountry: 'CN',
      srcLat: 32,
      srcLon: 121,
      flowType: 'ExternalPublic',
      l7Protocol: 'ms-wbt-server',
    }),
    row({
      windowStart: at(3),
      direction: 'Inbound',
      decision: 'Deny',
      rule: 'DenyAllInBound',
      srcIp: '198.51.100.9',
      dstIp: '10.0.0.4',
      dstPort: 22,
      flowsDenied: 1,
      srcCountry: null,
      srcLabel: 'scanners',
      flowType: 'MaliciousFlow',
      l7Protocol: 'ssh',
    }),
    row({
      windowStart: at(4),
      logType: 'vnet',
      resourceId: VNET,
      macAddress: '000D3A0000B2',
      srcIp: '10.1.0.4',
      dstIp: '20.2.2.2',
      bytesSrcToDst: 9000,
      bytesDstToSrc: 1000,
      dstServiceTag: 'AzureCloud',
      dstCountry: 'NL',
      dstLat: 52,
      dstLon: 5,
      flowType: 'AzurePublic',
      flowsEncrypted: 0,
      l7Protocol: 'https',
      blob: 'bbbbbbbbbbbbbbbb',
      recordOffset: 10,
    }),
    row({
      windowStart: at(5),
      logType: 'vnet',
      resourceId: VNET,
      macAddress: '000D3A0000B2',
      direction: 'Inbound',
      srcIp: '20.2.2.2',
      dstIp: '10.1.0.4',
      bytesSrcToDst: 50,
      bytesDstToSrc: 60,
      srcServiceTag: 'AzureCloud',
      srcCountry: 'NL',
      flowType: 'AzurePublic',
      flowsEncrypted: 1,
      l7Protocol: 'https',
      blob: 'bbbbbbbbbbbbbbbb',
      recordOffset: 900,
      recordTime: new Date(T0 + 5 * 60_000).toISOString(),
    }),
  ];
}

// minScanPorts 2: the sample's one scanner (203.0.113.7) tries two ports.
const RANGE = { from: T0, to: T0 + 10 * 60_000, now: T0 + 10 * 60_000, minScanPorts: 2 };

describe('dashboard panels (domain/analysis/panels.ts) mirror the KQL functions', () => {
  test('each mirrored panel has exactly the columns its function returns, plus the listed extras', () => {
    const p = computePanels(sample(), RANGE);
    for (const [key, m] of Object.entries(PANEL_MIRRORS)) {
      const data = p[key as keyof typeof PANEL_MIRRORS] as readonly object[];
      assert.ok(data.length > 0, `${key} has rows on the sample`);
      const columns = Object.keys(data[0]!).sort();
      if (m.kql === null) continue;
      const expected = [...kqlColumns(fn(m.kql).body), ...m.extra].sort();
      assert.deepEqual(columns, expected, `${key} vs ${m.kql}`);
    }
  });

  test('the Flows() view: bytes, packets, local/remote side and remotePublic as the KQL says', () => {
    const body = fn('Flows').body;
    // The names the TypeScript view computes are the ones Flows() extends the rows with.
    for (const name of [
      'bytes',
      'packets',
      'inbound',
      'localIp',
      'remoteIp',
      'remoteCountry',
      'remoteServiceTag',
      'resourceName',
      'remotePublic',
    ])
      assert.match(body, new RegExp(`\\b${name} = `), name);
    assert.match(body, /flowType in \("ExternalPublic", "MaliciousFlow", "AzurePublic"\), true/);
    assert.match(body, /flowType in \("IntraVNet", "InterVNet", "S2S", "P2S", "UnknownPrivate"\), false/);
    assert.equal(remoteIsPublic('AzurePublic', null, '10.0.0.1'), true);
    assert.equal(remoteIsPublic('IntraVNet', 'US', '52.1.1.1'), false);
    assert.equal(remoteIsPublic(null, 'US', '10.0.0.1'), true);
    assert.equal(remoteIsPublic('Unknown', null, '8.8.8.8'), true);
    assert.equal(remoteIsPublic(null, null, '192.168.1.1'), false);
    // ipv4_is_private is null for IPv6: coalesce(..., false) makes it not public.
    assert.equal(remoteIsPublic(null, null, '2001:db8::1'), false);
    assert.equal(ipv4IsPrivate('172.31.255.1'), true);
    assert.equal(ipv4IsPrivate('172.32.0.1'), false);
    assert.equal(ipv4IsPrivate('999.1.1.1'), null);
    const [inbound] = flows([sample()[3]!], RANGE.from, RANGE.to).rows;
    assert.equal(inbound?.localIp, '10.0.0.4');
    assert.equal(inbound?.remoteIp, '203.0.113.7');
    assert.equal(inbound?.resourceName, 'NSG-WEB');
  });

  test('the numbers over a known sample', () => {
    const p = computePanels(sample(), { ...RANGE, stepMs: 5 * 60_000 });
    assert.deepEqual(p.totals, {
      summaries: 8,
      bytes: 1000 + 5000 + 500 + 700 + 10_000 + 110,
      packets: 7,
      tuples: 11,
      flowsStarted: 1,
      flowsDenied: 6,
      localIps: 3,
      remoteIps: 6,
    });
    // FlowTimeline: 5-minute buckets by decision.
    assert.deepEqual(
      p.timeline.map((t) => [t.windowStart.slice(11, 16), t.decision, t.bytes, t.flowsDenied]),
      [
        ['03:00', 'Allow', 17_200, 0],
        ['03:00', 'Deny', 0, 6],
        ['03:05', 'Allow', 110, 0],
      ],
    );
    // TopTalkers: the local side; bytes sent by the local host whichever direction.
    const t = p.topTalkers.find((x) => x.localIp === '10.1.0.4');
    assert.deepEqual([t?.bytes, t?.bytesSent, t?.bytesReceived, t?.peers], [10_110, 9000 + 60, 1000 + 50, 1]);
    assert.equal(p.topTalkers[0]?.localIp, '10.1.0.4');
    assert.equal(p.topTalkers.find((x) => x.localIp === '10.0.0.4')?.peers, 4);
    // DeniedInboundBySource, ordered by denied flows.
    assert.deepEqual(
      p.deniedBySource.map((d) => [d.srcIp, d.deniedFlows, d.targets, d.ports, d.country, d.topPorts]),
      [
        ['203.0.113.7', 5, 2, 2, 'CN', [22, 3389]],
        ['198.51.100.9', 1, 1, 1, null, [22]],
      ],
    );
    assert.deepEqual(
      p.deniedByCountry.map((d) => [d.country, d.deniedFlows, d.sources, d.lat, d.lon]),
      [
        ['CN', 5, 1, 31, 120.5],
        ['(unknown)', 1, 1, null, null],
      ],
    );
    // TrafficByCountry: only public remotes (the IntraVNet row is not there), by remote country.
    assert.deepEqual(
      p.trafficByCountry.map((c) => [c.country, c.bytes, c.remoteIps]),
      [
        ['NL', 10_110, 1],
        ['US', 6500, 2],
        ['(unknown)', 0, 1],
        ['CN', 0, 1],
      ],
    );
    assert.deepEqual(
      p.flowTypes.map((f) => [f.flowType, f.bytes, f.tuples]),
      [
        ['AzurePublic', 16_110, 3],
        ['IntraVNet', 700, 1],
        ['ExternalPublic', 500, 6],
        ['MaliciousFlow', 0, 1],
      ],
    );
    assert.deepEqual(
      p.serviceTags.map((s) => [s.serviceTag, s.bytes, s.region]),
      [
        ['AzureCloud', 10_110, null],
        ['Storage.EastUS', 6000, 'eastus'],
      ],
    );
    // TopPorts by tuples (a tie: ADX orders ties as it likes, the dashboard by port).
    assert.deepEqual(
      p.topPorts.map((x) => [x.dstPort, x.protocol, x.l7Protocol, x.tuples, x.hosts]),
      [
        [22, 'TCP', 'ssh', 4, 1],
        [443, 'TCP', 'https', 4, 2],
        [3389, 'TCP', 'ms-wbt-server', 2, 1],
        [1433, 'TCP', 'ms-sql-s', 1, 1],
      ],
    );
    // BlobFreshness: per blob id; the VNet blob's newest record is 5 minutes before now.
    assert.deepEqual(
      p.blobFreshness.map((b) => [b.blob, b.records, b.summaries, b.ageMinutes]),
      [
        ['bbbbbbbbbbbbbbbb', 2, 2, 5],
        ['aaaaaaaaaaaaaaaa', 1, 6, 10],
      ],
    );
    // NewExternalIps(15m, 7d) as of the range's now (T0 + 10 min): every public remote is new, newest first.
    assert.deepEqual(
      p.newExternalIps.map((x) => [
        x.remoteIp,
        (Date.parse(x.firstSeen) - T0) / 60_000,
        x.tuples,
        x.localIps,
      ]),
      [
        ['20.2.2.2', 4, 2, 1],
        ['198.51.100.9', 3, 1, 1],
        ['203.0.113.7', 2, 5, 2],
        ['52.1.1.2', 1, 1, 1],
        ['52.1.1.1', 0, 1, 1],
      ],
    );
    // As of T0 + 20 min the last 15 minutes hold only 20.2.2.2's inbound row, and it was seen before.
    assert.deepEqual(computePanels(sample(), { ...RANGE, now: T0 + 20 * 60_000 }).newExternalIps, []);
    // As of T0 + 18 min (recent: from T0 + 3 min) the three addresses of the first three minutes are known.
    assert.deepEqual(
      computePanels(sample(), { ...RANGE, now: T0 + 18 * 60_000 }).newExternalIps.map((x) => x.remoteIp),
      ['20.2.2.2', '198.51.100.9'],
    );
    // PortScanSuspects: 203.0.113.7 tried two ports on two hosts, all denied.
    assert.deepEqual(p.portScanSuspects, [
      {
        srcIp: '203.0.113.7',
        ports: 2,
        targets: 2,
        tuples: 5,
        flowsDenied: 5,
        firstSeen: new Date(T0 + 2 * 60_000).toISOString(),
        lastSeen: new Date(T0 + 2 * 60_000).toISOString(),
        country: 'CN',
        asOrg: 'Example AS',
        flowType: 'ExternalPublic',
        deniedShare: 1,
      },
    ]);
    assert.deepEqual(computePanels(sample(), { ...RANGE, minScanPorts: undefined }).portScanSuspects, []);
    // InternetExposedPorts: only the VNet NIC accepted an inbound flow from a public address.
    assert.deepEqual(p.internetExposedPorts, [
      {
        localIp: '10.1.0.4',
        dstPort: 443,
        protocol: 'TCP',
        l7Protocol: 'https',
        tuples: 1,
        bytes: 110,
        sources: 1,
        countries: 1,
        lastSeen: new Date(T0 + 5 * 60_000).toISOString(),
      },
    ]);
    // MaliciousFlows: the scanner on the threat labels, denied.
    assert.deepEqual(p.maliciousFlows, [
      {
        remoteIp: '198.51.100.9',
        direction: 'Inbound',
        tuples: 1,
        allowedTuples: 0,
        bytes: 0,
        flowsDenied: 1,
        localIps: 1,
        ports: [22],
        country: null,
        asOrg: null,
        label: 'scanners',
        lastSeen: new Date(T0 + 3 * 60_000).toISOString(),
      },
    ]);
    // UnencryptedFlows: the VNet NIC's outbound tuple is not encrypted, its inbound one is; NSG rows
    // carry no encryption state and are not listed.
    assert.deepEqual(p.unencryptedFlows, [
      {
        resourceName: 'VNET-HUB',
        resourceId: VNET,
        macAddress: '000D3A0000B2',
        unencryptedFlows: 1,
        encryptedFlows: 1,
        unencryptedBytes: 10_000,
        remoteIps: 1,
        lastWindow: new Date(T0 + 5 * 60_000).toISOString(),
        unencryptedShare: 50,
      },
    ]);
  });

  test('the resource filter keeps one resource; the range keeps windowStart in [from, to)', () => {
    const all = computePanels(sample(), RANGE);
    const nsg = computePanels(sample(), { ...RANGE, resourceId: NSG });
    const vnet = computePanels(sample(), { ...RANGE, resourceId: VNET });
    assert.equal(nsg.totals.bytes + vnet.totals.bytes, all.totals.bytes);
    assert.deepEqual(
      vnet.blobFreshness.map((b) => b.blob),
      ['bbbbbbbbbbbbbbbb'],
    );
    const late = computePanels(sample(), { ...RANGE, from: T0 + 4 * 60_000, to: T0 + 5 * 60_000 });
    assert.equal(late.totals.summaries, 1);
    assert.equal(late.totals.bytes, 10_000);
  });

  test('over 2 days: the hourly rollup (windows rounded to the hour, range rounded out to whole hours)', () => {
    const rows = [
      row({ windowStart: '2026-11-30T02:59:00Z', bytesSrcToDst: 1 }),
      row({ windowStart: '2026-11-30T03:10:00Z', bytesSrcToDst: 2 }),
    ];
    const from = Date.parse('2026-11-30T02:30:00Z');
    const f = flows(rows, from, from + 3 * 24 * 3600_000);
    assert.equal(f.hourly, true);
    assert.deepEqual(
      f.rows.map((r) => new Date(r.windowStart).toISOString()),
      ['2026-11-30T02:00:00.000Z', '2026-11-30T03:00:00.000Z'],
    );
    const minute = flows(rows, from, from + 3600_000);
    assert.equal(minute.hourly, false);
    const p = computePanels(rows, { from, to: from + 3 * 24 * 3600_000, now: from, stepMs: 60_000 });
    assert.equal(p.bucketMs, 3600_000, 'FlowTimeline: at least 1h on the rollup');
    assert.match(fn('FlowTimeline').body, /iff\(end - start > 2d, 1h, 1m\)/);
  });

  test('BlobFreshness reads only windows inside the lookback, ages from now', () => {
    const rows = [
      row({
        blob: 'cccccccccccccccc',
        windowStart: '2026-11-30T00:00:00Z',
        recordTime: '2026-11-30T00:01:00Z',
      }),
      row({
        blob: 'dddddddddddddddd',
        windowStart: '2026-11-30T02:00:00Z',
        recordTime: '2026-11-30T02:01:00Z',
      }),
    ];
    const now = Date.parse('2026-11-30T03:31:00Z');
    assert.deepEqual(
      blobFreshness(rows, now, 3 * 3600_000).map((b) => [b.blob, b.ageMinutes]),
      [['dddddddddddddddd', 90]],
    );
    assert.match(fn('BlobFreshness').body, /where windowStart > ago\(lookback\)/);
  });

  test('flows logged twice count once, as Flows() counts them by default (docs/double-logging.md)', () => {
    // One NIC, one minute, one flow: logged by its VNet flow log and, during the migration, by the NSG.
    const vnetRow = row({ logType: 'vnet', resourceId: VNET, tuples: 3, bytesSrcToDst: 3_000 });
    const nsgRow = row({ logType: 'nsg', resourceId: NSG, tuples: 3, bytesSrcToDst: 3_000 });
    // Another NIC logged by the NSG alone keeps its row.
    const other = row({ macAddress: '000D3A0000B2', srcIp: '10.0.0.9', tuples: 2, bytesSrcToDst: 500 });
    const rows = [nsgRow, vnetRow, other];
    const counted = computePanels(rows, RANGE);
    assert.equal(counted.totals.summaries, 2);
    assert.equal(counted.totals.bytes, 3_500);
    assert.deepEqual(
      countOnce(rows).map((r) => r.id),
      [vnetRow.id, other.id],
      'the same rule as the dashboard applied',
    );
    // `Flows(start, end, false)`: every row as logged.
    const logged = computePanels(rows, { ...RANGE, countOnce: null });
    assert.equal(logged.totals.summaries, 3);
    assert.equal(logged.totals.bytes, 6_500);
  });

  test('dedup by id: rows delivered twice (at-least-once) count once', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 7 }), { maxLength: 30 }), (repeats) => {
        const once = sample();
        const store = new SummaryStore();
        store.add(once);
        for (const i of repeats) store.add([{ ...once[i]! }]);
        assert.equal(store.size, once.length);
        assert.equal(store.duplicates, repeats.length);
        assert.deepEqual(computePanels(store.rows(), RANGE), computePanels(once, RANGE));
      }),
      { numRuns: 30 },
    );
  });

  test('panel sums agree with the totals for any rows (generated)', () => {
    const arb = fc.record({
      minute: fc.nat({ max: 59 }),
      inbound: fc.boolean(),
      deny: fc.boolean(),
      src: fc.constantFrom('10.0.0.4', '10.0.0.5', '203.0.113.7', '52.1.1.1', '2001:db8::1'),
      dst: fc.constantFrom('10.0.0.4', '10.0.1.9', '52.1.1.2', '8.8.8.8'),
      bytes: fc.nat({ max: 100_000 }),
      tuples: fc.integer({ min: 1, max: 5 }),
      country: fc.constantFrom(null, 'US', 'DE'),
      flowType: fc.constantFrom(null, 'IntraVNet', 'ExternalPublic', 'AzurePublic', 'Unknown'),
      port: fc.constantFrom(22, 443, 3389),
    });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 60 }), (specs) => {
        const rows = specs.map((x) =>
          row({
            windowStart: new Date(T0 + x.minute * 60_000).toISOString(),
            direction: x.inbound ? 'Inbound' : 'Outbound',
            decision: x.deny ? 'Deny' : 'Allow',
            srcIp: x.src,
            dstIp: x.dst,
            bytesSrcToDst: x.bytes,
            tuples: x.tuples,
            flowsDenied: x.deny ? x.tuples : 0,
            srcCountry: x.inbound ? x.country : null,
            dstCountry: x.inbound ? null : x.country,
            flowType: x.flowType,
            dstPort: x.port,
          }),
        );
        const p: PanelsData = computePanels(rows, { from: T0, to: T0 + 3600_000, now: T0, top: 1000 });
        const total = (xs: readonly { bytes: number }[]) => xs.reduce((a, b) => a + b.bytes, 0);
        assert.equal(total(p.timeline), p.totals.bytes);
        assert.equal(total(p.topTalkers), p.totals.bytes);
        assert.equal(total(p.topConversations), p.totals.bytes);
        assert.equal(total(p.flowTypes), p.totals.bytes);
        assert.equal(total(p.topPorts), p.totals.bytes);
        const denied = p.deniedBySource.reduce((a, b) => a + b.deniedFlows, 0);
        assert.equal(
          denied,
          rows.filter((r) => r.direction === 'Inbound').reduce((a, r) => a + r.flowsDenied, 0),
        );
        assert.equal(
          p.deniedByCountry.reduce((a, b) => a + b.deniedFlows, 0),
          denied,
        );
        for (const t of p.topTalkers) assert.equal(t.bytesSent + t.bytesReceived, t.bytes);
      }),
      { numRuns: 60 },
    );
  });

  test("a report's panel sets equal computePanels for every range and resource (generated)", () => {
    // Spans from minutes to days: presets that pick the same rows share their panels (only the time
    // line differs), ranges over 2 days read the hourly rollup; two resources, NSG under VNet logging.
    const arb = fc.record({
      minute: fc.oneof(fc.nat({ max: 30 }), fc.nat({ max: 8 * 24 * 60 })),
      vnet: fc.boolean(),
      inbound: fc.boolean(),
      deny: fc.boolean(),
      src: fc.constantFrom('10.0.0.4', '10.0.0.5', '203.0.113.7'),
      dst: fc.constantFrom('10.0.0.4', '52.1.1.2', '8.8.8.8'),
      bytes: fc.nat({ max: 100_000 }),
      country: fc.constantFrom(null, 'US', 'DE'),
      port: fc.constantFrom(22, 443),
    });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 40 }), (specs) => {
        const rows = specs.map((x) =>
          row({
            windowStart: new Date(T0 + x.minute * 60_000).toISOString(),
            logType: x.vnet ? 'vnet' : 'nsg',
            resourceId: x.vnet ? VNET : NSG,
            direction: x.inbound ? 'Inbound' : 'Outbound',
            decision: x.deny ? 'Deny' : 'Allow',
            srcIp: x.src,
            dstIp: x.dst,
            bytesSrcToDst: x.bytes,
            flowsDenied: x.deny ? 1 : 0,
            srcCountry: x.inbound ? x.country : null,
            dstCountry: x.inbound ? null : x.country,
            dstPort: x.port,
          }),
        );
        const store = new SummaryStore(Number.MAX_SAFE_INTEGER);
        store.add(rows);
        const { extent, now, sets } = computePanelSets(rows, store.resources());
        assert.deepEqual(extent, store.extent());
        if (extent !== null) assert.equal(now, extent.to);
        for (const preset of Object.keys(RANGE_PRESETS) as RangePreset[]) {
          const range = resolveRange(preset, extent, now);
          for (const resource of ['', ...store.resources()]) {
            const expected = computePanels(rows, { ...range, resourceId: resource || null, now });
            assert.deepEqual(sets[preset]?.[resource], expected, `${preset} ${resource || 'all'}`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  test('NewExternalIps in one pass equals the three Flows() calls of the KQL (generated)', () => {
    const HOUR_MS = 3_600_000;
    const reference = (rows: FlowSummary[], asOf: number) => {
      const t0 = asOf - NEW_EXTERNAL_RECENT_MS;
      const before = new Set<string>();
      for (const [from, to] of [
        [t0 - NEW_EXTERNAL_BASELINE_MS, Math.floor(t0 / HOUR_MS) * HOUR_MS],
        [Math.floor(t0 / HOUR_MS) * HOUR_MS, t0],
      ] as const)
        for (const r of flows(rows, from, to, countOnce).rows) if (r.remotePublic) before.add(r.remoteIp);
      return [
        ...new Set(
          flows(rows, t0, asOf, countOnce)
            .rows.filter((r) => r.remotePublic && !before.has(r.remoteIp))
            .map((r) => r.remoteIp),
        ),
      ].sort();
    };
    const arb = fc.record({
      minute: fc.integer({ min: -9 * 24 * 60, max: 30 }),
      inbound: fc.boolean(),
      remote: fc.constantFrom('52.1.1.1', '52.1.1.2', '203.0.113.7', '8.8.8.8', '10.0.0.9'),
      country: fc.constantFrom(null, 'US'),
      flowType: fc.constantFrom(null, 'ExternalPublic', 'IntraVNet', 'MaliciousFlow'),
    });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (specs, asOfMinute) => {
        const rows = specs.map((x) =>
          row({
            windowStart: new Date(T0 + x.minute * 60_000).toISOString(),
            direction: x.inbound ? 'Inbound' : 'Outbound',
            srcIp: x.inbound ? x.remote : '10.0.0.4',
            dstIp: x.inbound ? '10.0.0.4' : x.remote,
            srcCountry: x.inbound ? x.country : null,
            dstCountry: x.inbound ? null : x.country,
            flowType: x.flowType,
          }),
        );
        const asOf = T0 + asOfMinute * 60_000;
        assert.deepEqual(
          newExternalIps(rows, asOf, 1000, countOnce)
            .map((x) => x.remoteIp)
            .sort(),
          reference(rows, asOf),
        );
      }),
      { numRuns: 100 },
    );
  });

  test('docs/dashboard.md names the KQL function of every panel', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'dashboard.md'), 'utf8');
    for (const m of Object.values(PANEL_MIRRORS))
      if (m.kql !== null) assert.match(doc, new RegExp(`\`${m.kql}\\(`));
    assert.match(doc, /remoteServiceTag/);
  });
});
