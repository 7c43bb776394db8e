import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Reader, type Response } from 'maxmind';
import {
  formatLookupJson,
  formatLookupText,
  loadEnricher,
  openMmdb,
} from '../../../adapters/enrichment/index';
import { enrichmentOptions } from '../../../cli/enrichment';
import { formatIp, parseIp } from '../../../domain/enrich/index';
import { emptySummary } from '../../support/enrichment';
import { type MmdbNetwork, type MmdbWriteOptions, writeMmdb } from './mmdb-writer';

const work = mkdtempSync(join(tmpdir(), 'flowlog-own-db-'));
after(() => rmSync(work, { recursive: true, force: true }));

function write(name: string, networks: readonly MmdbNetwork[], options: MmdbWriteOptions): string {
  const path = join(work, name);
  writeFileSync(path, writeMmdb(networks, options));
  return path;
}

// GeoLite2 / GeoIP2 layouts (the records as MaxMind publishes them, trimmed).
const london = {
  city: { geoname_id: 2643743, names: { de: 'London', en: 'London', ja: 'ロンドン' } },
  continent: { code: 'EU', geoname_id: 6255148, names: { en: 'Europe' } },
  country: { geoname_id: 2635167, iso_code: 'GB', names: { en: 'United Kingdom' } },
  location: { accuracy_radius: 100, latitude: 51.5142, longitude: -0.0931, time_zone: 'Europe/London' },
  registered_country: { geoname_id: 6252001, iso_code: 'US', names: { en: 'United States' } },
  subdivisions: [{ geoname_id: 6269131, iso_code: 'ENG', names: { en: 'England' } }],
};
const countryOnly = {
  country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan' } },
  registered_country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan' } },
};
const registeredOnly = { registered_country: { geoname_id: 2077456, iso_code: 'AU' } };
const sydneyV6 = {
  city: { names: { en: 'Sydney' } },
  country: { iso_code: 'AU' },
  location: { latitude: -33.8591, longitude: 151.2002 },
};

