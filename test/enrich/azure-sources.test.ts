import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BlobSASPermissions } from '@azure/storage-blob';
import {
  labelsTableClient,
  loadEnricher,
  loadLabelsTable,
  ServiceTagsSource,
} from '../../adapters/enrichment';
import { EnrichmentDataError } from '../../domain/enrich';
import { type AzuriteHandle, startAzurite } from '../../local/azurite';

const TAGS_FILE = join(__dirname, '..', 'fixtures', 'enrichment', 'ServiceTags_Public_20261123.json');
const work = mkdtempSync(join(tmpdir(), 'flowlog-enrich-azure-'));

let az: AzuriteHandle;
before(async () => {
  az = await startAzurite();
});
after(async () => {
  await az.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('service tags from a blob URL', () => {
  test('loads through a SAS URL and refreshes only on a new changeNumber', async () => {
    const container = az.blobServiceClient().getContainerClient('reference');
    await container.create();
    const blob = container.getBlockBlobClient('ServiceTags_Public_20261123.json');
    const text = readFileSync(TAGS_FILE);
    await blob.upload(text, text.length);
    const url = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3_600_000),
    });

    const source = new ServiceTagsSource(url);
    const index = await source.load();
    assert.equal(index.changeNumber, 123);
    assert.equal(index.lookup({ family: 4, value: 0x142a4005 })?.name, 'Sql.EastUS'); // 20.42.64.5
    assert.equal(await source.refresh(index), null);

    const doc = JSON.parse(text.toString('utf8'));
    doc.changeNumber = 200;
    const next = Buffer.from(JSON.stringify(doc, null, 2));
    await blob.upload(next, next.length);
    const reloaded = await source.refresh(index);
    assert.equal(reloaded?.changeNumber, 200);

    // With a cache: a blob's index is cached by a hash of its bytes (built once, then read back).
    const cacheDir = join(work, 'tags-cache');
    const cached = new ServiceTagsSource(url, { cacheDir });
    assert.equal((await cached.load()).changeNumber, 200);
    assert.match(cached.lastCache, /^built, wrote .*service-tags-[0-9a-f]{24}\.bin$/);
    const again = new ServiceTagsSource(url, { cacheDir });
    assert.equal((await again.load()).changeNumber, 200);
    assert.match(again.lastCache, /^read .*service-tags-[0-9a-f]{24}\.bin$/);
  });

  test('a blob that does not exist stops start-up with the URL named', async () => {
    const container = az.blobServiceClient().getContainerClient('reference-missing');
    await container.create();
    const url = await container.getBlockBlobClient('ServiceTags_Public_nope.json').generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    await assert.rejects(
      new ServiceTagsSource(url).load(),
      (e: unknown) =>
        e instanceof EnrichmentDataError &&
        e.problem === 'missing' &&
        e.source === url &&
        /HTTP 404/.test(e.message),
    );
  });
});

describe('labels from an Azure Table', () => {
  test('rows become labels; a refresh picks up edits', async () => {
    const tableName = 'flowloglabels';
    const client = az.tableClient(tableName);
    await client.createTable();
    const rows = [
      ['vnet', 'hub', '10.1.0.0/16', 'hub'],
      ['vnet', 'spoke', '10.2.0.0/16', 'spoke-app'],
      ['s2s', 'dc', '192.168.10.0/24', 'onprem-dc'],
      ['threat', 'tor', '185.220.101.0/24', 'tor-exit'],
    ] as const;
    for (const [partitionKey, rowKey, cidr, label] of rows) {
      await client.createEntity({ partitionKey, rowKey, cidr, label, kind: partitionKey });
    }
    const loaded = await loadEnricher({
      enabled: true,
      labelsTable: { connectionString: az.connectionString, tableName },
      cacheDir: join(work, 'cache'),
    });
    assert.equal(loaded.lookup('10.1.2.3').label?.label, 'hub');
    assert.equal(loaded.lookup('185.220.101.9').sideClass, 'threat');
    assert.equal(
      loaded.sources.find((s) => s.dataset === 'labels')?.details[0],
      '4 rows: 2 vnet, 1 s2s, 0 p2s, 1 threat',
    );
    assert.deepEqual((await loaded.refresh()).labels, 'unchanged');

    await client.createEntity({
      partitionKey: 'p2s',
      rowKey: 'vpn',
      cidr: '172.16.200.0/24',
      label: 'vpn',
      kind: 'p2s',
    });
    assert.deepEqual((await loaded.refresh()).labels, 'reloaded');
    assert.equal(loaded.lookup('172.16.200.7').label?.kind, 'p2s');
  });

  test('a bad entity is named; a missing table is reported', async () => {
    const client = az.tableClient('badlabels');
    await client.createTable();
    await client.createEntity({
      partitionKey: 'vnet',
      rowKey: 'x',
      cidr: '10.0.0.0/8',
      label: 'x',
      kind: 'vnetz',
    });
    await assert.rejects(
      loadLabelsTable(
        labelsTableClient({ connectionString: az.connectionString, tableName: 'badlabels' }),
        'table badlabels',
      ),
      (e: unknown) => e instanceof EnrichmentDataError && /entity vnet\/x: kind "vnetz"/.test(e.message),
    );
    await assert.rejects(
      loadLabelsTable(
        labelsTableClient({ connectionString: az.connectionString, tableName: 'nosuchtable' }),
        'table nosuchtable',
      ),
      (e: unknown) =>
        e instanceof EnrichmentDataError && e.problem === 'missing' && /does not exist/.test(e.message),
    );
  });
});
