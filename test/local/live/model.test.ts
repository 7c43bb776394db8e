import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blobLabel, blobRow, LiveModel, percentile } from '../../../local/live/model';
import { blobSnapshot, NSG_BLOB, stackSnapshot, summary, VNET_BLOB } from './support';

const W1 = '2026-11-30T03:00:00Z';
const W2 = '2026-11-30T03:01:00Z';
const W3 = '2026-11-30T03:02:00Z';

/** Eight summaries over two windows: four talker pairs (two ties on bytes) and two denied sources. */
function knownEvents() {
  return [
    summary({
      srcIp: '10.0.0.1',
      dstIp: '20.60.128.4',
      bytesSrcToDst: 100,
      bytesDstToSrc: 50,
      packetsSrcToDst: 2,
      packetsDstToSrc: 1,
    }),
    summary({
      srcIp: '10.0.0.2',
      dstIp: '20.60.128.4',
      bytesSrcToDst: 200,
      bytesDstToSrc: 100,
      packetsSrcToDst: 4,
    }),
    summary({
      srcIp: '10.0.0.1',
      dstIp: '20.60.128.4',
      windowStart: W2,
      recordOffset: 1,
      bytesSrcToDst: 200,
      packetsSrcToDst: 1,
    }),
    summary({
      srcIp: '10.0.0.3',
      dstIp: '8.8.8.8',
      windowStart: W2,
      blob: VNET_BLOB,
      bytesSrcToDst: 350,
      packetsSrcToDst: 6,
      dstAsOrg: 'GOOGLE',
    }),
    summary({
      srcIp: '10.0.0.1',
      dstIp: '10.0.0.9',
      windowStart: W2,
      bytesDstToSrc: 300,
      packetsDstToSrc: 4,
    }),
    summary({
      srcIp: '45.146.164.110',
      dstIp: '10.0.0.1',
      dstPort: 22,
      decision: 'Deny',
      rule: 'DefaultRule_DenyAllInBound',
      tuples: 3,
      flowsDenied: 3,
    }),
    summary({
      srcIp: '45.146.164.110',
      dstIp: '10.0.0.2',
      dstPort: 445,
      windowStart: W2,
      decision: 'Deny',
      rule: 'DefaultRule_DenyAllInBound',
      tuples: 2,
      flowsDenied: 2,
    }),
    summary({
      srcIp: '185.224.128.17',
      dstIp: '10.0.0.1',
      dstPort: 3389,
      windowStart: W2,
      decision: 'Deny',
      rule: 'UserRule_deny-rdp',
      tuples: 4,
      flowsDenied: 4,
    }),
  ];
}

