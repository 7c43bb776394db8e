import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveModel, type LiveView } from '../../../local/live/model';
import {
  formatBytes,
  formatMs,
  renderFrame,
  renderStatusLine,
  renderSummary,
} from '../../../local/live/render';
import { blobSnapshot, NSG_BLOB, stackSnapshot, summary, VNET_BLOB, visible } from './support';

const T0 = Date.parse('2026-11-30T03:30:00Z');

function entity(
  consumed: number,
  offset: number,
  extra: Partial<{ lastError: string; failureCount: number }> = {},
) {
  return {
    cursorByteOffset: offset,
    consumedRecords: consumed,
    generation: 0,
    lastError: null,
    failureCount: 0,
    runs: consumed,
    ...extra,
  };
}

/** A view with three blobs (caught up, behind, failed), talkers, denied sources and two windows. */
function sampleView(extraBlobs = 0): LiveView {
  const model = new LiveModel(T0);
  model.setHeader({
    source: 'simulated 1 NSG + 1 VNet NICs',
    detail: '1 block/blob every 2 s · 10 min/hour',
    endpoints: ['API http://127.0.0.1:7071/api/blobs', 'Event Hub amqp://127.0.0.1:5672/flow-summaries'],
  });
  model.commit(NSG_BLOB, 0, T0);
  model.hubEvent(
    summary({
      srcIp: '10.0.0.3',
      dstIp: '8.8.8.8',
      bytesSrcToDst: 350,
      packetsSrcToDst: 6,
      windowStart: '2026-11-30T03:01:00Z',
    }),
    T0 + 420,
  );
  model.hubEvent(
    summary({ srcIp: '10.0.0.1', dstIp: '20.60.128.4', bytesSrcToDst: 2_500_000, packetsSrcToDst: 1800 }),
    T0 + 500,
  );
  model.hubEvent(
    summary({
      srcIp: '45.146.164.110',
      dstIp: '10.0.0.1',
      dstPort: 22,
      decision: 'Deny',
      rule: 'DefaultRule_DenyAllInBound',
      tuples: 3,
      flowsDenied: 3,
    }),
    T0 + 500,
  );
  const failedName = NSG_BLOB.replace('NSG-WEB', 'NSG-DB');
  const blobs = [
    blobSnapshot({
      name: NSG_BLOB,
      committedRecords: 4,
      committedLength: 4000,
      entity: entity(4, 3998),
      runtimeStatus: 'Completed',
    }),
    blobSnapshot({
      name: VNET_BLOB,
      logType: 'vnet',
      committedRecords: 4,
      committedLength: 5000,
      entity: entity(3, 3700),
      runtimeStatus: 'Running',
    }),
    blobSnapshot({
      name: failedName,
      committedRecords: 2,
      committedLength: 2000,
      entity: entity(1, 1000, { lastError: 'emit: Event Hubs is busy (ServerBusy)', failureCount: 5 }),
      runtimeStatus: 'Failed',
    }),
  ];
  for (let i = 0; i < extraBlobs; i++)
    blobs.push(
      blobSnapshot({
        name: NSG_BLOB.replace('NSG-WEB', `NSG-X${i}`),
        committedRecords: 1,
        committedLength: 900,
        entity: entity(1, 898),
      }),
    );
  model.snapshot(stackSnapshot(T0, { blobs, retiredBlobs: 5 }));
  model.snapshot(
    stackSnapshot(T0 + 1000, {
      blobs,
      retiredBlobs: 5,
      app: { 'tuples.parsed': 120, 'summaries.built': 60, 'runs.started': 7 },
      writer: { ...stackSnapshot(0).writer, blocks: 10, eventsSent: 10, dataTime: '2026-11-30T03:04:00Z' },
      runs: { completed: 6, failed: 1 },
    }),
  );
  return model.view(T0 + 1000);
}

function assertWithin(lines: readonly string[], width: number) {
  for (const line of lines)
    assert.ok([...visible(line)].length <= width, `wider than ${width}: "${visible(line)}"`);
}

