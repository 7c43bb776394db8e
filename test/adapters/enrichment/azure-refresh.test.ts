import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerClient } from '@azure/storage-blob';
import { SettingsError } from '../../../adapters/config';
import {
  ArmError,
  armEndpoint,
  LOCAL_ARM_TOKEN,
  localArmCredential,
  retryAfterMs,
} from '../../../adapters/enrichment/arm';
import { loadEnricher } from '../../../adapters/enrichment/index';
import { readRefreshConfig } from '../../../adapters/enrichment/refresh-config';
import { fetchServiceTags, refreshServiceTags } from '../../../adapters/enrichment/service-tags-refresh';
import {
  queryTopology,
  readTopologyLabels,
  refreshTopology,
  resourceGraphClient,
} from '../../../adapters/enrichment/topology';
import { Enricher, LabelIndex, parseLabelsCsv } from '../../../domain/enrich/index';
import { topologyRows } from '../../../domain/enrich/topology';
import { type AzuriteHandle, startAzurite } from '../../../local/azurite';
import { FakeArm } from '../../../local/fake-arm';
import { emptySummary } from '../../support/enrichment';
import { ESTATE, SUB_A, SUB_B } from './arm-estate';

describe('topology labels from Resource Graph rows (pure)', () => {
  test('VNets, peerings, gateways, P2S pools and public IPs become labels', () => {
    const { rows, skipped } = topologyRows(ESTATE);
    assert.deepEqual(skipped, []);
    assert.deepEqual(
      rows.map((r) => `${r.cidr} ${r.kind} ${r.label}`).sort(),
      [
        '10.1.0.0/16 vnet vnet-hub',
        '10.2.0.0/16 vnet vnet-app',
        '10.9.0.0/16 vnet vnet-partner',
        '172.16.200.0/24 p2s vpngw',
        '192.168.10.0/24 s2s onprem-dc',
        '20.50.1.10/32 vnet vnet-app',
        '20.50.1.20/32 vnet lb-web',
        'fd00:2::/48 vnet vnet-app',
      ].sort(),
    );
  });

  test('a prefix Azure cannot have given is skipped with its resource, the rest kept', () => {
    const { rows, skipped } = topologyRows([
      {
        id: '/x/vnet-bad',
        name: 'vnet-bad',
        type: 'Microsoft.Network/virtualNetworks',
        properties: { addressSpace: { addressPrefixes: ['10.5.0.0/16', 'not-a-cidr'] } },
      },
    ]);
    assert.deepEqual(
      rows.map((r) => r.cidr),
      ['10.5.0.0/16'],
    );
    assert.equal(skipped.length, 1);
    assert.match(skipped[0] ?? '', /\/x\/vnet-bad: "not-a-cidr"/);
  });

  test('flow types from the topology alone, and the CSV overriding it', () => {
    const topo = topologyRows(ESTATE).rows;
    const entries = parseLabelsCsv(topo.map((r) => `${r.cidr},${r.label},${r.kind}`).join('\n'), 'topology');
    const flow = (index: LabelIndex, src: string, dst: string) => {
      const e = new Enricher({ labels: index });
      const s = emptySummary({ srcIp: src, dstIp: dst, dstPort: 443, protocol: 'T' });
      e.enrich(s);
      return s.flowType;
    };
    const azureOnly = new LabelIndex([], entries);
    assert.equal(flow(azureOnly, '10.1.0.4', '10.1.2.5'), 'IntraVNet');
    assert.equal(flow(azureOnly, '10.1.0.4', '10.2.0.4'), 'InterVNet');
    assert.equal(
      flow(azureOnly, '10.1.0.4', '10.9.0.4'),
      'InterVNet',
      'the peered VNet the identity cannot see',
    );
    assert.equal(flow(azureOnly, '10.1.0.4', '192.168.10.5'), 'S2S');
    assert.equal(flow(azureOnly, '172.16.200.7', '10.2.0.4'), 'P2S');
    assert.equal(flow(azureOnly, '10.2.0.4', '20.50.1.10'), 'IntraVNet', "the VM's own public IP");
    // The user's rows decide every address they cover, even against a more specific Azure block.
    const user = parseLabelsCsv('10.0.0.0/8,corp,vnet\n192.168.10.0/24,branch,s2s\n', 'labels.csv');
    const both = new LabelIndex(user, entries);
    assert.equal(flow(both, '10.1.0.4', '10.2.0.4'), 'IntraVNet', 'one user VNet over both Azure VNets');
    assert.equal(both.lookup({ family: 4, value: 0xc0a80a05 })?.label, 'branch');
    assert.equal(
      both.lookup({ family: 4, value: 0xac10c807 })?.label,
      'vpngw',
      'uncovered by the user: Azure decides',
    );
    assert.equal(both.fallbackSize, entries.length);
  });
});

