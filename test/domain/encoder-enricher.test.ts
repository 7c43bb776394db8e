import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blobIdOf } from '../../domain/blob-identity';
import { Enricher, LabelIndex, parseLabelsCsv } from '../../domain/enrich';
import { RecordBytesReader } from '../../domain/formats/record-bytes';
import { simulateBlobs } from '../../domain/simulate/simulate';
import { NdjsonEncoder } from '../../domain/summary/serialize';

const enc = new TextEncoder();

describe('NdjsonEncoder with the real enricher (sides rendered once per facts object)', () => {
  test('an enricher whose data is replaced: rendered fields are dropped, the rows show the new data', () => {
    const blob = simulateBlobs({
      nsgs: 1,
      vnets: 0,
      hours: 1,
      flowsPerMinute: 30,
      seed: 9,
      start: new Date('2026-11-30T00:00:00Z'),
    }).next().value;
    assert.ok(blob !== undefined);
    const labels = (label: string) =>
      new LabelIndex(parseLabelsCsv(`cidr,label,kind\n10.0.0.0/8,${label},vnet\n`, 'x'));
    const enricher = new Enricher({ labels: labels('before') });
    const encoder = new NdjsonEncoder();
    const reader = new RecordBytesReader();
    const place = { blob: blob.name, blobId: blobIdOf(blob.name), recordOffset: 0, windowSeconds: 60 };
    const write = () => {
      for (const record of blob.records) {
        assert.ok(reader.read(enc.encode(record), 60));
        assert.ok(encoder.appendRecord(reader, place, enricher) > 0);
      }
      return new TextDecoder().decode(encoder.take());
    };
    const first = write();
    const again = write();
    assert.equal(again, first);
    assert.ok(enricher.stats().summaries > 0);
    assert.match(first, /"srcLabel":"before"/);
    enricher.replaceSources({ labels: labels('after') });
    const third = write();
    assert.doesNotMatch(third, /"before"/);
    assert.match(third, /"srcLabel":"after"/);
    assert.equal(third.split('\n').length, first.split('\n').length);
  });

  test('the real enricher on 25,000 distinct addresses: the same bytes as enriching each row on its own', () => {
    // Every tuple goes to another public address (a scan of the internet from one NIC): no (addresses,
    // port, protocol) combination repeats; the sides are rendered once per facts object.
    const record = (k: number) => {
      const tuples: string[] = [];
      for (let i = 0; i < 5000; i++) {
        const n = k * 5000 + i;
        // Every third destination IPv6 (its facts come through the address text), the others IPv4.
        const dst =
          n % 3 === 0 ? `2001:db8::${n.toString(16)}` : `${20 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.9`;
        tuples.push(`1795996800,10.0.0.4,${dst},40000,443,T,O,A,B,,,,`);
      }
      return `{"time":"2026-11-30T00:01:00.0000000Z","systemId":"s","macAddress":"000D3A000001","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S/NSG/N","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":[{"rule":"r1","flows":[{"mac":"000D3A000001","flowTuples":${JSON.stringify(tuples)}}]}]}}`;
    };
    const records = [0, 1, 2, 3, 4].map(record);
    const labels = new LabelIndex(parseLabelsCsv('cidr,label,kind\n10.0.0.0/8,vnet-a,vnet\n', 'x'));
    const encode = (addressOnly: boolean) => {
      const enricher = new Enricher({ labels });
      // The same enricher seen as one whose fields may depend on anything: every row is enriched and
      // rendered on its own (the reference the fast path must reproduce).
      const like = addressOnly
        ? enricher
        : { enrich: (s: Parameters<Enricher['enrich']>[0]) => enricher.enrich(s) };
      const encoder = new NdjsonEncoder();
      const reader = new RecordBytesReader();
      let rows = 0;
      const place = { blob: 'b', blobId: blobIdOf('b'), recordOffset: 12, windowSeconds: 60 };
      for (const r of records) {
        assert.ok(reader.read(enc.encode(r), 60));
        rows += encoder.appendRecord(reader, place, like);
      }
      return { text: new TextDecoder().decode(encoder.take()), rows, stats: enricher.stats() };
    };
    const reference = encode(false);
    const fast = encode(true);
    assert.equal(reference.rows, 25_000);
    assert.equal(fast.text, reference.text);
    assert.equal(fast.stats.misses, 25_001, 'every distinct address resolved once');
    assert.deepEqual(fast.stats, reference.stats);
    assert.match(fast.text, /"srcLabel":"vnet-a"/);
    assert.match(fast.text, /"dstIp":"2001:db8::3"/);
  });
});
