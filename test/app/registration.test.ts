import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readAppConfig, SettingsError } from '../../adapters/config';
import { APP_SETTINGS } from '../../common/settings';
import type { FunctionsHost } from '../../local/functions-host';
import { type OfflineStack, startOfflineStack } from '../../local/offline-stack';

const ROOT = join(__dirname, '..', '..');

describe('the app as the Functions host sees it', () => {
  let stack: OfflineStack;
  let host: FunctionsHost;
  before(async () => {
    stack = await startOfflineStack();
    host = stack.host;
  });
  after(async () => stack.stop());

  test('exactly the expected functions, with the expected bindings', () => {
    const got = host
      .registrations()
      .map((r) => {
        const extra = Object.values(r.bindings)
          .filter((b) => b.direction === 'in' && b !== r.trigger && b.type !== r.triggerType)
          .map((b) => b.type)
          .sort();
        const t = r.trigger as { route?: string; methods?: string[]; authLevel?: string; schedule?: string };
        return [
          r.name,
          r.triggerType,
          extra.join('+'),
          t.route ?? t.schedule ?? '',
          (t.methods ?? []).join(','),
          t.authLevel ?? '',
        ].join(' ');
      })
      .sort();
    assert.deepEqual(got, [
      'blobCreated eventGridTrigger durableClient   ',
      'blobState entityTrigger    ',
      'bulkRerun orchestrationTrigger    ',
      'emitChunk activityTrigger    ',
      'getBlob httpTrigger durableClient blobs/{key} GET function',
      'getJob httpTrigger durableClient jobs/{id} GET function',
      'listBlobs httpTrigger  blobs GET function',
      'listBulkTargets activityTrigger    ',
      'listHours httpTrigger  hours GET function',
      'parseChunk activityTrigger    ',
      'planBlobRead activityTrigger    ',
      'processBlob orchestrationTrigger    ',
      'readBulkTargets activityTrigger    ',
      'recordBlobStatus activityTrigger    ',
      'refreshServiceTags timerTrigger  0 10,25,40,55 * * * *  ',
      'refreshThreatFeeds timerTrigger  0 2,17,32,47 * * * *  ',
      'refreshTopology timerTrigger  0 5,20,35,50 * * * *  ',
      'replayRange httpTrigger durableClient replay POST admin',
      'rerunBlob httpTrigger durableClient blobs/rerun POST admin',
      'rerunFailed httpTrigger durableClient blobs/rerun-failed POST admin',
      'sweep timerTrigger durableClient 0 */2 * * * *  ',
    ]);
  });
});

describe('settings', () => {
  const base = {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    FLOWLOG_SOURCE_ACCOUNTS: 'flowlogseastus, FlowLogsWestEU',
    EventHubConnection:
      'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=secretvalue;EntityPath=hub1',
  };

  test('defaults, identity-based forms and account lists', () => {
    const c = readAppConfig(base);
    assert.deepEqual([...c.sourceAccounts.keys()], ['flowlogseastus', 'flowlogswesteu']);
    assert.deepEqual(c.sourceAccounts.get('flowlogseastus'), {
      kind: 'identity',
      endpoint: 'https://flowlogseastus.blob.core.windows.net',
    });
    assert.equal(c.eventHub.hubName, 'hub1');
    assert.equal(c.windowSeconds, 60);
    assert.deepEqual(
      [...c.containers],
      ['insights-logs-networksecuritygroupflowevent', 'insights-logs-flowlogflowevent'],
    );
    const identity = readAppConfig({
      AzureWebJobsStorage__accountName: 'hoststore',
      FLOWLOG_SOURCE_ACCOUNTS: 'a1b2c3',
      EventHubConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net',
    });
    assert.deepEqual(identity.hostStorage, {
      kind: 'identity',
      endpoint: 'https://hoststore.blob.core.windows.net',
    });
    assert.deepEqual([identity.eventHub.kind, identity.eventHub.hubName], ['identity', 'flow-summaries']);
  });

  test('errors name the setting and never echo secrets', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...base, FLOWLOG_SOURCE_ACCOUNTS: '' }, /FLOWLOG_SOURCE_ACCOUNTS: list the storage accounts/],
      [
        { ...base, FLOWLOG_SOURCE_ACCOUNTS: 'Bad_Name!' },
        /FLOWLOG_SOURCE_ACCOUNTS: "bad_name!" is not a storage account name/,
      ],
      [{ ...base, FLOWLOG_WINDOW_SECONDS: '0' }, /FLOWLOG_WINDOW_SECONDS: must be a positive whole number/],
      [{ ...base, FLOWLOG_ENRICH: 'maybe' }, /FLOWLOG_ENRICH: must be true or false/],
      [
        { ...base, EventHubConnection: '' },
        /EventHubConnection: set EventHubConnection \(a connection string\) or EventHubConnection__fullyQualifiedNamespace/,
      ],
      [
        { ...base, FLOWLOG_SOURCE_CONNECTION_STRINGS: 'AccountKey=supersecret' },
        /FLOWLOG_SOURCE_CONNECTION_STRINGS: must be a JSON object .*\(value not shown\)/,
      ],
    ];
    for (const [env, pattern] of cases) {
      assert.throws(
        () => readAppConfig(env),
        (e: unknown) =>
          e instanceof SettingsError && pattern.test(e.message) && !/supersecret|secretvalue/.test(e.message),
      );
    }
  });

  test('local.settings.example.json sets exactly the cataloged settings', () => {
    const example = JSON.parse(readFileSync(join(ROOT, 'local.settings.example.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    const names = Object.keys(example.Values).filter((n) => n !== 'FUNCTIONS_WORKER_RUNTIME');
    const cataloged = APP_SETTINGS.map((s) => s.name).filter((n) => !n.includes('__'));
    assert.deepEqual(names.sort(), cataloged.sort());
  });

  test('every setting the code reads is in the catalog', () => {
    const read = new Set<string>();
    for (const file of ['adapters/config.ts']) {
      for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(
        /'((?:FLOWLOG_|AzureWebJobs|EventHub|APPLICATIONINSIGHTS)[A-Za-z_]*)'/g,
      ))
        read.add(m[1]!);
    }
    const cataloged = new Set(APP_SETTINGS.map((s) => s.name));
    assert.deepEqual(
      [...read].filter((n) => !cataloged.has(n)),
      [],
    );
  });
});
