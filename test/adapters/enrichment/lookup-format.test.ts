import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  formatAddressInfoText,
  formatLookupJson,
  formatLookupText,
  formatSourcesText,
} from '../../../adapters/enrichment/index';
import {
  Enricher,
  LabelIndex,
  parseLabelsCsv,
  parseServiceTags,
  ServiceTagIndex,
} from '../../../domain/enrich/index';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'enrichment');
const tags = new ServiceTagIndex(
  parseServiceTags(
    JSON.parse(readFileSync(join(FIXTURES, 'ServiceTags_Public_20261123.json'), 'utf8')),
    'tags',
  ),
);
const labels = new LabelIndex(parseLabelsCsv(readFileSync(join(FIXTURES, 'labels.csv'), 'utf8'), 'labels'));
const enricher = new Enricher({
  geo: () => ({ country: 'US', city: 'Boydton', lat: 36.6676, lon: -78.3875 }),
  asn: () => ({ asn: 8075, org: 'Microsoft Corporation' }),
  serviceTags: tags,
  labels,
});

test('text lines for a public Azure address, a labelled private one, a special one and garbage', () => {
  assert.deepEqual(formatAddressInfoText(enricher.lookup('20.38.98.10')), [
    '20.38.98.10',
    '  family       IPv4',
    '  location     US, Boydton (36.6676, -78.3875)',
    '  AS           AS8075 Microsoft Corporation [Microsoft: counts as Azure]',
    '  service tag  Storage.EastUS (eastus) 20.38.98.0/24',
    '  also in      Storage 20.38.98.0/24, AzureCloud.eastus 20.38.0.0/16, AzureCloud 20.38.0.0/16',
    '  flow side    azure',
  ]);
  assert.deepEqual(formatAddressInfoText(enricher.lookup('10.1.66.6')), [
    '10.1.66.6',
    '  family       IPv4',
    '  special      10.0.0.0/8 private-use (RFC 1918)',
    '  label        compromised-vm (threat) 10.1.66.6/32',
    '  other labels hub (vnet) 10.1.0.0/16',
    '  flow side    threat',
    '  note         special-purpose range: not looked up in GeoIP or ASN data',
  ]);
  assert.deepEqual(formatAddressInfoText(enricher.lookup(' 2603:1030:0210:0402::0010 ')).slice(0, 2), [
    ' 2603:1030:0210:0402::0010  (2603:1030:210:402::10)',
    '  family       IPv6',
  ]);
  assert.deepEqual(formatAddressInfoText(enricher.lookup('not-an-ip')), [
    'not-an-ip',
    '  error        not an IPv4 or IPv6 address',
  ]);
});

test('lookup output as text and JSON, with and without sources', () => {
  const infos = [enricher.lookup('8.8.8.8'), enricher.lookup('fe80::1')];
  const text = formatLookupText(infos);
  assert.match(
    text,
    /^8\.8\.8\.8\n[\s\S]*\n\nfe80::1\n {2}family {7}IPv6\n {2}special {6}fe80::\/10 link-local/,
  );
  assert.ok(text.endsWith('\n'));
  const doc = JSON.parse(formatLookupJson(infos));
  assert.equal(doc.addresses.length, 2);
  assert.equal(doc.addresses[1].special.kind, 'link-local');
  assert.equal(doc.sources, undefined);
  assert.deepEqual(formatSourcesText([]), ['enrichment disabled: no data sources loaded']);
});
