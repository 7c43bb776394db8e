import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CACHE_FILES_KEPT, cacheFile, cacheKey, writeCached } from '../../../adapters/enrichment/cache';
import { ServiceTagsSource } from '../../../adapters/enrichment/service-tags';
import {
  type IpAddress,
  parseCidr,
  parseIp,
  parseServiceTags,
  ServiceTagIndex,
} from '../../../domain/enrich/index';

const TAGS_FILE = join(__dirname, '..', '..', 'fixtures', 'enrichment', 'ServiceTags_Public_20261123.json');
const work = mkdtempSync(join(tmpdir(), 'flowlog-tags-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));

function fixtureIndex(): ServiceTagIndex {
  return new ServiceTagIndex(parseServiceTags(JSON.parse(readFileSync(TAGS_FILE, 'utf8')), TAGS_FILE));
}

/** Every prefix's first and last address, one before and one after, plus a few addresses outside. */
function probes(): IpAddress[] {
  const doc = JSON.parse(readFileSync(TAGS_FILE, 'utf8')) as {
    values: { properties: { addressPrefixes: string[] } }[];
  };
  const out: IpAddress[] = ['8.8.8.8', '0.0.0.0', '255.255.255.255', '::', '2001:db8::1'].map(
    (t) => parseIp(t) as IpAddress,
  );
  for (const v of doc.values)
    for (const p of v.properties.addressPrefixes) {
      const c = parseCidr(p);
      assert.ok(c !== null, p);
      const bits = c.family === 4 ? 32 : 128;
      const last = c.network | ((1n << BigInt(bits - c.length)) - 1n);
      const max = (1n << BigInt(bits)) - 1n;
      for (const v of [c.network - 1n, c.network, last, last + 1n]) {
        if (v < 0n || v > max) continue;
        const text =
          c.family === 4
            ? [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
            : (v.toString(16).padStart(32, '0').match(/.{4}/g) ?? []).join(':');
        out.push(parseIp(text) as IpAddress);
      }
    }
  return out;
}

describe('service tags index: cached form', () => {
  test('reads back with the same facts and the same answer for every prefix edge', () => {
    const built = fixtureIndex();
    const bytes = built.toBytes();
    const back = ServiceTagIndex.fromBytes(bytes);
    assert.ok(back !== null);
    assert.equal(back.changeNumber, 123);
    assert.equal(back.cloud, 'Public');
    assert.equal(back.tagCount, 8);
    assert.equal(back.prefixCount, built.prefixCount);
    const addresses = probes();
    assert.ok(addresses.length > 60);
    for (const a of addresses) {
      assert.deepEqual(back.match(a), built.match(a));
      assert.deepEqual(back.allMatches(a), built.allMatches(a));
    }
    assert.equal(back.lookup(parseIp('20.38.98.10') as IpAddress)?.name, 'Storage.EastUS');
    assert.equal(back.match(parseIp('20.42.64.10') as IpAddress)?.prefix, '20.42.64.0/26');
    // Written again, a read-back index gives the same bytes.
    assert.deepEqual(back.toBytes(), bytes);
  });

  test('anything but a whole index of this format reads as null', () => {
    const bytes = fixtureIndex().toBytes();
    assert.equal(ServiceTagIndex.fromBytes(bytes.subarray(0, bytes.length - 4)), null);
    assert.equal(ServiceTagIndex.fromBytes(new Uint8Array(0)), null);
    const otherVersion = bytes.slice();
    otherVersion[7] = 99;
    assert.equal(ServiceTagIndex.fromBytes(otherVersion), null);
    const garbledMeta = bytes.slice();
    // The first section (the tags as JSON) starts after magic, count and 8 lengths.
    garbledMeta[12 + 4 * 8] = 0x7b + 1;
    assert.equal(ServiceTagIndex.fromBytes(garbledMeta), null);
    // An unaligned copy still reads (the reader copies it to an aligned buffer).
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    assert.ok(ServiceTagIndex.fromBytes(shifted.subarray(1)) !== null);
  });
});

describe('ServiceTagsSource cache', () => {
  test('builds and writes once, then reads the index of the same bytes; a new document builds again', async () => {
    const cacheDir = join(work, 'cache-a');
    const doc = join(work, 'ServiceTags_Public_a.json');
    writeFileSync(doc, readFileSync(TAGS_FILE));
    const first = new ServiceTagsSource(doc, { cacheDir });
    const built = await first.load();
    const st = statSync(doc);
    const key = cacheKey('service-tags-v1-file', doc, String(st.size), String(st.mtimeMs));
    assert.equal(first.lastCache, `built, wrote ${cacheFile(cacheDir, 'service-tags', key)}`);

    const second = new ServiceTagsSource(doc, { cacheDir });
    const read = await second.load();
    assert.equal(second.lastCache, `read ${cacheFile(cacheDir, 'service-tags', key)}`);
    assert.equal(read.changeNumber, built.changeNumber);
    assert.equal(read.lookup(parseIp('20.42.64.10') as IpAddress)?.name, 'Sql.EastUS');

    // Next week's file (another changeNumber, one prefix fewer): built again, its own cache entry.
    const next = JSON.parse(readFileSync(TAGS_FILE, 'utf8')) as {
      changeNumber: number;
      values: { name: string; properties: { addressPrefixes: string[] } }[];
    };
    next.changeNumber = 124;
    const sql = next.values.find((v) => v.name === 'Sql.EastUS');
    assert.ok(sql !== undefined);
    sql.properties.addressPrefixes = sql.properties.addressPrefixes.filter((p) => p !== '20.42.64.0/26');
    writeFileSync(doc, JSON.stringify(next));
    const third = new ServiceTagsSource(doc, { cacheDir });
    const rebuilt = await third.load();
    assert.match(third.lastCache, /^built, wrote /);
    assert.equal(rebuilt.changeNumber, 124);
    assert.equal(rebuilt.lookup(parseIp('20.42.64.10') as IpAddress)?.name, 'AzureCloud.eastus');
    assert.equal(readdirSync(cacheDir).filter((n) => n.startsWith('service-tags-')).length, 2);
  });

  test('a damaged cache file is ignored and replaced; no cache dir means no files', async () => {
    const cacheDir = join(work, 'cache-b');
    const doc = join(work, 'ServiceTags_Public_b.json');
    writeFileSync(doc, readFileSync(TAGS_FILE));
    await new ServiceTagsSource(doc, { cacheDir }).load();
    const name = readdirSync(cacheDir)[0] ?? '';
    assert.ok(name.startsWith('service-tags-'), name);
    const file = join(cacheDir, name);
    writeFileSync(file, readFileSync(file).subarray(0, 100));
    const source = new ServiceTagsSource(doc, { cacheDir });
    const index = await source.load();
    assert.match(source.lastCache, /^built, wrote /);
    assert.equal(index.lookup(parseIp('20.38.98.10') as IpAddress)?.name, 'Storage.EastUS');
    assert.ok(ServiceTagIndex.fromBytes(readFileSync(file)) !== null);

    const none = new ServiceTagsSource(doc, { cacheDir: null });
    await none.load();
    assert.equal(none.lastCache, 'built');
  });

  test(`keeps the ${CACHE_FILES_KEPT} most recently used files of a kind`, async () => {
    const cacheDir = join(work, 'cache-c');
    const t0 = Date.now() / 1000 - 3600;
    for (let i = 0; i < CACHE_FILES_KEPT + 2; i++) {
      await writeCached(cacheDir, 'service-tags', `k${i}`, Uint8Array.of(i));
      // Distinct ages: k0 oldest.
      utimesSync(cacheFile(cacheDir, 'service-tags', `k${i}`), t0 + i, t0 + i);
    }
    await writeCached(cacheDir, 'asn', 'other', Uint8Array.of(1));
    await writeCached(cacheDir, 'service-tags', 'latest', Uint8Array.of(9));
    const names = readdirSync(cacheDir).sort();
    assert.deepEqual(names, [
      'asn-other.bin',
      'service-tags-k3.bin',
      'service-tags-k4.bin',
      'service-tags-k5.bin',
      'service-tags-latest.bin',
    ]);
  });
});