describe('live model', () => {
  test('top talkers: bytes both ways summed per src→dst over the windows, ties by packets then addresses; no 0-byte pairs', () => {
    const model = new LiveModel(0);
    for (const s of knownEvents()) model.hubEvent(s, 1000);
    const v = model.view(2000);
    assert.deepEqual(
      v.talkers.map((t) => [t.src, t.dst, t.bytes, t.packets, t.dstLabel]),
      [
        ['10.0.0.3', '8.8.8.8', 350, 6, 'GOOGLE'],
        ['10.0.0.1', '20.60.128.4', 350, 4, null],
        ['10.0.0.1', '10.0.0.9', 300, 4, null],
        ['10.0.0.2', '20.60.128.4', 300, 4, null],
      ],
    );
    assert.equal(v.totals.hubEvents, 8);
  });

  test('denied flows: denied tuples, distinct ports and targets per source, most denied first', () => {
    const model = new LiveModel(0);
    for (const s of knownEvents()) model.hubEvent(s, 1000);
    assert.deepEqual(model.view(2000).denied, [
      { src: '45.146.164.110', denied: 5, ports: 2, targets: 2, rule: 'DefaultRule_DenyAllInBound' },
      { src: '185.224.128.17', denied: 4, ports: 1, targets: 1, rule: 'UserRule_deny-rdp' },
    ]);
  });

  test('latest windows, newest first, with rows, tuples, bytes, denied tuples and blobs', () => {
    const model = new LiveModel(0);
    for (const s of knownEvents()) model.hubEvent(s, 1000);
    assert.deepEqual(model.view(2000).windows, [
      { windowStart: W2, rows: 5, tuples: 9, bytes: 850, denied: 6, blobs: 2 },
      { windowStart: W1, rows: 3, tuples: 5, bytes: 450, denied: 3, blobs: 1 },
    ]);
  });

  test('only the latest N windows count; a summary for an older window is left out', () => {
    const model = new LiveModel(0, { recentWindows: 2 });
    for (const s of knownEvents()) model.hubEvent(s, 1000);
    model.hubEvent(
      summary({ srcIp: '10.0.0.4', dstIp: '1.1.1.1', windowStart: W3, bytesSrcToDst: 1000 }),
      1000,
    );
    model.hubEvent(
      summary({ srcIp: '10.0.0.2', dstIp: '20.60.128.4', windowStart: W1, bytesSrcToDst: 5000 }),
      1000,
    );
    const v = model.view(2000);
    assert.deepEqual(
      v.windows.map((w) => w.windowStart),
      [W3, W2],
    );
    assert.equal(model.late, 1);
    assert.deepEqual(
      v.talkers.slice(0, 4).map((t) => [t.src, t.dst, t.bytes]),
      [
        ['10.0.0.4', '1.1.1.1', 1000],
        ['10.0.0.3', '8.8.8.8', 350],
        ['10.0.0.1', '10.0.0.9', 300],
        ['10.0.0.1', '20.60.128.4', 200],
      ],
    );
    assert.deepEqual(
      v.denied.map((d) => [d.src, d.denied, d.ports]),
      [
        ['185.224.128.17', 4, 1],
        ['45.146.164.110', 2, 1],
      ],
    );
  });

  test('latency: commit to first summary of the block, nearest-rank p50/p99 over the last minute', () => {
    const t0 = 1_000_000;
    const model = new LiveModel(t0);
    for (let k = 0; k < 10; k++) model.commit(NSG_BLOB, k, t0);
    for (let k = 0; k < 10; k++)
      model.hubEvent(summary({ srcIp: '10.0.0.1', dstIp: '8.8.8.8', recordOffset: k }), t0 + (k + 1) * 100);
    // A second summary of a block, and a redelivered one, are not new samples.
    model.hubEvent(summary({ srcIp: '10.0.0.2', dstIp: '8.8.8.8', recordOffset: 3 }), t0 + 5000);
    // A summary of another blob with the same ordinal is no sample either: that blob committed nothing.
    model.hubEvent(
      summary({ srcIp: '10.0.0.2', dstIp: '8.8.8.8', blob: VNET_BLOB, recordOffset: 0 }),
      t0 + 5000,
    );
    assert.deepEqual(model.view(t0 + 5000).latency, { samples: 10, p50: 500, p99: 1000, max: 1000 });
    // A block read (by a run for an earlier block) and on the hub before the writer registered its
    // commit is still one sample, of 0 ms, and only one.
    model.hubEvent(summary({ srcIp: '10.0.0.1', dstIp: '8.8.8.8', recordOffset: 10 }), t0 + 5000);
    model.hubEvent(summary({ srcIp: '10.0.0.3', dstIp: '8.8.8.8', recordOffset: 10 }), t0 + 5001);
    model.commit(NSG_BLOB, 10, t0 + 5002);
    assert.deepEqual(model.view(t0 + 5002).latency, { samples: 11, p50: 500, p99: 1000, max: 1000 });
    model.hubEvent(summary({ srcIp: '10.0.0.4', dstIp: '8.8.8.8', recordOffset: 10 }), t0 + 5003);
    assert.equal(model.view(t0 + 5003).latency.samples, 11);
    // A minute later the samples older than 60 s are gone: 500..1000 and the 0 ms one remain.
    assert.deepEqual(model.view(t0 + 60_500).latency, { samples: 7, p50: 700, p99: 1000, max: 1000 });
    assert.deepEqual(model.view(t0 + 200_000).latency, { samples: 0, p50: null, p99: null, max: null });
  });

  test('percentile is nearest-rank', () => {
    assert.equal(percentile([], 0.5), null);
    assert.equal(percentile([7], 0.99), 7);
    assert.equal(percentile([10, 20, 30, 40], 0.5), 20);
    assert.equal(percentile([10, 20, 30, 40], 0.99), 40);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(hundred, 0.99), 99);
    assert.equal(percentile(hundred, 0.5), 50);
  });

  test('rates from counters and hub arrivals over the last 5 s', () => {
    const model = new LiveModel(0);
    model.snapshot(stackSnapshot(0));
    assert.equal(model.view(0).rates.tuples, null);
    for (let i = 0; i < 10; i++) model.hubEvent(summary({ srcIp: '10.0.0.1', dstIp: '8.8.8.8' }), 100 * i);
    const writer = { ...stackSnapshot(0).writer, blocks: 20 };
    model.snapshot(
      stackSnapshot(5000, {
        writer,
        app: { 'tuples.parsed': 1000, 'summaries.built': 500, 'events.received': 20 },
      }),
    );
    assert.deepEqual(model.view(5000).rates, {
      hubEvents: 2,
      summaries: 100,
      tuples: 200,
      blocks: 4,
      blobEvents: 4,
    });
    model.snapshot(
      stackSnapshot(10_000, {
        writer,
        app: { 'tuples.parsed': 1500, 'summaries.built': 500, 'events.received': 20 },
      }),
    );
    assert.deepEqual(model.view(10_000).rates, {
      hubEvents: 0,
      summaries: 0,
      tuples: 100,
      blocks: 0,
      blobEvents: 0,
    });
  });

  test('bodies that are not summaries are counted apart', () => {
    const model = new LiveModel(0);
    model.hubEvent('hello', 0);
    model.hubEvent({ id: 'x' }, 0);
    assert.equal(model.otherEvents, 2);
    assert.equal(model.view(0).totals.hubEvents, 0);
  });
});

