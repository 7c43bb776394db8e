import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { names } from '../../common/names';
import { simulateBlobs } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import type { ReceivedEvent } from '../../local/eventhubs/store';
import { FakeArm } from '../../local/fake-arm';
import { LOCAL_HUB, NSG_CONTAINER, startOfflineStack } from '../../local/offline-stack';
import { ESTATE, SUB_A } from '../adapters/enrichment/arm-estate';

interface Row {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly dstServiceTag: string | null;
  readonly dstLabel: string | null;
  readonly flowType: string | null;
}

/** The rows of one hub event: one summary per event, or NDJSON (optionally gzip) with several. */
function rowsOf(e: ReceivedEvent): Row[] {
  if (e.bodyBytes === undefined) return Array.isArray(e.body) ? (e.body as Row[]) : [e.body as Row];
  const bytes = e.bodyBytes[0] === 0x1f && e.bodyBytes[1] === 0x8b ? gunzipSync(e.bodyBytes) : e.bodyBytes;
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

test('the app refreshes service tags and topology from ARM and threat feeds on its timers and enriches with them', async () => {
  // A threat feed on loopback (the app takes plain http there only).
  let feedRequests = 0;
  const feedHost = createServer((_req, res) => {
    feedRequests++;
    res.writeHead(200, { 'content-type': 'text/plain', etag: '"f1"' });
    res.end('; test list\n198.51.100.0/24 ; SBL9\n');
  });
  await new Promise<void>((resolve) => feedHost.listen(0, '127.0.0.1', resolve));
  const feedUrl = `http://127.0.0.1:${(feedHost.address() as AddressInfo).port}/drop.txt`;
  const arm = await FakeArm.start({
    resources: ESTATE,
    graphPageSize: 3,
    serviceTags: {
      changeNumber: 301,
      values: [
        // Only this document has the tag: no service tags file is configured.
        {
          name: 'Storage.WestEurope',
          region: 'westeurope',
          systemService: 'AzureStorage',
          addressPrefixes: ['20.60.40.0/23'],
        },
      ],
    },
  });
  const stack = await startOfflineStack({
    enrich: true,
    host: { clock: 'real' },
    settings: {
      FLOWLOG_ARM_ENDPOINT: arm.endpoint,
      FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: '*',
      FLOWLOG_SERVICE_TAGS_SUBSCRIPTION: SUB_A,
      FLOWLOG_SERVICE_TAGS_LOCATION: 'westeurope',
      FLOWLOG_THREAT_FEEDS: `test-drop=${feedUrl}`,
    },
  });
  try {
    arm.throttleNext(1, 0, /serviceTags/);
    await stack.host.invokeTimer(names.refreshServiceTags);
    await stack.host.invokeTimer(names.refreshTopology);
    assert.deepEqual(
      arm.requests.map((r) => `${r.method} ${r.status}`),
      ['GET 429', 'GET 200', 'POST 200', 'POST 200', 'POST 200'],
      'the throttled call retried; three Resource Graph pages',
    );
    // A second tick within the refresh intervals costs no ARM call.
    await stack.host.invokeTimer(names.refreshServiceTags);
    await stack.host.invokeTimer(names.refreshTopology);
    assert.equal(arm.requests.length, 5);
    await stack.host.invokeTimer(names.refreshThreatFeeds);
    await stack.host.invokeTimer(names.refreshThreatFeeds);
    assert.equal(feedRequests, 1, 'the second tick finds the stored feeds fresh');

    const b = [
      ...simulateBlobs({
        nsgs: 1,
        vnets: 0,
        hours: 1,
        flowsPerMinute: 5,
        seed: 7,
        start: new Date('2026-11-30T07:00:00Z'),
        minutesPerHour: 1,
      }),
    ][0]!;
    const record = JSON.parse(b.records[0]!) as {
      time: string;
      properties: { flows: { flows: { flowTuples: string[] }[] }[] };
    };
    const t = Math.floor(Date.parse(record.time) / 1000);
    record.properties.flows = [
      {
        ...record.properties.flows[0],
        flows: [
          {
            ...record.properties.flows[0]!.flows[0]!,
            flowTuples: [
              `${t},10.1.0.4,20.60.40.7,50001,443,T,O,A,B,,,,`,
              `${t},10.1.0.4,10.2.0.4,50002,443,T,O,A,B,,,,`,
              `${t},10.1.0.4,192.168.10.5,50003,445,T,O,A,B,,,,`,
              `${t},10.1.0.4,198.51.100.23,50004,443,T,O,A,B,,,,`,
            ],
          },
        ],
      },
    ];
    const commit = await stack.writer
      .forContainer(NSG_CONTAINER)
      .appendRecord(b.name, JSON.stringify(record));
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, b.name, commit),
    );
    await stack.host.waitForIdle({ timeoutMs: 120_000 });
    const rows = stack.eventHubs.events(LOCAL_HUB).flatMap(rowsOf);
    const to = (ip: string) => rows.find((r) => r.dstIp === ip);
    assert.deepEqual(
      [to('20.60.40.7')?.dstServiceTag, to('20.60.40.7')?.flowType],
      ['Storage.WestEurope', 'AzurePublic'],
    );
    assert.deepEqual([to('10.2.0.4')?.dstLabel, to('10.2.0.4')?.flowType], ['vnet-app', 'InterVNet']);
    assert.deepEqual([to('192.168.10.5')?.dstLabel, to('192.168.10.5')?.flowType], ['onprem-dc', 'S2S']);
    assert.deepEqual(
      [to('198.51.100.23')?.dstLabel, to('198.51.100.23')?.flowType],
      ['test-drop', 'MaliciousFlow'],
    );
  } finally {
    await stack.stop();
    await arm.stop();
    await new Promise((resolve) => feedHost.close(resolve));
  }
});
