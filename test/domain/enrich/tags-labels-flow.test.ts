import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type AsnInfo,
  Enricher,
  EnrichmentDataError,
  FLOW_TYPES,
  type FlowType,
  formatIp,
  type GeoInfo,
  type IpAddress,
  LabelIndex,
  l7Protocol,
  parseIp,
  parseLabelsCsv,
  parseServiceTags,
  ServiceTagIndex,
  splitCsvLine,
} from '../../../domain/enrich/index';
import { emptySummary } from '../../support/enrichment';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'enrichment');
const TAGS_FILE = join(FIXTURES, 'ServiceTags_Public_20261123.json');
const LABELS_FILE = join(FIXTURES, 'labels.csv');

function tagsIndex(): ServiceTagIndex {
  return new ServiceTagIndex(parseServiceTags(JSON.parse(readFileSync(TAGS_FILE, 'utf8')), TAGS_FILE));
}

function labelsIndex(): LabelIndex {
  return new LabelIndex(parseLabelsCsv(readFileSync(LABELS_FILE, 'utf8'), LABELS_FILE));
}

const ip = (text: string) => parseIp(text) as IpAddress;

describe('service tags (fixture in the published format)', () => {
  const index = tagsIndex();
  const tag = (text: string) => index.lookup(ip(text))?.name ?? null;

  test('document facts', () => {
    assert.equal(index.changeNumber, 123);
    assert.equal(index.cloud, 'Public');
    assert.equal(index.tagCount, 8);
  });

  test('longest prefix wins', () => {
    assert.equal(tag('20.42.64.10'), 'Sql.EastUS'); // /26 inside AzureCloud.eastus /17 and AzureCloud /16
    assert.equal(tag('20.42.100.1'), 'AzureCloud.eastus'); // /17 inside AzureCloud /16
    assert.equal(tag('20.42.200.1'), 'AzureCloud'); // only the /16
    assert.equal(tag('40.64.1.5'), 'AzureFrontDoor.Frontend'); // /24 over /13s and /10
    assert.equal(tag('8.8.8.8'), null);
  });

  test('tie-break: a service tag beats AzureCloud.*, regional beats global, then name order', () => {
    // 20.38.98.0/24: Storage and Storage.EastUS; 20.60.0.0/16: AzureCloud, AzureCloud.eastus, Storage, Storage.EastUS.
    assert.equal(tag('20.38.98.10'), 'Storage.EastUS');
    assert.equal(tag('20.60.1.1'), 'Storage.EastUS');
    assert.equal(index.lookup(ip('20.60.1.1'))?.region, 'eastus');
    // 20.38.0.0/16: AzureCloud and AzureCloud.eastus → regional.
    assert.equal(tag('20.38.5.5'), 'AzureCloud.eastus');
    // 40.64.0.0/13: AzureMonitor (global service) and AzureCloud.westeurope → the service.
    assert.equal(tag('40.65.0.1'), 'AzureMonitor');
    assert.equal(index.lookup(ip('40.65.0.1'))?.region, null);
  });

  test('IPv6', () => {
    assert.equal(tag('2603:1030:210:402::10'), 'Sql.EastUS'); // /123
    assert.equal(tag('2603:1030:210:1::5'), 'AzureFrontDoor.Frontend'); // /64 tie with Storage: name order
    assert.equal(tag('2603:1030:211:ffff::1'), 'AzureCloud.eastus'); // /47
    assert.equal(tag('2603:1030:5::1'), 'AzureCloud'); // /32
    assert.equal(tag('2603:1020:206::1'), 'AzureCloud.westeurope');
    assert.equal(tag('2603:1040::1'), null);
  });

  test('allMatches lists every containing tag, most specific first', () => {
    assert.deepEqual(
      index.allMatches(ip('20.60.1.1')).map((m) => `${m.tag.name} ${m.prefix}`),
      [
        'Storage.EastUS 20.60.0.0/16',
        'Storage 20.60.0.0/16',
        'AzureCloud.eastus 20.60.0.0/16',
        'AzureCloud 20.60.0.0/16',
      ],
    );
    assert.equal(index.match(ip('20.42.64.1'))?.prefix, '20.42.64.0/26');
  });

  test('malformed documents name the problem', () => {
    const bad = (doc: unknown, re: RegExp) =>
      assert.throws(
        () => parseServiceTags(doc, 'tags.json'),
        (e: unknown) => e instanceof EnrichmentDataError && e.problem === 'corrupt' && re.test(e.message),
      );
    bad([], /not a JSON object/);
    bad({ values: [] }, /changeNumber is missing/);
    bad({ changeNumber: 1, values: {} }, /values is not an array/);
    bad({ changeNumber: 1, values: [{ name: 'X', properties: {} }] }, /tag X has no addressPrefixes/);
    bad(
      { changeNumber: 1, values: [{ name: 'X', properties: { addressPrefixes: ['1.2.3.0/33'] } }] },
      /tag X lists "1\.2\.3\.0\/33"/,
    );
  });
});

