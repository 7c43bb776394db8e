import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { aggregateRecord } from '../../domain/aggregate';
import { blobIdOf } from '../../domain/blob-identity';
import { type FlowLogError, TupleFormatError } from '../../domain/errors';
import { type FlowRecord, readFlowRecord } from '../../domain/formats/record';
import { parseTuple } from '../../domain/formats/tuple';
import type { FlowSummary } from '../../domain/summary/schema';

/**
 * Reference aggregation: parse every tuple into an object and sum with a string-keyed Map. Slow and
 * obviously right; the fast aggregator must agree with it on every input.
 */
function referenceAggregate(record: FlowRecord, windowSeconds: number) {
  const sums = new Map<string, number[]>();
  for (const g of record.groups) {
    for (const raw of g.tuples) {
      const t = parseTuple(raw as string, record.layout);
      if (typeof t === 'string') continue;
      const w = t.time - (t.time % windowSeconds);
      const k = [
        w,
        g.rule,
        g.macAddress,
        g.aclId,
        t.srcIp,
        t.dstIp,
        t.dstPort,
        t.protocol,
        t.direction,
        t.decision,
      ].join('|');
      const v = sums.get(k) ?? [0, 0, 0, 0, 0, 0, 0, 0, 0];
      const vnet = t.encryption !== null;
      const add = [
        1,
        t.state === 'B' ? 1 : 0,
        t.state === 'E' ? 1 : 0,
        t.decision === 'Deny' ? 1 : 0,
        t.packetsSrcToDst,
        t.bytesSrcToDst,
        t.packetsDstToSrc,
        t.bytesDstToSrc,
        vnet && t.encryption === 'X' ? 1 : 0,
      ];
      sums.set(
        k,
        v.map((x, i) => x + add[i]!),
      );
    }
  }
  return sums;
}

function fastAsMap(summaries: readonly FlowSummary[]) {
  const m = new Map<string, number[]>();
  for (const s of summaries) {
    const w = Date.parse(s.windowStart) / 1000;
    const k = [
      w,
      s.rule,
      s.macAddress,
      s.aclId,
      s.srcIp,
      s.dstIp,
      s.dstPort,
      s.protocol,
      s.direction,
      s.decision,
    ].join('|');
    assert.ok(!m.has(k), `duplicate key ${k}`);
    m.set(k, [
      s.tuples,
      s.flowsStarted,
      s.flowsEnded,
      s.flowsDenied,
      s.packetsSrcToDst,
      s.bytesSrcToDst,
      s.packetsDstToSrc,
      s.bytesDstToSrc,
      s.flowsEncrypted ?? 0,
    ]);
  }
  return m;
}

const at = { source: 'test' };
const ctx = (windowSeconds = 60) => ({ blob: 'b', blobId: blobIdOf('b'), byteOffset: 0, windowSeconds });

const vnetTuple = fc
  .record({
    ms: fc.integer({ min: 1764496800000, max: 1764500399999 }),
    src: fc.constantFrom('10.0.0.4', '10.0.0.5', 'fd00::4'),
    dst: fc.constantFrom('10.0.0.9', '8.8.8.8'),
    sport: fc.integer({ min: 0, max: 65535 }),
    dport: fc.constantFrom(0, 53, 443, 65535),
    proto: fc.constantFrom('6', '17', '1', 'T', '06'),
    dir: fc.constantFrom('I', 'O'),
    state: fc.constantFrom('B', 'C', 'E', 'D'),
    enc: fc.constantFrom('X', 'NX', 'NX_HW_NOT_SUPPORTED'),
    c: fc.array(fc.nat(2 ** 40), { minLength: 4, maxLength: 4 }),
    emptyCounters: fc.boolean(),
  })
  .map(
    (x) =>
      `${x.ms},${x.src},${x.dst},${x.sport},${x.dport},${x.proto},${x.dir},${x.state},${x.enc},${x.emptyCounters && (x.state === 'B' || x.state === 'D') ? ',,,' : x.c.join(',')}`,
  );

const junk = fc.constantFrom(
  '',
  'not,a,tuple',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,U,O,A,B,,,',
  '1764496800,10.0.0.4,8.8.8.8,5000,99999,T,O,A,B,,,,',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,X,O,A,B,,,,',
  '1764496800,,8.8.8.8,5000,53,T,O,A,B,,,,',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,T,Q,A,B,,,,',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,T,O,A,Z,,,,',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,T,O,A,C,1,x,1,1',
  '1764496800,10.0.0.4,8.8.8.8,5000,53,T,O,A,C,1,1,1,1,1',
);

