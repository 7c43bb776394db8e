import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DocumentFormatError, RecordFormatError } from '../../domain/errors';
import { REAL_FIXTURES, summarizeFixture } from '../support/summarize';

/** Expected counts for every real fixture (records, tuples, summaries, failed records). */
const EXPECTED: Record<
  string,
  { records: number; tuples: number; summaries: number; recordsFailed: number }
> = {
  'nsg-v1_ms-connector_sampleJsonInput.json': { records: 3, tuples: 38, summaries: 22, recordsFailed: 0 },
  'nsg-v1_ms-connector_sampleOfInputV1.json': { records: 24, tuples: 1187, summaries: 129, recordsFailed: 0 },
  'nsg-v1_msdocs_flow-logs-read_block-sample.json': {
    records: 1,
    tuples: 40,
    summaries: 6,
    recordsFailed: 0,
  },
  'nsg-v1_msdocs_nsg-flow-logs-overview_v1-sample_MALFORMED-nested-records.json': {
    records: 3,
    tuples: 9,
    summaries: 9,
    recordsFailed: 1,
  },
  'nsg-v2_ms-connector_AzureNSGFlowLogsv1_INVALID-trailing-comma.json': {
    records: 1,
    tuples: 0,
    summaries: 0,
    recordsFailed: 1,
  },
  'nsg-v2_msdocs_nsg-flow-logs-overview_v2-sample.json': {
    records: 2,
    tuples: 11,
    summaries: 11,
    recordsFailed: 0,
  },
  'nsg-v2_sumologic_blob_fixtures.json': { records: 8, tuples: 153, summaries: 108, recordsFailed: 0 },
  'vnet-v4_msdocs_vnet-flow-logs-overview_sample.json': {
    records: 1,
    tuples: 19,
    summaries: 12,
    recordsFailed: 0,
  },
  'vnet-v4_nic-target_sumologic_blob_fixtures_networkinterfaceflowlogs.json': {
    records: 4,
    tuples: 61,
    summaries: 48,
    recordsFailed: 0,
  },
  'vnet-v4_subnet-target_sumologic_blob_fixtures_subnetflowlogs.json': {
    records: 4,
    tuples: 68,
    summaries: 58,
    recordsFailed: 0,
  },
  'vnet-v4_vnet-target_sumologic_blob_fixtures_vnetflowlogs.json': {
    records: 8,
    tuples: 166,
    summaries: 150,
    recordsFailed: 0,
  },
};

