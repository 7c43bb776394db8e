import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  defaultAsn,
  defaultGeoIp,
  formatLookupJson,
  formatLookupText,
  type LoadedEnricher,
  loadAsnCsv,
  loadEnricher,
  openMmdb,
  peekChangeNumber,
  ServiceTagsSource,
} from '../../../adapters/enrichment/index';
import { EnrichmentDataError, parseIp } from '../../../domain/enrich/index';
import { emptySummary } from '../../support/enrichment';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'enrichment');
const TAGS_FILE = join(FIXTURES, 'ServiceTags_Public_20261123.json');
const LABELS_FILE = join(FIXTURES, 'labels.csv');

const work = mkdtempSync(join(tmpdir(), 'flowlog-enrich-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function isDataError(problem: string, re: RegExp, source?: string) {
  return (e: unknown) =>
    e instanceof EnrichmentDataError &&
    e.problem === problem &&
    re.test(e.message) &&
    (source === undefined || e.source === source);
}

describe('installed default data (DB-IP city lite, ip-location-db ASN)', () => {
  let loaded: LoadedEnricher;
  before(async () => {
    loaded = await loadEnricher({
      enabled: true,
      serviceTagsPath: TAGS_FILE,
      labelsPath: LABELS_FILE,
      cacheDir: join(work, 'cache'),
    });
  });

  test('8.8.8.8 is in the US, AS15169', () => {
    const info = loaded.lookup('8.8.8.8');
    assert.equal(info.geo?.country, 'US');
    assert.equal(info.asn?.asn, 15169);
    assert.match(info.asn?.org ?? '', /Google/);
    assert.equal(typeof info.geo?.lat, 'number');
  });

  test('a Microsoft address is AS8075 and counts as Azure', () => {
    const info = loaded.lookup('20.42.0.1');
    assert.equal(info.asn?.asn, 8075);
    assert.match(info.asn?.org ?? '', /Microsoft/);
    assert.equal(info.sideClass, 'azure');
  });

  test('IPv6 goes to the IPv6 database (and IPv4-mapped IPv6 to the IPv4 one)', () => {
    const v6 = loaded.lookup('2001:4860:4860::8888');
    assert.equal(v6.asn?.asn, 15169);
    assert.notEqual(v6.geo?.country ?? null, null);
    const mapped = loaded.lookup('::ffff:8.8.8.8');
    assert.equal(mapped.geo?.country, 'US');
    assert.equal(mapped.asn?.asn, 15169);
  });

  test('private ranges get nothing from GeoIP/ASN', () => {
    for (const a of [
      '10.0.0.1',
      '192.168.1.1',
      '172.16.5.4',
      '100.64.1.1',
      '168.63.129.16',
      'fd00::1',
      'fe80::1',
    ]) {
      const info = loaded.lookup(a);
      assert.equal(info.geo, null, a);
      assert.equal(info.asn, null, a);
    }
  });

  test('enriches a summary end to end, with the cache counted', () => {
    const s = emptySummary({ srcIp: '10.1.0.4', dstIp: '20.38.98.10', dstPort: 443, protocol: 'TCP' });
    loaded.enricher.enrich(s);
    loaded.enricher.enrich(
      emptySummary({ srcIp: '10.1.0.4', dstIp: '20.38.98.10', dstPort: 443, protocol: 'TCP' }),
    );
    assert.equal(s.srcLabel, 'hub');
    assert.equal(s.dstServiceTag, 'Storage.EastUS');
    assert.equal(s.dstAsn, 8075);
    assert.equal(s.flowType, 'AzurePublic');
    assert.equal(s.l7Protocol, 'https');
    const st = loaded.stats();
    assert.equal(st.lookups, 4);
    assert.equal(st.hits, 2);
    assert.equal(st.hitRate, 0.5);
  });

  test('describes its sources with versions and licences', () => {
    const [geo, asn, tags, labels] = loaded.sources;
    assert.equal(geo?.dataset, 'GeoIP City');
    assert.equal(geo?.licence, 'CC BY 4.0');
    assert.match(geo?.attribution ?? '', /DB-IP/);
    assert.match(geo?.version ?? '', /^@ip-location-db\/dbip-city-mmdb@/);
    assert.equal(asn?.dataset, 'ASN');
    assert.match(asn?.attribution ?? '', /RouteViews/);
    assert.equal(tags?.version, 'changeNumber 123');
    assert.equal(labels?.dataset, 'labels');
    const text = formatLookupText([loaded.lookup('8.8.8.8'), loaded.lookup('20.60.1.1')], loaded.sources);
    assert.match(text, /^8\.8\.8\.8\n {2}family {7}IPv4\n {2}location {5}US/m);
    assert.match(text, /service tag {2}Storage\.EastUS \(eastus\) 20\.60\.0\.0\/16/);
    assert.match(text, /also in {6}Storage 20\.60\.0\.0\/16, AzureCloud\.eastus/);
    assert.match(text, /attribution {2}IP Geolocation by DB-IP/);
    const json = JSON.parse(formatLookupJson([loaded.lookup('10.1.66.6')], loaded.sources));
    assert.equal(json.addresses[0].label.kind, 'threat');
    assert.equal(json.addresses[0].sideClass, 'threat');
    assert.equal(json.sources.length, 4);
  });
});

describe('ASN CSV and its cache', () => {
  test('the parsed table round-trips through the cache file', async () => {
    const dir = join(work, 'asn-cache');
    const csv = join(work, 'asn.csv');
    writeFileSync(
      csv,
      '16777216,16777471,13335,"Cloudflare, Inc."\n134744064,134744319,15169,Google LLC\n' +
        '2001:4860::,2001:4860:ffff:ffff:ffff:ffff:ffff:ffff,15169,Google LLC\n' +
        '42540766411282592856903984951653826560,42540766490510755371168322545197776895,15169,Google LLC\n',
    );
    const first = await loadAsnCsv([csv], dir);
    assert.match(first.cache, /^parsed, wrote /);
    const second = await loadAsnCsv([csv], dir);
    assert.match(second.cache, /^read /);
    for (const t of [first.table, second.table]) {
      assert.deepEqual(t.lookup(parseIp('8.8.8.8') as never), { asn: 15169, org: 'Google LLC' });
      assert.deepEqual(t.lookup(parseIp('1.0.0.1') as never), { asn: 13335, org: 'Cloudflare, Inc.' });
      assert.equal(t.lookup(parseIp('2001:4860:4860::8888') as never)?.asn, 15169);
      assert.equal(t.lookup(parseIp('2001:4861::1') as never), null);
      assert.equal(t.lookup(parseIp('9.9.9.9') as never), null);
    }
  });

  test('a bad row names the file and the line', async () => {
    const csv = join(work, 'bad-asn.csv');
    writeFileSync(csv, '16777216,16777471,13335,x\n16777472,oops,1,y\n');
    await assert.rejects(
      loadAsnCsv([csv], null),
      isDataError('corrupt', /line 2: the range start or end/, csv),
    );
  });

  test('the default package has IPv4 and IPv6 ranges', () => {
    assert.deepEqual(
      defaultAsn()?.files.map((f) => f.split('/').pop()),
      ['asn-ipv4-num.csv', 'asn-ipv6.csv'],
    );
  });
});

describe('missing or corrupt data stops start-up with a clear error', () => {
  const geoV4 = defaultGeoIp()?.files[0] as string;

  test('missing GeoIP file', async () => {
    const path = join(work, 'nope.mmdb');
    await assert.rejects(
      loadEnricher({ enabled: true, geoipPath: path, cacheDir: join(work, 'cache') }),
      isDataError(
        'missing',
        /GeoIP City data .*nope\.mmdb: cannot read the file \(ENOENT\); pass a .* with --geoip/,
        path,
      ),
    );
  });

  test('garbage, truncated and gzip files', async () => {
    const garbage = join(work, 'garbage.mmdb');
    writeFileSync(garbage, Buffer.from('this is not a database at all'.repeat(100)));
    await assert.rejects(
      openMmdb(garbage, 'GeoIP City'),
      isDataError('corrupt', /not a MaxMind DB file/, garbage),
    );

    // The last 64 KiB of a real database: metadata intact, search tree and data gone.
    const truncated = join(work, 'truncated.mmdb');
    const whole = readFileSync(geoV4);
    writeFileSync(truncated, whole.subarray(whole.length - 65536));
    await assert.rejects(
      openMmdb(truncated, 'GeoIP City'),
      isDataError('corrupt', /truncated|damaged|readable/, truncated),
    );

    const gz = join(work, 'gz.mmdb');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    await assert.rejects(openMmdb(gz, 'GeoIP City'), isDataError('corrupt', /gzip/, gz));

    await assert.rejects(
      loadEnricher({ enabled: true, geoipPath: garbage, cacheDir: join(work, 'cache') }),
      isDataError('corrupt', /GeoIP City data .*garbage\.mmdb: not a MaxMind DB file/),
    );
  });

  test('a City database given as ASN is refused', async () => {
    await assert.rejects(
      loadEnricher({ enabled: true, asnPath: geoV4, cacheDir: null }),
      isDataError('wrong-kind', /this is a location database \(city ipv4\); pass it with --geoip/),
    );
  });

  test('missing ASN, service tags, labels files', async () => {
    await assert.rejects(
      loadEnricher({ enabled: true, asnPath: join(work, 'asn-missing.csv'), cacheDir: null }),
      isDataError('missing', /ASN data .*asn-missing\.csv: cannot read the file/),
    );
    await assert.rejects(
      loadEnricher({
        enabled: true,
        serviceTagsPath: join(work, 'tags-missing.json'),
        cacheDir: join(work, 'cache'),
      }),
      isDataError(
        'missing',
        /service tags data .*tags-missing\.json: cannot read the file \(ENOENT\); download ServiceTags_Public/,
      ),
    );
    await assert.rejects(
      loadEnricher({
        enabled: true,
        labelsPath: join(work, 'labels-missing.csv'),
        cacheDir: join(work, 'cache'),
      }),
      isDataError('missing', /labels data .*labels-missing\.csv: cannot read the file/),
    );
  });

  test('corrupt service tags JSON', async () => {
    const path = join(work, 'ServiceTags_bad.json');
    writeFileSync(path, '{"changeNumber": 1, "values": [');
    await assert.rejects(new ServiceTagsSource(path).load(), isDataError('corrupt', /not valid JSON/, path));
  });
});

describe('service tags refresh', () => {
  test('peekChangeNumber reads the top-level number only', () => {
    assert.equal(peekChangeNumber('{\n  "changeNumber": 367,\n  "cloud": "Public",\n  "values": ['), 367);
    assert.equal(peekChangeNumber('{"cloud":"Public","values":[{"properties":{"changeNumber":5'), null);
    assert.equal(peekChangeNumber(''), null);
  });

  test('rebuilt only when changeNumber changes', async () => {
    const path = join(work, 'ServiceTags_Public_refresh.json');
    copyFileSync(TAGS_FILE, path);
    const loaded = await loadEnricher({
      enabled: true,
      serviceTagsPath: path,
      cacheDir: join(work, 'cache'),
    });
    assert.equal(loaded.lookup('20.42.64.10').serviceTag?.tag.name, 'Sql.EastUS');
    loaded.enricher.enrich(emptySummary({ srcIp: '10.0.0.1', dstIp: '20.42.64.10' }));
    assert.deepEqual(await loaded.refresh(), { serviceTags: 'unchanged', labels: 'none', changeNumber: 123 });
    assert.equal(loaded.stats().cachedAddresses, 2, 'cache kept when nothing changed');

    const doc = JSON.parse(readFileSync(TAGS_FILE, 'utf8'));
    doc.changeNumber = 124;
    doc.values = doc.values.filter((v: { name: string }) => v.name !== 'Sql.EastUS');
    writeFileSync(path, JSON.stringify(doc, null, 2));
    assert.deepEqual(await loaded.refresh(), { serviceTags: 'reloaded', labels: 'none', changeNumber: 124 });
    assert.equal(loaded.stats().cachedAddresses, 0, 'cache emptied after a rebuild');
    assert.equal(loaded.lookup('20.42.64.10').serviceTag?.tag.name, 'AzureCloud.eastus');
    assert.equal(loaded.sources.find((s) => s.dataset === 'service tags')?.version, 'changeNumber 124');
  });
});

describe('disabled', () => {
  test('--no-enrich leaves every enrichment field null', async () => {
    const loaded = await loadEnricher({ enabled: false });
    const s = emptySummary({ srcIp: '8.8.8.8', dstIp: '10.0.0.1', dstPort: 443, protocol: 'TCP' });
    loaded.enricher.enrich(s);
    assert.equal(s.srcCountry, null);
    assert.equal(s.flowType, null);
    assert.equal(s.l7Protocol, null);
    assert.deepEqual(loaded.sources, []);
    assert.equal(loaded.lookup('10.0.0.1').special?.kind, 'private');
  });
});
