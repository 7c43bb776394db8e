import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';
import { BlobSASPermissions } from '@azure/storage-blob';
import { readAppConfig, SettingsError } from '../../../adapters/config';
import {
  labelsTableClient,
  loadEnricher,
  loadLabelsTable,
  ServiceTagsSource,
} from '../../../adapters/enrichment/index';
import { labelsTableLocation } from '../../../app/services';
import { EnrichmentDataError } from '../../../domain/enrich/index';
import { type AzuriteHandle, startAzurite } from '../../../local/azurite';

const TAGS_FILE = join(__dirname, '..', '..', 'fixtures', 'enrichment', 'ServiceTags_Public_20261123.json');
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

/** A credential that hands out a fixed token and remembers the scopes it was asked for. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[] = [];
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

/** An HTTP client that answers every request with one status and body, and keeps the requests. */
function recordingHttp(status: number, body: unknown): HttpClient & { readonly requests: PipelineRequest[] } {
  const requests: PipelineRequest[] = [];
  return {
    requests,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      requests.push(request);
      return {
        request,
        status,
        headers: createHttpHeaders({ 'content-type': 'application/json;odata=minimalmetadata' }),
        bodyAsText: JSON.stringify(body),
      };
    },
  };
}

describe('labels table with a managed identity (no key, no connection string)', () => {
  const env = {
    AzureWebJobsStorage__accountName: 'stflowlogabc',
    FLOWLOG_SOURCE_ACCOUNTS: 'flowlogsweu',
    EventHubConnection__fullyQualifiedNamespace: 'evhns.servicebus.windows.net',
    FLOWLOG_LABELS_TABLE: 'flowloglabels',
  };

  test('identity-based host storage: the table endpoint of that account and the DefaultAzureCredential', () => {
    const location = labelsTableLocation(readAppConfig(env), 'flowloglabels');
    assert.ok(!('connectionString' in location), 'no connection string on the identity path');
    assert.equal(location.endpoint, 'https://stflowlogabc.table.core.windows.net');
    assert.equal(location.tableName, 'flowloglabels');
    assert.ok(
      location.credential instanceof DefaultAzureCredential,
      'the worker credential (managed identity)',
    );
    // The client made from it talks to that endpoint and table.
    const client = labelsTableClient(location);
    assert.equal(client.url, 'https://stflowlogabc.table.core.windows.net');
    assert.equal(client.tableName, 'flowloglabels');
  });

  test('connection-string host storage (Azurite, local runs) keeps the connection string', () => {
    const cs = 'UseDevelopmentStorage=true';
    const location = labelsTableLocation(
      readAppConfig({ ...env, AzureWebJobsStorage__accountName: '', AzureWebJobsStorage: cs }),
      'flowloglabels',
    );
    assert.deepEqual(location, { connectionString: cs, tableName: 'flowloglabels' });
  });

  test('a name Azure Tables refuses is a SettingsError naming FLOWLOG_LABELS_TABLE', () => {
    for (const bad of ['flow-log-labels', '1labels', 'ab', 'tables', 'x'.repeat(64)]) {
      assert.throws(
        () => labelsTableLocation(readAppConfig(env), bad),
        (e: unknown) =>
          e instanceof SettingsError &&
          e.setting === 'FLOWLOG_LABELS_TABLE' &&
          /app setting FLOWLOG_LABELS_TABLE: ".*" is not an Azure Table name .*FLOWLOG_LABELS_PATH/.test(
            e.message,
          ),
        bad,
      );
    }
  });

  test('rows are listed from the https endpoint with a bearer token for Azure Storage', async () => {
    const credential = new RecordingCredential();
    const http = recordingHttp(200, {
      value: [
        { PartitionKey: 'vnet', RowKey: 'hub', cidr: '10.1.0.0/16', label: 'hub', kind: 'vnet' },
        {
          PartitionKey: 'threat',
          RowKey: 'tor',
          cidr: '185.220.101.0/24',
          label: 'tor-exit',
          kind: 'threat',
        },
      ],
    });
    const client = labelsTableClient(
      { endpoint: 'https://stflowlogabc.table.core.windows.net', tableName: 'flowloglabels', credential },
      { httpClient: http },
    );
    const rows = await loadLabelsTable(client, 'table flowloglabels');
    assert.deepEqual(
      rows.map((r) => r.value.label),
      ['hub', 'tor-exit'],
    );
    const request = http.requests[0];
    assert.ok(request, 'one request was sent');
    assert.match(request.url, /^https:\/\/stflowlogabc\.table\.core\.windows\.net\/flowloglabels\(\)/);
    assert.equal(request.headers.get('authorization'), 'Bearer test-token');
    assert.deepEqual([...new Set(credential.scopes)], ['https://storage.azure.com/.default']);
  });

  test('403 (no role) names the endpoint and the role to grant', async () => {
    const client = labelsTableClient(
      {
        endpoint: 'https://stflowlogabc.table.core.windows.net',
        tableName: 'flowloglabels',
        credential: new RecordingCredential(),
      },
      { httpClient: recordingHttp(403, { 'odata.error': { code: 'AuthorizationPermissionMismatch' } }) },
    );
    await assert.rejects(
      loadLabelsTable(client, 'table flowloglabels'),
      (e: unknown) =>
        e instanceof EnrichmentDataError &&
        e.problem === 'missing' &&
        e.cause !== undefined &&
        /HTTP 403\) at https:\/\/stflowlogabc\.table\.core\.windows\.net.*Storage Table Data Reader/.test(
          e.message,
        ),
    );
  });

  test('an identity endpoint that is not https (a token would travel in clear) is refused', () => {
    for (const endpoint of [
      'http://stflowlogabc.table.core.windows.net',
      'stflowlogabc',
      'https://stflowlogabc.table.core.windows.net/other?sv=x',
    ]) {
      assert.throws(
        () =>
          labelsTableClient({ endpoint, tableName: 'flowloglabels', credential: new RecordingCredential() }),
        (e: unknown) =>
          e instanceof EnrichmentDataError &&
          /https:\/\/<account>\.table\.core\.windows\.net/.test(e.message),
        endpoint,
      );
    }
  });
});