describe('blob rows', () => {
  test('label and hour from the Azure layout', () => {
    assert.deepEqual(blobLabel(NSG_BLOB), { label: 'NSG-WEB 0000A1', hour: '11-30 03h' });
    assert.deepEqual(blobLabel(VNET_BLOB), { label: 'VNET-HUB-FLOWLOG 0000B2', hour: '11-30 03h' });
    assert.deepEqual(blobLabel('plain/name.json'), { label: 'name.json', hour: '' });
  });

  test('lag in bytes (data ends 2 bytes before the length) and blocks, and the state shown', () => {
    const entity = {
      cursorByteOffset: 700,
      consumedRecords: 3,
      generation: 1,
      lastError: null,
      failureCount: 0,
      runs: 2,
    };
    const base = blobSnapshot({
      name: NSG_BLOB,
      committedLength: 1000,
      committedRecords: 5,
      entity,
      runtimeStatus: 'Completed',
    });
    const row = blobRow(base);
    assert.equal(row.lagBytes, 298);
    assert.equal(row.lagBlocks, 2);
    assert.equal(row.state, 'behind');
    assert.equal(row.generation, 1);
    assert.equal(row.runs, 2);
    assert.equal(blobRow({ ...base, runtimeStatus: 'Running' }).state, 'running');
    const read = { ...entity, cursorByteOffset: 998, consumedRecords: 5 };
    assert.deepEqual(
      [blobRow({ ...base, entity: read }).lagBytes, blobRow({ ...base, entity: read }).lagBlocks],
      [0, 0],
    );
    assert.equal(blobRow({ ...base, entity: read }).state, 'caught up');
    assert.equal(blobRow({ ...base, entity: read, current: false }).state, 'done');
    assert.equal(blobRow({ ...base, entity: null, runtimeStatus: null }).state, 'new');
    const failed = blobRow({
      ...base,
      entity: { ...entity, lastError: 'Event Hubs down', failureCount: 5 },
      runtimeStatus: 'Failed',
    });
    assert.equal(failed.state, 'failed');
    assert.equal(failed.lastError, 'Event Hubs down');
    assert.equal(blobRow(blobSnapshot({ name: NSG_BLOB })).lagBytes, 0);
  });
});