const GEOLITE_CITY: MmdbNetwork[] = [
  { cidr: '81.2.69.0/24', record: london },
  { cidr: '81.2.69.192/28', record: { ...london, city: { names: { en: 'Westminster' } } } },
  { cidr: '202.196.224.0/20', record: countryOnly },
  { cidr: '67.43.156.0/24', record: registeredOnly },
  { cidr: '2001:218::/32', record: sydneyV6 },
];
const GEOLITE_ASN: MmdbNetwork[] = [
  {
    cidr: '81.2.69.0/24',
    record: { autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold Ltd' },
  },
  {
    cidr: '20.0.0.0/11',
    record: { autonomous_system_number: 8075, autonomous_system_organization: 'MICROSOFT-CORP-MSN-AS-BLOCK' },
  },
  {
    cidr: '2001:218::/32',
    record: { autonomous_system_number: 2914, autonomous_system_organization: 'NTT-COMMUNICATIONS-2914' },
  },
];

// IPinfo layouts: Lite (country and ASN in one file), the location (city) file, the ASN file.
const IPINFO_LITE: MmdbNetwork[] = [
  {
    cidr: '1.1.1.0/24',
    record: {
      asn: 'AS13335',
      as_name: 'Cloudflare, Inc.',
      as_domain: 'cloudflare.com',
      country_code: 'AU',
      country: 'Australia',
      continent_code: 'OC',
      continent: 'Oceania',
    },
  },
  {
    cidr: '2606:4700::/32',
    record: {
      asn: 'AS13335',
      as_name: 'Cloudflare, Inc.',
      as_domain: 'cloudflare.com',
      country_code: 'US',
      country: 'United States',
      continent_code: 'NA',
      continent: 'North America',
    },
  },
];
const IPINFO_LOCATION: MmdbNetwork[] = [
  {
    cidr: '8.8.8.0/24',
    record: {
      city: 'Mountain View',
      region: 'California',
      country: 'US',
      lat: '37.40599',
      lng: '-122.07851',
      postal_code: '94043',
      timezone: 'America/Los_Angeles',
    },
  },
];
const IPINFO_ASN: MmdbNetwork[] = [
  {
    cidr: '8.8.8.0/24',
    record: {
      asn: 'AS15169',
      name: 'Google LLC',
      domain: 'google.com',
      route: '8.8.8.0/24',
      type: 'hosting',
    },
  },
];

describe('MMDB files written here read back by the maxmind package (the writer is right)', () => {
  for (const recordSize of [24, 28, 32] as const) {
    test(`record size ${recordSize}, IPv6 tree with IPv4 networks`, async () => {
      const path = write(`check-${recordSize}.mmdb`, [...GEOLITE_CITY, ...IPINFO_LITE], {
        ipVersion: 6,
        recordSize,
        databaseType: 'GeoLite2-City',
      });
      const reader = new Reader<Response>(readFileSync(path));
      const ours = await openMmdb(path, 'GeoIP City');
      for (const [ip, want] of [
        ['81.2.69.160', london],
        ['81.2.69.200', { ...london, city: { names: { en: 'Westminster' } } }],
        ['202.196.230.1', countryOnly],
        ['2001:218:1::1', sydneyV6],
        ['1.1.1.1', IPINFO_LITE[0]!.record],
        ['9.9.9.9', null],
        ['2a00::1', null],
      ] as const) {
        assert.deepEqual(reader.get(ip), want, `maxmind: ${ip}`);
        const a = parseIp(ip)!;
        const at = ours.tree.find(a);
        assert.deepEqual(at < 0 ? null : ours.tree.record(at), want, `ours: ${ip}`);
      }
      ours.tree.close();
    });
  }
});

describe('your own GeoIP / ASN databases', () => {
  test('GeoLite2 City + ASN (MaxMind layout): fields, IPv4-mapped, IPv6, fallbacks, the answering file', async () => {
    const city = write('GeoLite2-City.mmdb', GEOLITE_CITY, {
      ipVersion: 6,
      recordSize: 28,
      databaseType: 'GeoLite2-City',
    });
    const asn = write('GeoLite2-ASN.mmdb', GEOLITE_ASN, {
      ipVersion: 6,
      recordSize: 24,
      databaseType: 'GeoLite2-ASN',
    });
    // The same way the CLI flags and the app settings reach the loader.
    const loaded = await loadEnricher({ ...enrichmentOptions({ geoip: city, asn }), cacheDir: null });
    const a = loaded.lookup('81.2.69.160');
    assert.deepEqual(a.geo, { country: 'GB', city: 'London', lat: 51.5142, lon: -0.0931 });
    assert.deepEqual(a.asn, { asn: 20712, org: 'Andrews & Arnold Ltd' });
    assert.equal(a.answeredBy.geo, `${city} (GeoLite2-City)`);
    assert.equal(a.answeredBy.asn, `${asn} (GeoLite2-ASN)`);
    assert.deepEqual(loaded.lookup('::ffff:81.2.69.160').geo, a.geo, 'IPv4-mapped is looked up as IPv4');
    assert.equal(loaded.lookup('81.2.69.200').geo?.city, 'Westminster', 'the more specific network');
    assert.deepEqual(loaded.lookup('202.196.230.1').geo, { country: 'JP', city: null, lat: null, lon: null });
    assert.equal(
      loaded.lookup('67.43.156.1').geo?.country,
      'AU',
      'registered_country when country is absent',
    );
    const v6 = loaded.lookup('2001:218:1::1');
    assert.deepEqual(v6.geo, { country: 'AU', city: 'Sydney', lat: -33.8591, lon: 151.2002 });
    assert.equal(v6.asn?.asn, 2914);
    assert.equal(loaded.lookup('20.1.2.3').sideClass, 'azure', 'a Microsoft ASN from the ASN MMDB');
    const none = loaded.lookup('9.9.9.9');
    assert.equal(none.geo, null);
    assert.deepEqual(none.answeredBy, { geo: null, asn: null });
    assert.ok(none.notes.includes('not in the GeoIP data'));
    const geoSource = loaded.sources.find((s) => s.dataset === 'GeoIP City');
    assert.match(geoSource?.attribution ?? '', /GeoLite2 data created by MaxMind/);

    const s = emptySummary({ srcIp: '81.2.69.160', dstIp: '2001:218:1::1', dstPort: 443, protocol: 'TCP' });
    loaded.enricher.enrich(s);
    assert.equal(s.srcCountry, 'GB');
    assert.equal(s.srcAsOrg, 'Andrews & Arnold Ltd');
    assert.equal(s.dstCity, 'Sydney');
    assert.equal(s.dstAsn, 2914);

    const text = formatLookupText([a], loaded.sources);
    assert.match(
      text,
      new RegExp(
        `location +GB, London \\(51\\.5142, -0\\.0931\\)\\n +from +${escapeRegExp(city)} \\(GeoLite2-City\\)`,
      ),
    );
    assert.match(
      text,
      new RegExp(`AS +AS20712 Andrews & Arnold Ltd\\n +from +${escapeRegExp(asn)} \\(GeoLite2-ASN\\)`),
    );
    const json = JSON.parse(formatLookupJson([a], loaded.sources)) as {
      addresses: { answeredBy: unknown }[];
    };
    assert.deepEqual(json.addresses[0]?.answeredBy, {
      geo: `${city} (GeoLite2-City)`,
      asn: `${asn} (GeoLite2-ASN)`,
    });
  });

  test('IPinfo Lite as both --geoip and --asn: country_code, AS13335 text, as_name', async () => {
    const lite = write('ipinfo_lite.mmdb', IPINFO_LITE, {
      ipVersion: 6,
      recordSize: 32,
      databaseType: 'ipinfo ipinfo_lite.mmdb',
    });
    const loaded = await loadEnricher({ ...enrichmentOptions({ geoip: lite, asn: lite }), cacheDir: null });
    const a = loaded.lookup('1.1.1.1');
    assert.deepEqual(a.geo, { country: 'AU', city: null, lat: null, lon: null });
    assert.deepEqual(a.asn, { asn: 13335, org: 'Cloudflare, Inc.' });
    assert.equal(a.answeredBy.geo, `${lite} (ipinfo ipinfo_lite.mmdb)`);
    assert.equal(a.answeredBy.asn, `${lite} (ipinfo ipinfo_lite.mmdb)`);
    const v6 = loaded.lookup('2606:4700::1111');
    assert.equal(v6.geo?.country, 'US');
    assert.equal(v6.asn?.asn, 13335);
  });

  test('IPinfo location + ASN files (IPv4 only): country code under country, lat/lng as text, name', async () => {
    const location = write('standard_location.mmdb', IPINFO_LOCATION, {
      ipVersion: 4,
      recordSize: 24,
      databaseType: 'ipinfo standard_location.mmdb',
    });
    const asnFile = write('asn.mmdb', IPINFO_ASN, {
      ipVersion: 4,
      recordSize: 24,
      databaseType: 'ipinfo asn.mmdb',
    });
    const loaded = await loadEnricher({
      enabled: true,
      geoipPath: location,
      asnPath: asnFile,
      cacheDir: null,
    });
    const a = loaded.lookup('8.8.8.8');
    assert.deepEqual(a.geo, { country: 'US', city: 'Mountain View', lat: 37.40599, lon: -122.07851 });
    assert.deepEqual(a.asn, { asn: 15169, org: 'Google LLC' });
    const v6 = loaded.lookup('2001:4860::8888');
    assert.equal(v6.geo, null, 'no IPv6 file: no location');
    assert.equal(v6.answeredBy.geo, null);
    // The summary fields are the same string objects for every summary naming the address.
    const s1 = emptySummary({ srcIp: '10.0.0.4', dstIp: '8.8.8.8', dstPort: 53, protocol: 'UDP' });
    const s2 = emptySummary({ srcIp: '10.0.0.5', dstIp: '8.8.8.8', dstPort: 53, protocol: 'UDP' });
    loaded.enricher.enrich(s1);
    loaded.enricher.enrich(s2);
    assert.equal(s1.dstCity, 'Mountain View');
    assert.equal(s1.dstAsOrg, s2.dstAsOrg);
    assert.equal(s1.flowType, 'ExternalPublic');
  });

  test('a location database given as --asn is refused; an IPv6 address never reaches an IPv4 file', async () => {
    const city = write('GeoIP2-City.mmdb', GEOLITE_CITY.slice(0, 3), {
      ipVersion: 4,
      recordSize: 28,
      databaseType: 'GeoIP2-City',
    });
    await assert.rejects(loadEnricher({ enabled: true, asnPath: city, cacheDir: null }), /location database/);
    const opened = await openMmdb(city, 'GeoIP City');
    const v6 = parseIp('::5102:45a0')!; // ::81.2.69.160, not IPv4-mapped: IPv6
    assert.equal(formatIp(v6), '::5102:45a0');
    assert.equal(opened.tree.find(v6), -1);
    opened.tree.close();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