describe('labels', () => {
  test('fixture: kinds, longest prefix, threat inside a VNet, quoted label', () => {
    const index = labelsIndex();
    const label = (text: string) => index.lookup(ip(text));
    assert.equal(index.size, 8);
    assert.deepEqual(index.counts, { vnet: 4, s2s: 1, p2s: 1, threat: 2 });
    assert.deepEqual(label('10.1.2.3'), { label: 'hub', kind: 'vnet', cidr: '10.1.0.0/16' });
    assert.deepEqual(label('10.1.66.6'), { label: 'compromised-vm', kind: 'threat', cidr: '10.1.66.6/32' });
    assert.equal(label('fd00:1::9')?.label, 'hub');
    assert.equal(label('20.38.98.200')?.label, 'frontend, public');
    assert.equal(label('10.3.0.1'), null);
    assert.deepEqual(
      index.allMatches(ip('10.1.66.6')).map((l) => l.label),
      ['compromised-vm', 'hub'],
    );
  });

  test('same block: threat beats vnet beats s2s beats p2s; header columns in any order', () => {
    const index = new LabelIndex(
      parseLabelsCsv(
        'kind,cidr,label,note\np2s,10.0.0.0/8,a,x\nvnet,10.0.0.0/8,b,\nthreat,10.0.0.0/8,c,\n',
        'x.csv',
      ),
    );
    assert.equal(index.lookup(ip('10.1.1.1'))?.label, 'c');
    const noHeader = new LabelIndex(
      parseLabelsCsv('10.0.0.0/8,first,vnet\r\n10.0.0.0/8,second,vnet\r\n', 'y.csv'),
    );
    assert.equal(noHeader.lookup(ip('10.1.1.1'))?.label, 'first');
  });

  test('bad rows name the file and the line', () => {
    const bad = (csv: string, re: RegExp) =>
      assert.throws(
        () => parseLabelsCsv(csv, 'labels.csv'),
        (e: unknown) => e instanceof EnrichmentDataError && e.source === 'labels.csv' && re.test(e.message),
        csv,
      );
    bad(
      'cidr,label,kind\n10.0.0.0/8,x,vnet\n10.0.0.0/33,y,vnet\n',
      /line 3: "10\.0\.0\.0\/33" is not an address/,
    );
    bad('cidr,label,kind\n10.0.0.5/8,x,vnet\n', /line 2: 10\.0\.0\.5\/8 has bits set.*10\.0\.0\.0\/8/);
    bad('cidr,label,kind\n10.0.0.0/8,,vnet\n', /line 2: label is empty/);
    bad('cidr,label,kind\n10.0.0.0/8,x,hub\n', /line 2: kind "hub" is not one of vnet, s2s, p2s, threat/);
    bad('cidr,label,kind\n"10.0.0.0/8,x,vnet\n', /line 2: unclosed quote/);
    bad('cidr,name,kind\n', /no label column/);
  });

  test('splitCsvLine', () => {
    assert.deepEqual(splitCsvLine('a,b,c'), ['a', 'b', 'c']);
    assert.deepEqual(splitCsvLine('"a, b","say ""hi""",'), ['a, b', 'say "hi"', '']);
    assert.equal(splitCsvLine('"a'), null);
  });
});

