/**
 * deploy/infra (Bicep) and azure.yaml, checked as text: no Bicep compiler is installable offline (the npm
 * wrappers download the CLI at run time). What can be checked without one is checked here: the app
 * settings against common/settings.ts in both directions, the Event Grid filters, role assignments, the
 * ADX scripts and names the template loads, the azd parameter wiring, and bracket balance.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { APP_SETTINGS } from '../../common/settings';
import { ADX_DIR } from '../../deploy/generate';
import { ADX } from '../../deploy/generate/names';

const root = join(__dirname, '..', '..');
const INFRA = join(root, 'deploy', 'infra');

function read(path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

function bicepFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${rel}/${entry.name}`);
      else if (entry.name.endsWith('.bicep')) out.push(`${rel}/${entry.name}`);
    }
  };
  walk(INFRA, 'deploy/infra');
  return out.sort();
}

/** End (exclusive) of the Bicep string literal opening at `i`, interpolations `${...}` included. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === '\\') j += 2;
    else if (text[j] === '$' && text[j + 1] === '{') {
      let depth = 1;
      j += 2;
      while (j < text.length && depth > 0) {
        if (text[j] === "'") j = stringEnd(text, j);
        else {
          if (text[j] === '{') depth++;
          else if (text[j] === '}') depth--;
          j++;
        }
      }
    } else if (text[j] === "'") return j + 1;
    else j++;
  }
  return text.length;
}

/** Bicep text with string literals and comments blanked (same length), so structure can be scanned. */
function code(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    let stop = -1;
    if (text.startsWith("'''", i)) {
      const end = text.indexOf("'''", i + 3);
      stop = end < 0 ? text.length : end + 3;
    } else if (text[i] === "'") stop = stringEnd(text, i);
    else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      stop = end < 0 ? text.length : end;
    }
    if (stop < 0) {
      out += text[i];
      i++;
    } else {
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    }
  }
  return out;
}

/** The text of app.bicep between `// <marker>:begin` and `// <marker>:end`. */
function region(marker: string): string {
  const text = read('deploy/infra/modules/app.bicep');
  const begin = text.indexOf(`// ${marker}:begin`);
  const end = text.indexOf(`// ${marker}:end`);
  assert.ok(begin >= 0 && end > begin, `app.bicep marks its settings with ${marker}:begin/end`);
  return text.slice(begin, end);
}

