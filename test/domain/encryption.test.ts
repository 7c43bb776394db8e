import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FlowLogError } from '../../domain/errors';
import { RecordBytesReader } from '../../domain/formats/record-bytes';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import {
  FAST_RECORD_PATH,
  NdjsonEncoder,
  readSummaryLines,
  serializeSummary,
  summaryLines,
} from '../../domain/summary/serialize';

const vnet = (tuples: readonly string[]) =>
  `{"time":"2026-11-30T00:01:00.0000000Z","flowLogVersion":4,"flowLogGUID":"g","macAddress":"00-0d-3a-00-00-03","category":"FlowLogFlowEvent","flowLogResourceID":"/F","targetResourceID":"/subscriptions/s/vnet/v","operationName":"FlowLogFlowEvent","flowRecords":{"flows":[{"aclID":"00000000-0000-0000-0000-000000000000","flowGroups":[{"rule":"r","flowTuples":${JSON.stringify(tuples)}}]}]}}`;
const nsg = `{"time":"2026-11-30T00:01:00.0000000Z","systemId":"s","macAddress":"000D3A000001","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S/NSG/N","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":[{"rule":"r1","flows":[{"mac":"000D3A000001","flowTuples":["1795996800,10.0.0.4,20.60.128.4,40000,443,T,O,A,B,,,,"]}]}]}}`;

/** One key, four tuples: encrypted once, then three kinds of not encrypted. */
const tuples = [
  '1795996800000,10.0.0.4,10.0.1.5,40000,443,6,O,B,X,1,100,1,200',
  '1795996801000,10.0.0.4,10.0.1.5,40000,443,6,O,C,NX,1,100,1,200',
  '1795996802000,10.0.0.4,10.0.1.5,40000,443,6,O,C,NX_HW_NOT_SUPPORTED,1,100,1,200',
  '1795996803000,10.0.0.4,10.0.1.5,40000,443,6,O,E,NX_LOCAL_DST,1,100,1,200',
];
const doc = `{"records":[${vnet(tuples)},${nsg}]}`;

function general(): FlowSummary[] {
  const out: FlowSummary[] = [];
  const problems: FlowLogError[] = [];
  const s = new BlobSummarizer({ blob: 'b', windowSeconds: 60 });
  s.push(new TextEncoder().encode(doc), out, problems);
  s.end(true, problems);
  assert.deepEqual(problems, []);
  return out;
}

function fast(): string {
  const encoder = new NdjsonEncoder();
  const problems: FlowLogError[] = [];
  const s = new BlobSummarizer({ blob: 'b', windowSeconds: 60 });
  s.pushNdjson(new TextEncoder().encode(doc), encoder, problems);
  s.end(true, problems);
  assert.deepEqual(problems, []);
  return new TextDecoder().decode(encoder.take());
}

describe('VNet encryption state (flowsEncrypted)', () => {
  test('X counts as encrypted, every NX… state as not; NSG rows carry no encryption field', () => {
    const rows = general();
    assert.equal(rows.length, 2);
    const [v, n] = rows;
    assert.deepEqual([v?.logType, v?.tuples, v?.flowsEncrypted], ['vnet', 4, 1]);
    assert.deepEqual([n?.logType, n?.flowsEncrypted], ['nsg', null]);
    assert.match(serializeSummary(v!), /"flowsEncrypted":1[,}]/);
    assert.doesNotMatch(serializeSummary(n!), /flowsEncrypted/);
  });

  test('the byte-level reader counts the same as the general path, byte for byte', () => {
    assert.ok(FAST_RECORD_PATH);
    const text = fast();
    assert.equal(
      text,
      summaryLines(general())
        .map((line) => `${line}\n`)
        .join(''),
    );
    assert.equal(readSummaryLines(text)[0]?.flowsEncrypted, 1);
    // The record is read by the byte-level reader itself, not handed to the general path.
    const reader = new RecordBytesReader();
    assert.ok(reader.read(new TextEncoder().encode(vnet(tuples)), 60));
    assert.deepEqual([reader.sums[0], reader.sums[8]], [4, 1]);
  });
});