describe('live screen', () => {
  test('80 columns: every section, the right rows, nothing wider than the screen', () => {
    const lines = renderFrame(sampleView(), { width: 80 });
    assertWithin(lines, 80);
    const text = lines.join('\n');
    assert.match(lines[0]!, /^flowlog live {2}simulated 1 NSG \+ 1 VNet NICs/);
    assert.match(lines[0]!, /00:00:01 running$/);
    for (const title of [
      'Throughput',
      'Blobs',
      'Top talkers',
      'Denied flows',
      'Latest windows',
      'Runs & activities',
    ])
      assert.match(text, new RegExp(`── ${title}`));
    // Blob rows: label, hour, read/committed blocks, lag bytes and blocks, state.
    const row = (label: string) => lines.find((l) => l.startsWith(label)) ?? '';
    assert.match(row('NSG-WEB 0000A1'), /11-30 03h +4\/4 +0 B +0 caught up/);
    assert.match(row('VNET-HUB-FLOWLOG 0000B2'), /3\/4 +1\.3 kB +1 running/);
    assert.match(row('NSG-DB 0000A1'), /1\/2 +998 B +1 failed/);
    assert.match(text, /3 shown of 8 · 2 lagging · 1 failed · lag 2\.3 kB \/ 2 blocks/);
    // Talkers by bytes, then the denied source with its rule.
    const talkers = lines.slice(lines.findIndex((l) => l.startsWith('── Top talkers')) + 1);
    assert.match(talkers[0]!, /^10\.0\.0\.1 → 20\.60\.128\.4 +2\.5 MB +1800 pkts/);
    assert.match(talkers[1]!, /^10\.0\.0\.3 → 8\.8\.8\.8 +350 B +6 pkts/);
    assert.match(text, /45\.146\.164\.110 +3 denied +1 port · 1 target +DefaultRule_DenyAllInBound/);
    assert.match(text, /03:01 +1 rows +1 tuples +350 B +0 denied +1 blobs/);
    assert.match(text, /03:00 +2 rows +4 tuples +2\.5 MB +3 denied +1 blobs/);
    assert.match(text, /p50 420 ms/);
    assert.match(text, /runs +6 done · 1 failed · events started 7, joined 0/);
  });

  test('wide screens put talkers beside denied flows and show the last error', () => {
    const lines = renderFrame(sampleView(), { width: 140 });
    assertWithin(lines, 140);
    assert.ok(lines.some((l) => /10\.0\.0\.1 → 20\.60\.128\.4 .*45\.146\.164\.110 +3 denied/.test(l)));
    assert.ok(lines.some((l) => /^NSG-DB 0000A1 .*failed .*emit: Event Hubs is busy \(ServerBusy\)/.test(l)));
  });

  test('a short screen keeps the header and cuts the blob list with a count of what is hidden', () => {
    const view = sampleView(12);
    for (const [width, height] of [
      [80, 24],
      [140, 24],
      [100, 12],
    ] as const) {
      const lines = renderFrame(view, { width, height, color: true });
      assert.ok(lines.length <= height, `${lines.length} lines for ${height} rows`);
      assertWithin(lines, width);
      assert.match(visible(lines[0]!), /^flowlog live/);
      assert.ok(lines.some((l) => /── Blobs/.test(visible(l))));
      assert.ok(lines.some((l) => /^… \d+ more$/.test(visible(l))));
    }
  });

  test('colours are ANSI codes around the text, never counted in the width', () => {
    const lines = renderFrame(sampleView(), { width: 90, color: true });
    assert.ok(lines.some((l) => l.includes('\x1b[')));
    assertWithin(lines, 90);
    for (const width of [20, 33, 57]) assertWithin(renderFrame(sampleView(), { width, color: true }), width);
  });

  test('status line and exit summary', () => {
    const view = sampleView();
    const status = renderStatusLine(view);
    assert.match(status, /^\[00:00:01\] running · data 11-30 03:04 · blocks 10 · hub 3 summaries/);
    assert.match(status, /lag 2\.3 kB\/2 blk \(2 of 3 behind\)/);
    const summaryLines = renderSummary(view);
    assert.match(summaryLines[0]!, /10 blocks written to 8 blobs, 3 summaries reached the hub/);
    assert.ok(summaryLines.some((l) => l.includes('top talker: 10.0.0.1 → 20.60.128.4 2.5 MB')));
  });

  test('number formats', () => {
    assert.deepEqual(
      [formatBytes(999), formatBytes(1000), formatBytes(2_345_678), formatBytes(3e9)],
      ['999 B', '1.0 kB', '2.3 MB', '3.00 GB'],
    );
    assert.deepEqual([formatMs(null), formatMs(420.4), formatMs(1234)], ['–', '420 ms', '1.23 s']);
  });
});