describe('real flow-log samples', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    test(name, () => {
      const { stats, summaries } = summarizeFixture(name);
      assert.deepEqual(
        {
          records: stats.records,
          tuples: stats.tuples,
          summaries: stats.summaries,
          recordsFailed: stats.recordsFailed,
        },
        expected,
      );
      // Every tuple is accounted for exactly once in the measures.
      assert.equal(
        summaries.reduce((n, s) => n + s.tuples, 0),
        stats.tuples,
      );
      assert.equal(new Set(summaries.map((s) => s.id)).size, summaries.length, 'ids are unique');
    });
  }

  test('every fixture in the folder is covered', () => {
    const files = readdirSync(REAL_FIXTURES).filter((f) => f.endsWith('.json'));
    const negative = files.filter((f) => !(f in EXPECTED));
    assert.deepEqual(negative.sort(), [
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_cloudevents-schema.json',
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_eventgrid-schema.json',
      'vnet-v4_msdocs_flow-logs-read_single-record.json',
    ]);
  });

  test('VNet docs sample: ms timestamps, IANA protocol, B + E summed with delta counters', () => {
    const { summaries } = summarizeFixture('vnet-v4_msdocs_vnet-flow-logs-overview_sample.json');
    const s = summaries.find((x) => x.dstIp === '52.239.184.180');
    assert.ok(s);
    assert.equal(s.logType, 'vnet');
    assert.equal(s.windowStart, '2022-09-14T09:00:00Z'); // 1663146003599 ms
    assert.equal(
      s.resourceId,
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.Network/virtualNetworks/myVNet',
    );
    assert.equal(s.aclId, '00000000-1234-abcd-ef00-c1c2c3c4c5c6');
    assert.equal(s.macAddress, '00224871C205');
    assert.equal(s.protocol, 'TCP');
    assert.equal(s.direction, 'Outbound');
    assert.equal(s.decision, 'Allow');
    assert.deepEqual(
      [
        s.tuples,
        s.flowsStarted,
        s.flowsEnded,
        s.flowsDenied,
        s.packetsSrcToDst,
        s.bytesSrcToDst,
        s.packetsDstToSrc,
        s.bytesDstToSrc,
      ],
      [2, 1, 1, 0, 3, 767, 2, 1580],
    );
  });

  test('NSG v2 docs sample: empty B counters are 0, C and E deltas, window edges', () => {
    const { summaries } = summarizeFixture('nsg-v2_msdocs_nsg-flow-logs-overview_v2-sample.json');
    const byDst = new Map(summaries.map((s) => [`${s.dstIp}:${s.dstPort}`, s]));
    const begin = byDst.get('203.0.113.118:443');
    assert.deepEqual([begin?.flowsStarted, begin?.packetsSrcToDst, begin?.bytesDstToSrc], [1, 0, 0]);
    const cont = byDst.get('203.0.113.115:443');
    assert.deepEqual(
      [
        cont?.flowsStarted,
        cont?.flowsEnded,
        cont?.packetsSrcToDst,
        cont?.bytesSrcToDst,
        cont?.packetsDstToSrc,
        cont?.bytesDstToSrc,
      ],
      [0, 0, 30, 16978, 24, 14008],
    );
    assert.equal(cont?.windowStart, '2018-11-13T11:59:00Z'); // 1542110379
    const denied = byDst.get('10.5.16.4:443');
    assert.deepEqual(
      [denied?.srcIp, denied?.protocol, denied?.decision, denied?.flowsDenied, denied?.windowStart],
      ['192.0.2.190', 'UDP', 'Deny', 1, '2018-11-13T12:00:00Z'],
    );
    assert.equal(denied?.macAddress, '000D3AF87856');
    assert.equal(denied?.aclId, null);
  });

  test('NSG v1 docs sample: 8-field tuples, rules with empty flows, source port not in the key', () => {
    const { summaries } = summarizeFixture('nsg-v1_msdocs_flow-logs-read_block-sample.json');
    const web = summaries.filter((s) => s.rule === 'UserRule_web-rule');
    assert.deepEqual(
      web.map((s) => [s.srcIp, s.dstPort, s.windowStart, s.tuples]),
      [
        ['13.82.225.93', 80, '2017-06-16T20:58:00Z', 1],
        ['13.82.225.93', 80, '2017-06-16T20:59:00Z', 3],
      ],
    );
    for (const s of summaries) assert.deepEqual([s.flowsStarted, s.flowsEnded, s.bytesSrcToDst], [0, 0, 0]);
  });

  test('Sumo subnet capture: zero-GUID aclID with PlatformRule', () => {
    const { summaries } = summarizeFixture(
      'vnet-v4_subnet-target_sumologic_blob_fixtures_subnetflowlogs.json',
    );
    const platform = summaries.filter((s) => s.rule === 'PlatformRule');
    assert.ok(platform.length > 0);
    for (const s of platform) assert.equal(s.aclId, '00000000-0000-0000-0000-000000000000');
  });

  test('malformed docs v1 sample: the nested records wrapper is one clear error, the rest is summed', () => {
    const { problems, stats } = summarizeFixture(
      'nsg-v1_msdocs_nsg-flow-logs-overview_v1-sample_MALFORMED-nested-records.json',
    );
    assert.equal(problems.length, 1);
    const p = problems[0];
    assert.ok(p instanceof RecordFormatError);
    assert.equal(p.code, 'not-a-record');
    assert.deepEqual(p.location, {
      source: 'nsg-v1_msdocs_nsg-flow-logs-overview_v1-sample_MALFORMED-nested-records.json',
      byteOffset: 3371,
      recordOrdinal: 2,
    });
    assert.match(p.message, /byte 3371, record 2: found a \{"records":\[...\]\} wrapper nested/);
    assert.equal(stats.tuples, 9);
  });

  test('invalid JSON (trailing comma): error names file, byte offset and record, keeps the cause', () => {
    const { problems } = summarizeFixture(
      'nsg-v2_ms-connector_AzureNSGFlowLogsv1_INVALID-trailing-comma.json',
    );
    assert.equal(problems.length, 1);
    const p = problems[0] as RecordFormatError;
    assert.equal(p.code, 'invalid-json');
    assert.equal(p.location.byteOffset, 25);
    assert.equal(p.location.recordOrdinal, 0);
    assert.ok(p.cause instanceof SyntaxError);
  });

  test('a single record block (docs) reads as a block range: 10 denied tuples', () => {
    const { summaries, problems, stats } = summarizeFixture(
      'vnet-v4_msdocs_flow-logs-read_single-record.json',
      {
        start: 'array-body',
      },
    );
    assert.deepEqual(problems, []);
    assert.equal(stats.tuples, 10);
    assert.ok(summaries.every((s) => s.decision === 'Deny' && s.flowsDenied === s.tuples));
    assert.equal(
      summaries[0]?.rule,
      'BlockHighRiskTCPPortsFromInternet_456b4993-6e57-4e46-aa4d-81767afff09c',
    );
  });

  test('Event Grid events are not flow-log documents: a clear document error at byte 0', () => {
    for (const name of [
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_cloudevents-schema.json',
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_eventgrid-schema.json',
    ]) {
      const { problems, stats } = summarizeFixture(name);
      assert.equal(stats.records, 0);
      assert.equal(problems.length, 1);
      assert.ok(problems[0] instanceof DocumentFormatError);
      assert.equal(problems[0]?.location.byteOffset, 0);
    }
  });
});