describe('aggregation', () => {
  test('property: VNet records agree with the reference aggregation (any spelling, junk skipped)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            rule: fc.constantFrom('r1', 'r2'),
            tuples: fc.array(fc.oneof({ weight: 9, arbitrary: vnetTuple }, { weight: 1, arbitrary: junk }), {
              maxLength: 40,
            }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(60, 300, 3600),
        (groups, windowSeconds) => {
          const record = readFlowRecord(
            {
              time: 't',
              flowLogVersion: 4,
              macAddress: '00-0d-3a-00-00-01',
              targetResourceID: '/subscriptions/s/vnet',
              flowRecords: {
                flows: [
                  { aclID: 'acl', flowGroups: groups.map((g) => ({ rule: g.rule, flowTuples: g.tuples })) },
                ],
              },
            },
            at,
          );
          const out: FlowSummary[] = [];
          const problems: FlowLogError[] = [];
          const summed = aggregateRecord(record, ctx(windowSeconds), out, problems);
          const expected = referenceAggregate(record, windowSeconds);
          assert.deepEqual(fastAsMap(out), expected);
          const total = groups.reduce((n, g) => n + g.tuples.length, 0);
          assert.equal(summed + problems.length, total);
          for (const p of problems)
            assert.ok(p instanceof TupleFormatError && p.location.tupleIndex !== undefined);
          assert.equal(new Set(out.map((s) => s.id)).size, out.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: NSG v2 records agree with the reference aggregation', () => {
    const nsgTuple = fc
      .record({
        t: fc.integer({ min: 1764496800, max: 1764500399 }),
        src: fc.constantFrom('10.0.0.4', '203.0.113.9'),
        dport: fc.constantFrom(22, 443, 8080),
        proto: fc.constantFrom('T', 'U', '6', '17', '47'),
        dir: fc.constantFrom('I', 'O'),
        dec: fc.constantFrom('A', 'D'),
        state: fc.constantFrom('B', 'C', 'E'),
        c: fc.array(fc.nat(1e9), { minLength: 4, maxLength: 4 }),
      })
      .map(
        (x) =>
          `${x.t},${x.src},10.0.0.9,40000,${x.dport},${x.proto},${x.dir},${x.dec},${x.state},${x.state === 'B' ? ',,,' : x.c.join(',')}`,
      );
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 9, arbitrary: nsgTuple }, { weight: 1, arbitrary: junk }), {
          maxLength: 60,
        }),
        (tuples) => {
          const record = readFlowRecord(
            {
              time: 't',
              resourceId: '/SUBSCRIPTIONS/S/NSG',
              properties: {
                Version: 2,
                flows: [
                  {
                    rule: 'r',
                    flows: [
                      { mac: '000D3A000001', flowTuples: tuples },
                      { mac: '000d3a000001', flowTuples: tuples },
                    ],
                  },
                ],
              },
            },
            at,
          );
          const out: FlowSummary[] = [];
          aggregateRecord(record, ctx(), out, []);
          assert.deepEqual(fastAsMap(out), referenceAggregate(record, 60));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a malformed tuple names record and tuple index and says it was skipped', () => {
    const record = readFlowRecord(
      {
        time: 't',
        resourceId: 'r',
        properties: {
          Version: 1,
          flows: [{ rule: 'x', flows: [{ mac: 'm', flowTuples: ['1,a,b,1,2,T,I,A', 'bad'] }] }],
        },
      },
      at,
    );
    const problems: FlowLogError[] = [];
    const out: FlowSummary[] = [];
    aggregateRecord(
      record,
      {
        blob: 'blob.json',
        blobId: blobIdOf('blob.json'),
        recordOrdinal: 7,
        byteOffset: 1234,
        windowSeconds: 60,
      },
      out,
      problems,
    );
    assert.equal(out.length, 1);
    assert.equal(problems.length, 1);
    assert.equal(
      problems[0]?.message,
      'blob.json, byte 1234, record 7, tuple 1: malformed flow tuple "bad": expected 8 comma-separated fields for nsg-v1, got 1; the tuple was skipped, the rest of the record was summed',
    );
  });

  test('unknown versions and envelopes are typed errors naming the record', () => {
    assert.throws(
      () =>
        readFlowRecord(
          { time: 't', flowLogVersion: 5, flowRecords: { flows: [] } },
          { source: 'b', recordOrdinal: 3 },
        ),
      /b, record 3: unsupported VNet flow log version number 5/,
    );
    assert.throws(
      () => readFlowRecord({ time: 't', resourceId: 'r', properties: { Version: 3, flows: [] } }, at),
      /unsupported NSG flow log version number 3/,
    );
    assert.throws(() => readFlowRecord({ time: 't', something: 1 }, at), /not an NSG flow log record/);
    // Extra fields are ignored; the documented lower-case resourceid is accepted.
    const r = readFlowRecord(
      {
        time: 't',
        resourceid: 'r',
        extra: [1],
        properties: { Version: 2, flows: [{ rule: 'x', flows: [] }], more: true },
      },
      at,
    );
    assert.equal(r.resourceId, 'r');
  });
});
