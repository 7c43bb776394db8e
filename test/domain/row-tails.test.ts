import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { blobIdOf } from '../../domain/blob-identity';
import { Enricher, LabelIndex, parseLabelsCsv } from '../../domain/enrich';
import { RecordBytesReader } from '../../domain/formats/record-bytes';
import { simulateBlobs } from '../../domain/simulate/simulate';
import { NdjsonEncoder, RowTails } from '../../domain/summary/serialize';

const enc = new TextEncoder();

/** A record-like buffer: keys `src,dst` at known places, as the encoder finds them in a record's bytes. */
function layout(keys: readonly string[]): { bytes: Uint8Array; at: [number, number][] } {
  const at: [number, number][] = [];
  let text = '{"x":"';
  for (const k of keys) {
    at.push([text.length, text.length + k.length]);
    text += `${k}","y":"`;
  }
  return { bytes: enc.encode(text), at };
}

describe('RowTails (rendered enrichment by address bytes, port and protocol)', () => {
  test('property: finds exactly what was added, through growth and clearing', () => {
    const key = fc.tuple(
      fc.constantFrom('10.1.0.4', '10.1.0.5', '2603:1030:20e:3::23c', '8.8.8.8', '20.60.128.1'),
      fc.constantFrom('10.1.0.4', '1.1.1.1', '20.38.98.10', 'fd00::1'),
      fc.integer({ min: 0, max: 0xffffff }),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 3000 }), fc.integer({ min: 5, max: 5000 }), (list, limit) => {
        const tails = new RowTails(limit);
        const { bytes, at } = layout(list.map(([s, d]) => `${s},${d}`));
        // A model of what the table must hold: the keys added since the last clear.
        let model = new Map<string, Uint8Array>();
        list.forEach(([s, d, code], i) => {
          const [start, end] = at[i]!;
          const id = `${s},${d}|${code}`;
          const slot = tails.find(bytes, start, end, code);
          const want = model.get(id);
          if (want !== undefined) {
            assert.ok(slot >= 0, `${id} was added`);
            assert.deepEqual(tails.tailAt(slot), want);
            const copy = new Uint8Array(tails.tailLength(slot) + 3);
            assert.equal(tails.copyTail(slot, copy, 3), copy.length);
            assert.deepEqual(copy.subarray(3), want);
            return;
          }
          assert.ok(slot < 0, `${id} was never added (or was cleared)`);
          if (model.size >= limit) model = new Map();
          // The tail is handed over as a range of a larger buffer (as the encoder's output).
          const text = enc.encode(`xx tail ${i} yy`);
          tails.add(slot, bytes, start, end, code, text, 3, text.length - 3);
          model.set(id, text.slice(3, text.length - 3));
        });
        for (const [id, tail] of model) {
          const [pair, code] = id.split('|') as [string, string];
          const { bytes: b } = layout([pair]);
          const slot = tails.find(b, 6, 6 + pair.length, Number(code));
          assert.ok(slot >= 0, id);
          assert.deepEqual(tails.tailAt(slot), tail);
        }
      }),
      { numRuns: 60 },
    );
  });

  test('the same addresses with another port or protocol, or a longer address, are other keys', () => {
    const tails = new RowTails(100);
    const { bytes, at } = layout(['10.0.0.1,10.0.0.2', '10.0.0.1,10.0.0.20']);
    const [a, b] = at as [[number, number], [number, number]];
    const first = enc.encode('first');
    tails.add(tails.find(bytes, a[0], a[1], 443), bytes, a[0], a[1], 443, first, 0, first.length);
    assert.deepEqual(tails.tailAt(tails.find(bytes, a[0], a[1], 443)), first);
    assert.ok(tails.find(bytes, a[0], a[1], 443 | (17 << 16)) < 0);
    assert.ok(tails.find(bytes, a[0], a[1], 80) < 0);
    assert.ok(tails.find(bytes, b[0], b[1], 443) < 0);
    // Keys are compared by content: the first 17 bytes of the second key are the first key.
    assert.deepEqual(tails.tailAt(tails.find(bytes, b[0], b[1] - 1, 443)), first);
  });

  test("the reader's per-row address hash is RowTails.addressHash of the row's bytes", () => {
    const reader = new RecordBytesReader();
    let rows = 0;
    for (const blob of simulateBlobs({
      nsgs: 1,
      vnets: 1,
      hours: 1,
      flowsPerMinute: 30,
      seed: 5,
      start: new Date('2026-11-30T00:00:00Z'),
    })) {
      for (const record of blob.records) {
        const bytes = enc.encode(record);
        assert.ok(reader.read(bytes, 60));
        for (let a = 0; a < reader.accCount; a++, rows++)
          assert.equal(
            reader.accAddressHash[a],
            RowTails.addressHash(reader.bytes, reader.accSrc[a]!, reader.accDstEnd[a]!),
          );
      }
    }
    assert.ok(rows > 100);
  });

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

  test('combinations that never repeat: the table pauses, rows stay the same', () => {
    // Every tuple goes to another public address (a scan of the internet from one NIC): no (addresses,
    // port, protocol) combination repeats, so keeping rendered tails is work no row reuses.
    const record = (k: number) => {
      const tuples: string[] = [];
      for (let i = 0; i < 5000; i++) {
        const n = k * 5000 + i;
        tuples.push(
          `1795996800,10.0.0.4,${20 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}.9,40000,443,T,O,A,B,,,,`,
        );
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
      const paused = (encoder as unknown as { tailsPausedFor: number }).tailsPausedFor;
      return { text: new TextDecoder().decode(encoder.take()), rows, paused };
    };
    const reference = encode(false);
    const fast = encode(true);
    assert.equal(reference.rows, 25_000);
    assert.ok(fast.paused > 0, 'the table was paused after a sampling window without reuse');
    assert.equal(fast.text, reference.text);
    assert.match(fast.text, /"srcLabel":"vnet-a"/);
  });
});