describe('flow types and the enricher', () => {
  /** A GeoIP/ASN stand-in that records what it was asked. */
  function fakeLookups() {
    const asked: string[] = [];
    const geo = (address: IpAddress): GeoInfo | null => {
      asked.push(formatIp(address));
      return { country: 'US', city: 'Somewhere', lat: 1.5, lon: -2.5 };
    };
    const asn = (address: IpAddress): AsnInfo | null => {
      const text = formatIp(address);
      asked.push(text);
      if (text.startsWith('20.') || text.startsWith('13.107.'))
        return { asn: 8075, org: 'Microsoft Corporation' };
      return { asn: 15169, org: 'Google LLC' };
    };
    return { asked, geo, asn };
  }

  function enricher() {
    const fake = fakeLookups();
    const e = new Enricher({ geo: fake.geo, asn: fake.asn, serviceTags: tagsIndex(), labels: labelsIndex() });
    return { e, asked: fake.asked };
  }

  const CASES: ReadonlyArray<readonly [FlowType, string, string]> = [
    ['IntraVNet', '10.1.0.4', '10.1.1.5'],
    ['IntraVNet', 'fd00:1::4', '10.1.1.5'],
    ['InterVNet', '10.1.0.4', '10.2.0.4'],
    ['S2S', '10.1.0.4', '192.168.10.5'],
    ['S2S', '192.168.10.5', '10.2.0.9'],
    ['P2S', '172.16.200.7', '10.2.0.4'],
    ['AzurePublic', '10.1.0.4', '20.38.98.10'], // service tag
    ['AzurePublic', '10.1.0.4', '168.63.129.16'], // Azure platform address
    ['AzurePublic', '10.9.0.4', '13.107.42.14'], // Microsoft ASN, no tag; unlabelled private side as anchor
    ['ExternalPublic', '10.1.0.4', '8.8.8.8'],
    ['ExternalPublic', '8.8.8.8', '10.1.0.4'],
    ['MaliciousFlow', '185.220.101.4', '10.1.0.4'],
    ['MaliciousFlow', '10.1.66.6', '10.1.0.4'], // threat /32 inside the hub VNet
    ['UnknownPrivate', '10.1.0.4', '10.9.0.1'],
    ['UnknownPrivate', '10.9.0.1', '100.64.3.3'],
    ['Unknown', '8.8.8.8', '1.1.1.1'],
    ['Unknown', '10.1.0.4', '224.0.0.5'],
    ['Unknown', '127.0.0.1', '8.8.8.8'],
    ['Unknown', 'not-an-ip', '10.1.0.4'],
  ];

  test('every flow type from the labels fixture', () => {
    const { e } = enricher();
    const seen = new Set<FlowType>();
    for (const [want, src, dst] of CASES) {
      assert.equal(e.flowType(src, dst), want, `${src} → ${dst}`);
      assert.equal(e.flowType(dst, src), want, `${dst} → ${src} (symmetric)`);
      seen.add(want);
    }
    assert.deepEqual([...seen].sort(), [...FLOW_TYPES].sort());
  });

  test('fills every enrichment field of a summary in place', () => {
    const { e } = enricher();
    const s = emptySummary({ srcIp: '10.1.0.4', dstIp: '20.38.98.10', dstPort: 443, protocol: 'TCP' });
    e.enrich(s);
    assert.equal(s.srcLabel, 'hub');
    assert.equal(s.srcCountry, null);
    assert.equal(s.srcAsn, null);
    assert.equal(s.srcServiceTag, null);
    assert.equal(s.dstCountry, 'US');
    assert.equal(s.dstCity, 'Somewhere');
    assert.equal(s.dstLat, 1.5);
    assert.equal(s.dstLon, -2.5);
    assert.equal(s.dstAsn, 8075);
    assert.equal(s.dstAsOrg, 'Microsoft Corporation');
    assert.equal(s.dstServiceTag, 'Storage.EastUS');
    assert.equal(s.dstAzureRegion, 'eastus');
    assert.equal(s.dstLabel, null);
    assert.equal(s.flowType, 'AzurePublic');
    assert.equal(s.l7Protocol, 'https');
  });

  test('private and special addresses are never looked up in GeoIP or ASN', () => {
    const { e, asked } = enricher();
    const special = [
      '10.1.0.4',
      '172.16.200.7',
      '192.168.10.5',
      '100.64.0.1',
      '169.254.169.254',
      '168.63.129.16',
    ];
    const special6 = ['127.0.0.1', 'fd00:1::4', 'fe80::1', '::1', '::ffff:10.0.0.1', '224.0.0.5'];
    for (const a of [...special, ...special6]) {
      const s = emptySummary({ srcIp: a, dstIp: a });
      e.enrich(s);
      assert.equal(s.srcCountry, null, a);
      assert.equal(s.dstAsn, null, a);
      assert.equal(e.lookup(a).geo, null, a);
    }
    assert.deepEqual(asked, []);
    e.enrich(emptySummary({ srcIp: '10.1.0.4', dstIp: '::ffff:8.8.8.8' }));
    assert.deepEqual(asked, ['8.8.8.8', '8.8.8.8'], 'IPv4-mapped IPv6 is looked up as IPv4');
  });

  test('per-address cache: hits and misses counted, each address resolved once', () => {
    const { e, asked } = enricher();
    const addrs = ['8.8.8.8', '1.1.1.1', '10.1.0.4', '20.38.98.10'];
    for (let i = 0; i < 1000; i++) {
      e.enrich(emptySummary({ srcIp: addrs[i % 4] as string, dstIp: addrs[(i + 1) % 4] as string }));
    }
    const st = e.stats();
    assert.equal(st.summaries, 1000);
    assert.equal(st.lookups, 2000);
    assert.equal(st.misses, 4);
    assert.equal(st.hits, 1996);
    assert.equal(st.hitRate, 1996 / 2000);
    assert.equal(st.cachedAddresses, 4);
    assert.equal(asked.length, 6, 'three public addresses, GeoIP + ASN once each');
  });

  test('addresses whose lookups give the same objects share one facts object; others do not', () => {
    // Shared lookup results, as the MMDB reader (one object per record) and the ASN table (one per ASN) give.
    const paris: GeoInfo = { country: 'FR', city: 'Paris', lat: 48.85, lon: 2.35 };
    const lyon: GeoInfo = { country: 'FR', city: 'Lyon', lat: 45.76, lon: 4.84 };
    const orange: AsnInfo = { asn: 3215, org: 'Orange' };
    const free: AsnInfo = { asn: 12322, org: 'Free SAS' };
    const geo = (a: IpAddress) => (formatIp(a).startsWith('90.') ? paris : lyon);
    const asn = (a: IpAddress) => (formatIp(a).endsWith('.1') ? orange : free);
    const e = new Enricher({ geo, asn });
    const sidesOf = (address: string) => {
      const bytes = new TextEncoder().encode(address);
      return e.factsAt(bytes, 0, bytes.length);
    };
    const a = sidesOf('90.1.2.1');
    const b = sidesOf('90.7.7.1');
    assert.equal(b, a, 'same GeoIP record, ASN and side class: one object');
    assert.notEqual(sidesOf('90.1.2.2'), a, 'other ASN');
    assert.notEqual(sidesOf('91.1.2.1'), a, 'other GeoIP record');
    const s = emptySummary({ srcIp: '90.7.7.1', dstIp: '91.0.0.2' });
    e.enrich(s);
    assert.equal(s.srcCity, 'Paris');
    assert.equal(s.srcAsOrg, 'Orange');
    assert.equal(s.dstCity, 'Lyon');
    assert.equal(s.dstAsn, 12322);
    assert.equal(sidesOf('91.0.0.2'), sidesOf('91.5.5.2'));
    // New data: new facts objects (an encoder's rendered bytes on the old ones are not reused).
    e.replaceSources({ geo });
    assert.notEqual(sidesOf('90.1.2.1'), a);
  });

  test('cache cap empties the cache; replacing sources empties it too', () => {
    const fake = fakeLookups();
    const e = new Enricher({ geo: fake.geo, asn: fake.asn }, { maxCacheEntries: 2 });
    for (const a of ['8.8.8.1', '8.8.8.2', '8.8.8.3']) e.enrich(emptySummary({ srcIp: a, dstIp: a }));
    assert.equal(e.stats().cacheResets, 1);
    assert.equal(e.stats().cachedAddresses, 1);
    assert.equal(e.flowType('10.1.0.4', '10.1.0.5'), 'UnknownPrivate');
    e.replaceSources({ labels: labelsIndex() });
    assert.equal(e.stats().cachedAddresses, 0);
    assert.equal(e.flowType('10.1.0.4', '10.1.0.5'), 'IntraVNet');
  });

  test('lookup tells everything known about an address', () => {
    const { e } = enricher();
    const info = e.lookup('20.60.1.1');
    assert.equal(info.address, '20.60.1.1');
    assert.equal(info.serviceTag?.tag.name, 'Storage.EastUS');
    assert.equal(info.serviceTags.length, 4);
    assert.equal(info.sideClass, 'azure');
    assert.equal(info.microsoftAsn, true);
    assert.deepEqual(info.fields.ServiceTag, 'Storage.EastUS');
    const threat = e.lookup('10.1.66.6');
    assert.equal(threat.label?.kind, 'threat');
    assert.deepEqual(
      threat.labels.map((l) => l.label),
      ['compromised-vm', 'hub'],
    );
    assert.equal(threat.special?.kind, 'private');
    assert.deepEqual(e.lookup('bogus').notes, ['not an IPv4 or IPv6 address']);
  });
});