describe('the refreshes against a local ARM endpoint', () => {
  let az: AzuriteHandle;
  let arm: FakeArm;
  let container: ContainerClient;
  const work = mkdtempSync(join(tmpdir(), 'flowlog-arm-'));
  before(async () => {
    az = await startAzurite();
    container = az.blobServiceClient().getContainerClient('flowlog-staging');
    await container.create();
    arm = await FakeArm.start({ resources: ESTATE, graphPageSize: 3 });
  });
  after(async () => {
    await arm.stop();
    await az.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('Resource Graph through the SDK: every page by $skipToken, a 429 waited out as Retry-After says and counted', async () => {
    arm.requests.length = 0;
    arm.throttleNext(1, 2, /ResourceGraph/);
    const waits: number[] = [];
    let retries = 0;
    let sent = 0;
    const graph = resourceGraphClient(armEndpoint(arm.endpoint), () => localArmCredential);
    const rows = await queryTopology(graph, [SUB_A, SUB_B], {
      sleep: async (ms) => {
        waits.push(ms);
      },
      onRetry: () => retries++,
      onRequest: () => sent++,
    });
    assert.equal(rows.length, ESTATE.length);
    assert.deepEqual(waits, [2000], 'Retry-After: 2 → 2 s');
    assert.equal(retries, 1);
    // 1 throttled + 3 pages (8 rows, 3 per page)
    assert.equal(sent, 4);
    assert.deepEqual(
      arm.requests.map((r) => r.status),
      [429, 200, 200, 200],
    );
    const bodies = arm.requests.map(
      (r) => r.body as { subscriptions: string[]; options: Record<string, unknown> },
    );
    assert.deepEqual(bodies[1]?.subscriptions, [SUB_A, SUB_B]);
    assert.equal(bodies[1]?.options['$top'], 1000);
    assert.equal(bodies[1]?.options['$skipToken'], undefined);
    assert.equal(typeof bodies[2]?.options['$skipToken'], 'string', 'the next page asks with the token');
    assert.equal(bodies[1]?.options['resultFormat'], 'objectArray');
    assert.ok(
      arm.requests.every(
        (r) => r.authorization === `Bearer ${LOCAL_ARM_TOKEN}` && r.query['api-version'] === '2024-04-01',
      ),
    );
  });

  test('"all the identity can see": no subscription list, partial scopes allowed', async () => {
    arm.requests.length = 0;
    const graph = resourceGraphClient(armEndpoint(arm.endpoint), () => localArmCredential);
    const rows = await queryTopology(graph, 'all', { sleep: async () => {} });
    assert.equal(rows.length, ESTATE.length);
    const body = arm.requests[0]?.body as { subscriptions?: string[]; options: Record<string, unknown> };
    assert.equal(body.subscriptions, undefined);
    assert.equal(body.options['allowPartialScopes'], true);
  });

  test('a refusal is not retried and says which role is missing; throttling past the attempts gives up with a retryable error', async () => {
    const graph = resourceGraphClient(armEndpoint(arm.endpoint), () => localArmCredential);
    arm.failNext(1, 403);
    let retries = 0;
    await assert.rejects(
      queryTopology(graph, [SUB_A], { sleep: async () => {}, onRetry: () => retries++ }),
      (e: unknown) =>
        e instanceof ArmError &&
        e.status === 403 &&
        !e.retryable &&
        /Reader on the subscriptions/.test(e.message),
    );
    assert.equal(retries, 0);
    arm.throttleNext(3, 1);
    await assert.rejects(
      queryTopology(graph, [SUB_A], { attempts: 3, sleep: async () => {}, onRetry: () => retries++ }),
      (e: unknown) =>
        e instanceof ArmError && e.status === 429 && e.retryable && /after 3 attempts/.test(e.message),
    );
    assert.equal(retries, 2);
    // 5xx without Retry-After: exponential back-off
    arm.failNext(2, 503);
    const waits: number[] = [];
    await queryTopology(graph, [SUB_A], { sleep: async (ms) => void waits.push(ms) });
    assert.deepEqual(waits, [1000, 2000]);
  });

  test('refreshTopology stores the labels in host storage, skips while fresh, and the loader reads them under the CSV', async () => {
    const blob = container.getBlockBlobClient('enrichment/topology.json');
    const graph = resourceGraphClient(armEndpoint(arm.endpoint), () => localArmCredential);
    assert.equal(await readTopologyLabels(blob), null, 'nothing before the first refresh');
    const csv = join(work, 'labels.csv');
    writeFileSync(csv, 'cidr,label,kind\n185.220.101.0/24,tor-exit,threat\n');
    const loaded = await loadEnricher({ enabled: true, labelsPath: csv, topologyBlob: blob, cacheDir: null });
    assert.equal(loaded.lookup('10.1.0.4').label, null, 'no topology yet: start-up is not blocked');

    const now = new Date();
    const first = await refreshTopology({
      graph,
      blob,
      scope: 'all',
      now,
      maxAgeMs: 3_600_000,
      retry: { sleep: async () => {} },
    });
    assert.equal(first.status, 'written');
    assert.equal(first.status === 'written' && first.rows, 8);
    arm.requests.length = 0;
    const second = await refreshTopology({ graph, blob, scope: 'all', now: new Date(), maxAgeMs: 3_600_000 });
    assert.equal(second.status, 'fresh');
    assert.equal(arm.requests.length, 0, 'a fresh document costs no ARM call');

    assert.deepEqual(await loaded.refresh(), { serviceTags: 'none', labels: 'reloaded', changeNumber: null });
    assert.equal(loaded.lookup('10.1.0.4').label?.label, 'vnet-hub');
    assert.equal(loaded.lookup('185.220.101.9').label?.kind, 'threat');
    assert.equal(loaded.lookup('172.16.200.7').sideClass, 'p2s');
    assert.equal((await loaded.refresh()).labels, 'unchanged');
    assert.match(
      loaded.sources.find((s) => s.dataset === 'labels')?.details[0] ?? '',
      /9 rows: .* \(8 from the Azure topology/,
    );
  });

  test('service tags: every page by nextLink, a 429 waited out, stored in the download format, picked up by the enricher', async () => {
    arm.setData({
      serviceTags: {
        changeNumber: 77,
        values: [
          { name: 'AzureCloud', addressPrefixes: ['20.0.0.0/8'], changeNumber: 3 },
          {
            name: 'Storage.WestEurope',
            region: 'westeurope',
            systemService: 'AzureStorage',
            addressPrefixes: ['20.60.40.0/23'],
          },
          { name: 'Sql', systemService: 'AzureSQL', addressPrefixes: ['20.61.0.0/16', '2603:1020::/47'] },
        ],
      },
      tagsPageSize: 2,
    });
    arm.requests.length = 0;
    arm.throttleNext(1, 1, /serviceTags/);
    const waits: number[] = [];
    const doc = await fetchServiceTags({
      endpoint: armEndpoint(arm.endpoint),
      credential: localArmCredential,
      subscriptionId: SUB_A,
      location: 'westeurope',
      retry: { sleep: async (ms) => void waits.push(ms) },
    });
    assert.deepEqual(waits, [1000]);
    assert.equal(doc.changeNumber, 77, 'the API\'s "77" as a number');
    assert.deepEqual(
      doc.values.map((v) => v['name']),
      ['AzureCloud', 'Storage.WestEurope', 'Sql'],
    );
    assert.deepEqual(
      arm.requests.map((r) => `${r.status} ${r.query['$skipToken'] ?? '-'}`),
      ['429 -', '200 -', '200 2'],
    );
    assert.equal(
      arm.requests[1]?.path,
      `/subscriptions/${SUB_A}/providers/Microsoft.Network/locations/westeurope/serviceTags`,
    );

    const blob = container.getBlockBlobClient('enrichment/service-tags.json');
    const loaded = await loadEnricher({
      enabled: true,
      refreshedServiceTagsBlob: blob,
      cacheDir: join(work, 'cache'),
    });
    assert.equal(loaded.lookup('20.60.40.7').serviceTag, null, 'no document yet: no tags, no failure');
    const written = await refreshServiceTags({
      endpoint: armEndpoint(arm.endpoint),
      credential: localArmCredential,
      subscriptionId: SUB_A,
      location: 'westeurope',
      blob,
      now: new Date(),
      maxAgeMs: 7 * 24 * 3_600_000,
    });
    assert.deepEqual(written, { status: 'written', changeNumber: 77, tags: 3, prefixes: 4 });
    const head = (await blob.downloadToBuffer(0, 40)).toString('utf8');
    assert.match(head, /^\{"changeNumber":77,/, 'changeNumber first, as the loader peeks at the head');
    assert.equal((await loaded.refresh()).serviceTags, 'reloaded');
    assert.equal(loaded.lookup('20.60.40.7').serviceTag?.tag.name, 'Storage.WestEurope');
    assert.equal(loaded.lookup('20.60.40.7').sideClass, 'azure');
    assert.equal((await loaded.refresh()).serviceTags, 'unchanged');

    // A path set by the user wins over the refreshed document.
    const file = join(work, 'ServiceTags_Public.json');
    writeFileSync(
      file,
      JSON.stringify({
        changeNumber: 5,
        cloud: 'Public',
        values: [{ name: 'Mine', properties: { addressPrefixes: ['20.60.0.0/16'] } }],
      }),
    );
    const byPath = await loadEnricher({
      enabled: true,
      serviceTagsPath: file,
      refreshedServiceTagsBlob: blob,
      cacheDir: null,
    });
    assert.equal(byPath.lookup('20.60.40.7').serviceTag?.tag.name, 'Mine');
  });

  test('a Discovery answer the loader would refuse never replaces the stored document', async () => {
    const blob = container.getBlockBlobClient('enrichment/service-tags.json');
    const before = await blob.downloadToBuffer();
    arm.setData({
      serviceTags: { changeNumber: 78, values: [{ name: 'Broken', addressPrefixes: ['20.1.2.300/8'] }] },
      tagsPageSize: 5,
    });
    await assert.rejects(
      refreshServiceTags({
        endpoint: armEndpoint(arm.endpoint),
        credential: localArmCredential,
        subscriptionId: SUB_A,
        location: 'westeurope',
        blob,
        now: new Date(),
        maxAgeMs: 0,
      }),
      /20\.1\.2\.300\/8/,
    );
    assert.deepEqual(await blob.downloadToBuffer(), before);
  });
});

describe('refresh settings', () => {
  test('off by default; "*" or subscription ids; the endpoint must be https or loopback', () => {
    const off = readRefreshConfig({});
    assert.equal(off.topology, null);
    assert.equal(off.serviceTags, null);
    assert.equal(off.armEndpoint.origin, 'https://management.azure.com');
    const on = readRefreshConfig({
      FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: '*',
      FLOWLOG_SERVICE_TAGS_SUBSCRIPTION: SUB_A.toUpperCase(),
      FLOWLOG_ARM_ENDPOINT: 'http://127.0.0.1:1234',
    });
    assert.deepEqual(on.topology, { scope: 'all', maxAgeMs: 3_600_000 });
    assert.deepEqual(on.serviceTags, {
      subscriptionId: SUB_A,
      location: 'eastus',
      maxAgeMs: 168 * 3_600_000,
    });
    assert.deepEqual(
      readRefreshConfig({ FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: `${SUB_A}, ${SUB_B}` }).topology?.scope,
      [SUB_A, SUB_B],
    );
    assert.throws(() => readRefreshConfig({ FLOWLOG_TOPOLOGY_SUBSCRIPTIONS: 'prod' }), SettingsError);
    assert.throws(
      () => readRefreshConfig({ FLOWLOG_ARM_ENDPOINT: 'http://management.example' }),
      /must be https/,
    );
    assert.throws(
      () =>
        readRefreshConfig({
          FLOWLOG_SERVICE_TAGS_REFRESH_HOURS: '0',
          FLOWLOG_SERVICE_TAGS_SUBSCRIPTION: SUB_A,
        }),
      SettingsError,
    );
  });

  test("Retry-After as seconds, as a date, and Resource Graph's quota reset", () => {
    const h = (o: Record<string, string>) => ({ get: (n: string) => o[n] });
    assert.equal(retryAfterMs(h({ 'retry-after': '3' })), 3000);
    assert.equal(retryAfterMs(h({ 'retry-after': new Date(10_000).toUTCString() }), 4_000), 6000);
    assert.equal(retryAfterMs(h({ 'x-ms-user-quota-resets-after': '00:00:05' })), 5000);
    assert.equal(retryAfterMs(h({})), null);
  });
});