/** Keys set in a settings region (string literals and comments ignored). */
function settingKeys(text: string): string[] {
  return [...code(text).matchAll(/(?:^|[{,])\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)].map((m) => m[1]!);
}

/** Keys the template sets between the app-settings markers. */
function bicepAppSettings(): string[] {
  return settingKeys(region('app-settings'));
}

/** The Bicep expression a setting of a region is given (the rest of its line). */
function settingValue(text: string, name: string): string {
  const m = new RegExp(`(?:^|[{,])\\s*${name}\\s*:\\s*(.+?)\\s*}?\\s*$`, 'm').exec(text);
  assert.ok(m, `${name} is set`);
  return m[1]!;
}

describe('deploy/infra', () => {
  it('sets every required setting (or its identity-based alternative) and every setting without a default', () => {
    const set = new Set(bicepAppSettings());
    const missing: string[] = [];
    for (const s of APP_SETTINGS) {
      const satisfied = set.has(s.name) || (s.alternatives ?? []).some((a) => set.has(a));
      if (s.required && !satisfied) missing.push(`${s.name} (required)`);
      else if (!s.required && s.defaultValue === undefined && !satisfied) {
        // Optional with no default: the template must at least offer it (set unconditionally or from a parameter).
        const alternativeOf = APP_SETTINGS.find((o) => (o.alternatives ?? []).includes(s.name));
        if (alternativeOf === undefined || !set.has(alternativeOf.name))
          missing.push(`${s.name} (no default)`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('sets only settings the app reads', () => {
    const known = new Set(APP_SETTINGS.map((s) => s.name));
    const settings = bicepAppSettings();
    assert.ok(settings.length >= 8, `found ${settings.length} settings between the markers`);
    assert.deepEqual(
      settings.filter((s) => !known.has(s)),
      [],
    );
    assert.equal(new Set(settings).size, settings.length, 'no setting is set twice');
  });

  it('uses identity-based connections: no connection-string setting is deployed', () => {
    const settings = new Set(bicepAppSettings());
    for (const s of APP_SETTINGS) {
      if (s.required && (s.alternatives ?? []).length > 0) {
        assert.ok(
          !settings.has(s.name),
          `${s.name} is deployed as a secret instead of ${s.alternatives?.join(', ')}`,
        );
      }
    }
    assert.match(read('deploy/infra/modules/app.bicep'), /allowSharedKeyAccess: false/);
    assert.match(read('deploy/infra/modules/app.bicep'), /disableLocalAuth: true/);
  });

  it('defaults the containers, hub, ledger table and staging container to the app defaults', () => {
    const defaultOf = (name: string): string => {
      const s = APP_SETTINGS.find((x) => x.name === name);
      assert.ok(s?.defaultValue, `${name} has a default`);
      return s.defaultValue;
    };
    const main = read('deploy/infra/main.bicep');
    for (const container of defaultOf('FLOWLOG_CONTAINERS').split(','))
      assert.ok(main.includes(`'${container}'`), container);
    const app = read('deploy/infra/modules/app.bicep');
    assert.match(app, new RegExp(`param eventHubName string = '${defaultOf('FLOWLOG_EVENTHUB_NAME')}'`));
    assert.match(app, new RegExp(`param ledgerTableName string = '${defaultOf('FLOWLOG_LEDGER_TABLE')}'`));
    assert.match(
      app,
      new RegExp(`param stagingContainerName string = '${defaultOf('FLOWLOG_STAGING_CONTAINER')}'`),
    );
    assert.match(main, new RegExp(`param windowSeconds int = ${defaultOf('FLOWLOG_WINDOW_SECONDS')}`));
  });

  it('runs the Function App on Flex Consumption, Node 22 (20 is end of life), with a system-assigned identity', () => {
    const app = read('deploy/infra/modules/app.bicep');
    assert.match(app, /sku: \{ name: 'FC1', tier: 'FlexConsumption' \}/);
    assert.match(app, /runtime: \{ name: 'node', version: '22' \}/);
    assert.match(app, /identity: \{ type: 'SystemAssigned' \}/);
    assert.match(app, /'azd-service-name': 'api'/);
  });

  it('subscribes to committed PT1H.json block lists in each flow-log container', () => {
    assert.match(
      read('deploy/infra/modules/flowlog-source.bicep'),
      /topicType: 'Microsoft\.Storage\.StorageAccounts'/,
    );
    const source = read('deploy/infra/modules/flowlog-subscriptions.bicep');
    assert.match(source, /for container in flowLogContainers:/);
    assert.match(source, /includedEventTypes: \['Microsoft\.Storage\.BlobCreated'\]/);
    assert.match(source, /subjectBeginsWith: '\/blobServices\/default\/containers\/\$\{container\}\/'/);
    assert.match(source, /subjectEndsWith: 'PT1H\.json'/);
    assert.match(source, /operatorType: 'StringIn'\s+key: 'data\.api'\s+values: \['PutBlockList'\]/);
    assert.match(source, /endpointType: 'AzureFunction'/);
    assert.match(source, /eventDeliverySchema: 'EventGridSchema'/);
    const main = read('deploy/infra/main.bicep');
    assert.match(main, /for \(id, i\) in sourceIds:/, 'one source module per flow-log account');
    assert.match(main, /scope: resourceGroup\(split\(id, '\/'\)\[2\], split\(id, '\/'\)\[4\]\)/);
    assert.match(
      main,
      /module subscriptions 'modules\/flowlog-subscriptions\.bicep' = \[\n\s+for \(id, i\) in sourceIds: if \(enableEventSubscriptions\)/,
    );
  });

  it('retries Event Grid deliveries and dead-letters the rest into host storage with the topic identity', () => {
    const subs = read('deploy/infra/modules/flowlog-subscriptions.bicep');
    assert.match(subs, /retryPolicy: \{\s+maxDeliveryAttempts: 30\s+eventTimeToLiveInMinutes: 1440\s+\}/);
    assert.match(
      subs,
      /deadLetterWithResourceIdentity: \{\s+identity: \{ type: 'SystemAssigned' \}\s+deadLetterDestination: \{\s+endpointType: 'StorageBlob'\s+properties: \{\s+resourceId: deadLetterStorageAccountId\s+blobContainerName: deadLetterContainerName/,
    );
    assert.match(
      read('deploy/infra/modules/flowlog-source.bicep'),
      /resource topic 'Microsoft\.EventGrid\/systemTopics@[^']+' = \{\n(?: {2}.*\n)*? {2}identity: \{ type: 'SystemAssigned' \}/,
    );
    const app = read('deploy/infra/modules/app.bicep');
    assert.match(app, /param deadLetterContainerName string = 'flowlog-deadletter'/);
    assert.match(
      app,
      /resource deadLetterContainer '[^']+' = \{\s+parent: blobService\s+name: deadLetterContainerName/,
    );
    const writer = read('deploy/infra/modules/deadletter-writer.bicep');
    assert.match(writer, /var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'/);
    assert.match(writer, /scope: container\n/, 'the topic may write only into the dead-letter container');
    const main = read('deploy/infra/main.bicep');
    assert.match(main, /principalId: sources\[i\]\.outputs\.topicPrincipalId/);
    assert.match(main, /deadLetterStorageAccountId: app\.outputs\.hostStorageId/);
    assert.match(
      main,
      /dependsOn: \[deadLetterWriters\[i\]\]/,
      'subscriptions wait for the dead-letter role',
    );
  });

  it('assigns exactly the roles the pipeline needs', () => {
    const roleNames: Record<string, string> = {
      '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1': 'Storage Blob Data Reader',
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
      '2b629674-e913-4c01-ae53-ef4638d8f975': 'Azure Event Hubs Data Sender',
      'a638d3c7-ab3a-418d-83e6-5f17a39d4fde': 'Azure Event Hubs Data Receiver',
      '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
      'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
      // Only on subscriptions an enrichment refresh was asked to read (modules/subscription-reader.bicep).
      'acdd72a7-3385-48ef-bd42-f606fba81ae7': 'Reader',
    };
    const used = new Set<string>();
    for (const file of bicepFiles()) {
      for (const m of read(file).matchAll(
        /'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g,
      )) {
        assert.ok(roleNames[m[1]!], `${file}: unknown role definition ${m[1]}`);
        used.add(roleNames[m[1]!]!);
      }
    }
    assert.deepEqual([...used].sort(), Object.values(roleNames).sort());
    const source = read('deploy/infra/modules/flowlog-source.bicep');
    assert.match(
      source,
      /resource blobReaders '[^']+' = \[\n\s+for \(container, i\) in flowLogContainers: \{\n\s+name: guid\(containers\[i\]\.id, principalId, storageBlobDataReader\)\n\s+scope: containers\[i\]\n/,
      'Blob Data Reader is scoped to each flow-log container',
    );
    assert.doesNotMatch(source, /scope: account\b/, 'no role on the whole flow-log account');
    assert.match(
      read('deploy/infra/modules/app.bicep'),
      /name: guid\(appInsights\.id, functionApp\.id, roles\.monitoringMetricsPublisher\)\n\s+scope: appInsights\n/,
      'the app may publish telemetry to its Application Insights only',
    );
    const adx = read('deploy/infra/modules/adx.bicep');
    assert.match(
      adx,
      /principalId: cluster\.identity\.principalId/,
      'the cluster identity receives from the hub',
    );
  });

  it('deploys no secret as a plain app setting: identity, or a Key Vault reference', () => {
    const settings = region('app-settings');
    const plain: string[] = [];
    for (const name of settingKeys(settings)) {
      const spec = APP_SETTINGS.find((s) => s.name === name);
      if (!spec?.secret) continue;
      const value = settingValue(settings, name);
      if (/^'@Microsoft\.KeyVault\(SecretUri=\$\{[A-Za-z]+\}\)'$/.test(value)) continue;
      // An ingestion address, not a credential, once Application Insights accepts only Entra tokens.
      if (name === 'APPLICATIONINSIGHTS_CONNECTION_STRING') {
        assert.equal(value, 'appInsights.properties.ConnectionString');
        assert.match(read('deploy/infra/modules/app.bicep'), /DisableLocalAuth: true/);
        continue;
      }
      plain.push(`${name} = ${value}`);
    }
    assert.deepEqual(plain, [], 'secret settings must be Key Vault references (or not deployed)');
    assert.match(
      settingValue(settings, 'FLOWLOG_SOURCE_CONNECTION_STRINGS'),
      /@Microsoft\.KeyVault\(SecretUri=\$\{sourceConnectionStringsSecretUri\}\)/,
    );
    for (const file of bicepFiles()) {
      assert.doesNotMatch(
        read(file),
        /@secure\(\)/,
        `${file}: no secret parameters (nothing to leak into settings)`,
      );
      assert.doesNotMatch(
        read(file),
        /listKeys\(|listConnectionStrings\(|AccountKey=|SharedAccessKey=/,
        `${file}: no keys read or built`,
      );
    }
  });

  it('sends telemetry with the app identity: local auth off, authentication string, publisher role', () => {
    const app = read('deploy/infra/modules/app.bicep');
    assert.match(app, /DisableLocalAuth: true/, 'Application Insights local auth off');
    assert.match(app, /features: \{ disableLocalAuth: true \}/, 'Log Analytics workspace keys off');
    const host = region('host-settings');
    assert.deepEqual(settingKeys(host), ['APPLICATIONINSIGHTS_AUTHENTICATION_STRING']);
    assert.equal(settingValue(host, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'), "'Authorization=AAD'");
    assert.ok(
      !APP_SETTINGS.some((s) => s.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'),
      'host-only settings stay out of the app catalog',
    );
    assert.match(app, /items\(union\(hostSettings, appSettings\)\)/, 'host settings are deployed');
    assert.match(app, /monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'/);
  });

  it('turns SCM and FTP basic-auth publishing off', () => {
    const app = read('deploy/infra/modules/app.bicep');
    for (const kind of ['scm', 'ftp']) {
      assert.match(
        app,
        new RegExp(
          `resource \\w+ 'Microsoft\\.Web/sites/basicPublishingCredentialsPolicies@[^']+' = \\{\\s+parent: functionApp\\s+name: '${kind}'\\s+properties: \\{ allow: false \\}`,
        ),
        `${kind} basic auth off`,
      );
    }
  });

  it('offers private endpoints for storage and Event Hubs behind publicNetworkAccess', () => {
    const main = read('deploy/infra/main.bicep');
    assert.match(
      main,
      /@allowed\(\['Enabled', 'Disabled'\]\)\n@description\('[^']*'\)\nparam publicNetworkAccess string = 'Enabled'/,
    );
    assert.match(
      read('deploy/infra/main.parameters.json'),
      /"publicNetworkAccess": \{ "value": "\$\{FLOWLOG_PUBLIC_NETWORK_ACCESS=Enabled\}" \}/,
    );
    const app = read('deploy/infra/modules/app.bicep');
    assert.match(app, /var privateNetworking = publicNetworkAccess == 'Disabled'/);
    assert.match(app, /module network 'network\.bicep' = if \(privateNetworking\)/);
    assert.match(app, /virtualNetworkSubnetId: privateNetworking \? network\.outputs\.appSubnetId : null/);
    assert.match(
      app,
      /networkAcls: \{\s+defaultAction: privateNetworking \? 'Deny' : 'Allow'\s+bypass: 'AzureServices'/,
      'host storage: public endpoint closed to all but trusted services when private',
    );
    assert.match(
      app,
      /resource eventHubNetwork 'Microsoft\.EventHub\/namespaces\/networkRuleSets@[^']+' = \{[^}]*defaultAction: privateNetworking \? 'Deny' : 'Allow'\s+trustedServiceAccessEnabled: true/s,
    );
    const network = read('deploy/infra/modules/network.bicep');
    const groups = [...network.matchAll(/groupId: '(\w+)'/g)].map((m) => m[1]);
    assert.deepEqual(groups, ['blob', 'queue', 'table', 'namespace'], 'private endpoints created');
    for (const zone of [
      'privatelink.blob.',
      'privatelink.queue.',
      'privatelink.table.',
      'privatelink.servicebus.windows.net',
    ])
      assert.ok(network.includes(zone), `private DNS zone ${zone}`);
    assert.match(network, /serviceName: 'Microsoft\.App\/environments'/, 'Flex Consumption VNet integration');
    assert.match(network, /natGateway: \{ id: nat\.id \}/, 'explicit outbound for the integrated app');
    assert.match(network, /privateDnsZoneId: zones\[i\]\.id/);
  });

  it('host.json never samples away the metric records (traces) the app writes', () => {
    // common/metrics.ts writes each measurement as one log line (`logger.log(JSON.stringify({event:
    // 'flowlog.metric', …}))`), which Application Insights stores as a Trace; sampling would drop some and
    // every sum over them (docs/operations.md) would be wrong.
    const metrics = read('common/metrics.ts');
    assert.match(metrics, /logger\.log\(JSON\.stringify\(\{ event: 'flowlog\.metric'/);
    assert.doesNotMatch(
      metrics,
      /trackEvent|trackMetric/,
      'if metrics become custom events, exclude Event too',
    );
    const host = JSON.parse(read('host.json')) as {
      logging: { applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes?: string } } };
    };
    const sampling = host.logging.applicationInsights.samplingSettings;
    const excluded = (sampling.excludedTypes ?? '').split(';').map((t) => t.trim());
    assert.ok(!sampling.isEnabled || excluded.includes('Trace'), `Trace excluded from sampling: ${excluded}`);
    assert.ok(excluded.includes('Request') && excluded.includes('Exception'), 'invocations and errors kept');
  });

  it('loads every generated ADX script, in order, and connects with the generated names', () => {
    const adx = read('deploy/infra/modules/adx.bicep');
    const loaded = [...adx.matchAll(/loadTextContent\('\.\.\/\.\.\/adx\/([^']+)'\)/g)].map((m) => m[1]);
    const generated = readdirSync(join(root, ADX_DIR))
      .filter((n) => n.endsWith('.kql'))
      .sort();
    assert.deepEqual(loaded, generated);
    assert.match(adx, /@batchSize\(1\)\nresource databaseScripts/);
    assert.match(adx, new RegExp(`var tableName = '${ADX.table}'`));
    assert.match(adx, new RegExp(`var mappingName = '${ADX.mapping}'`));
    assert.match(adx, new RegExp(`var groupsTableName = '${ADX.groupsTable}'`));
    assert.match(adx, new RegExp(`var groupsMappingName = '${ADX.groupsMapping}'`));
    // The connection's defaults are the rows'; group events route themselves by their properties.
    assert.match(adx, /\n\s+tableName: tableName\n\s+mappingRuleName: mappingName\n/);
    assert.match(
      adx,
      /\/\/ Per-event routing \(docs\/azure-reference §7\.1\): an event's properties `Table`, `Format`,\n\/\/ `IngestionMappingReference` \(and `Compression`\) override the connection's defaults/,
    );
    assert.match(adx, /groups: \{ table: groupsTableName, mapping: groupsMappingName \}/);
    // The scripts that create FlowGroups are among those loaded (before the data connection is made).
    const creating = generated.filter((file) =>
      new RegExp(`^\\.create-merge table ${ADX.groupsTable} \\(`, 'm').test(read(`${ADX_DIR}/${file}`)),
    );
    assert.deepEqual(creating, ['01-table.kql']);
    assert.match(adx, /dependsOn: \[databaseScripts, hubReceiver\]/);
    assert.match(adx, new RegExp(`param databaseName string = '${ADX.database}'`));
    assert.match(adx, /dataFormat: 'MULTIJSON'/);
    assert.match(adx, /enableStreamingIngest: true/);
    for (const file of generated) {
      assert.ok(read(`${ADX_DIR}/${file}`).length < 131072, `${file} fits loadTextContent's limit`);
    }
  });

  it('wires every parameter without a default through main.parameters.json, and only declared ones', () => {
    const main = code(read('deploy/infra/main.bicep'));
    const params = [...main.matchAll(/^param (\w+) \w+( = .*)?$/gm)].map((m) => ({
      name: m[1]!,
      hasDefault: !!m[2],
    }));
    const file = JSON.parse(read('deploy/infra/main.parameters.json')) as {
      parameters: Record<string, { value: string }>;
    };
    const wired = Object.keys(file.parameters);
    for (const p of params.filter((x) => !x.hasDefault))
      assert.ok(wired.includes(p.name), `${p.name} is not wired`);
    const declared = new Set(params.map((p) => p.name));
    assert.deepEqual(
      wired.filter((w) => !declared.has(w)),
      [],
    );
    for (const [name, { value }] of Object.entries(file.parameters)) {
      assert.match(value, /^\$\{[A-Z_]+(=[^}]*)?\}$/, `${name} comes from the azd environment`);
    }
  });

  it('points azure.yaml at the template and the function service', () => {
    const yaml = read('azure.yaml');
    assert.match(yaml, /^infra:\n {2}provider: bicep\n {2}path: deploy\/infra\n {2}module: main$/m);
    assert.match(yaml, /^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    assert.match(yaml, /run: \.\/deploy\/infra\/hooks\/postdeploy\.sh/);
    assert.match(read('deploy/infra/hooks/postdeploy.sh'), /azd env set FLOWLOG_EVENT_SUBSCRIPTIONS true/);
    assert.match(
      read('deploy/infra/main.parameters.json'),
      /"enableEventSubscriptions": \{ "value": "\$\{FLOWLOG_EVENT_SUBSCRIPTIONS=false\}" \}/,
    );
  });

  it('every Bicep file is bracket-balanced and uses dated API versions', () => {
    for (const file of bicepFiles()) {
      const text = code(read(file));
      const stack: string[] = [];
      const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
      for (const [i, c] of [...text].entries()) {
        if (pairs[c]) stack.push(pairs[c]);
        else if (c === ')' || c === ']' || c === '}') {
          assert.equal(stack.pop(), c, `${file}: unbalanced ${c} at offset ${i}`);
        }
      }
      assert.deepEqual(stack, [], `${file}: unclosed brackets`);
      for (const m of read(file).matchAll(/^resource \w+ '([^']+)'/gm)) {
        assert.match(m[1]!, /^[A-Za-z.]+\/[A-Za-z/]+@\d{4}-\d{2}-\d{2}(-preview)?$/, `${file}: ${m[1]}`);
      }
      assert.ok(!/\t/.test(read(file)), `${file} has tabs`);
    }
  });
});