describe('l7Protocol', () => {
  test('IANA service names by port and protocol', () => {
    assert.equal(l7Protocol(443, 'TCP'), 'https');
    assert.equal(l7Protocol(80, 'TCP'), 'http');
    assert.equal(l7Protocol(22, 'TCP'), 'ssh');
    assert.equal(l7Protocol(53, 'UDP'), 'domain');
    assert.equal(l7Protocol(53, '17'), 'domain');
    assert.equal(l7Protocol(3389, 'TCP'), 'ms-wbt-server');
    assert.equal(l7Protocol(1433, 'TCP'), 'ms-sql-s');
    assert.equal(l7Protocol(514, 'TCP'), 'shell');
    assert.equal(l7Protocol(514, 'UDP'), 'syslog');
    assert.equal(l7Protocol(123, 'UDP'), 'ntp');
    assert.equal(l7Protocol(5671, 'TCP'), 'amqps');
    assert.equal(l7Protocol(6379, 'TCP'), 'redis');
    assert.equal(l7Protocol(6379, 'UDP'), 'unknown');
    assert.equal(l7Protocol(61234, 'TCP'), 'unknown');
    assert.equal(l7Protocol(0, '1'), 'unknown');
    assert.equal(l7Protocol(443, '50'), 'unknown');
  });
});
