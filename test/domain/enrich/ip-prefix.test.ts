import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  bigIntToIp,
  type Cidr,
  cidrLast,
  formatCidr,
  formatIp,
  type IpAddress,
  type IpFamily,
  ipToBigInt,
  ipv4OfBytes,
  PrefixTable,
  parseCidr,
  parseIp,
  specialRange,
} from '../../../domain/enrich/index';

describe('parseIp / formatIp', () => {
  test('IPv4', () => {
    assert.deepEqual(parseIp('8.8.8.8'), { family: 4, value: 0x08080808 });
    assert.deepEqual(parseIp('255.255.255.255'), { family: 4, value: 0xffffffff });
    assert.deepEqual(parseIp('0.0.0.0'), { family: 4, value: 0 });
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4 ',
      '1..2.3',
      'a.b.c.d',
      '1.2.3.',
    ]) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  test('IPv6 forms, zone ids, and IPv4-mapped addresses folded to IPv4', () => {
    assert.deepEqual(parseIp('::'), { family: 6, w0: 0, w1: 0, w2: 0, w3: 0 });
    assert.deepEqual(parseIp('::1'), { family: 6, w0: 0, w1: 0, w2: 0, w3: 1 });
    assert.deepEqual(parseIp('2001:db8::1'), { family: 6, w0: 0x20010db8, w1: 0, w2: 0, w3: 1 });
    assert.deepEqual(parseIp('fe80::1%eth0'), { family: 6, w0: 0xfe800000, w1: 0, w2: 0, w3: 1 });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), {
      family: 6,
      w0: 0x10002,
      w1: 0x30004,
      w2: 0x50006,
      w3: 0x70008,
    });
    assert.deepEqual(parseIp('::ffff:10.1.2.3'), { family: 4, value: 0x0a010203 });
    assert.deepEqual(parseIp('::FFFF:0a01:0203'), { family: 4, value: 0x0a010203 });
    assert.deepEqual(parseIp('64:ff9b::8.8.8.8'), { family: 6, w0: 0x64ff9b, w1: 0, w2: 0, w3: 0x08080808 });
    for (const bad of [
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      '1:',
      ':1',
      'g::1',
    ]) {
      assert.equal(parseIp(bad), null, bad);
    }
    assert.equal(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001') as IpAddress), '2001:db8::1');
    assert.equal(formatIp(parseIp('2001:db8:0:1:0:0:0:1') as IpAddress), '2001:db8:0:1::1');
    assert.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1') as IpAddress), '2001:db8:0:1:1:1:1:1');
  });

  test('agrees with node:net on validity, and format/parse round-trips (property)', () => {
    const v6 = fc
      .tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }))
      .chain(([a, b]) =>
        fc.tuple(fc.constant(a), fc.constant(b), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(3)),
      );
    fc.assert(
      fc.property(v6, ([w0, w1, w2, zeros]) => {
        // Runs of zero groups exercise `::` compression.
        const addr: IpAddress = {
          family: 6,
          w0,
          w1: zeros > 0 ? 0 : w1,
          w2: zeros > 1 ? 0 : w2,
          w3: zeros > 2 ? 0 : w1,
        };
        if (addr.w0 === 0 && addr.w1 === 0 && addr.w2 === 0xffff) return;
        const text = formatIp(addr);
        assert.equal(isIP(text), 6, text);
        assert.deepEqual(parseIp(text), addr);
        assert.deepEqual(parseIp(text.toUpperCase()), addr);
      }),
    );
    fc.assert(
      fc.property(fc.ipV4(), (text) => {
        const a = parseIp(text);
        assert.ok(a !== null && a.family === 4);
        assert.equal(formatIp(a), text);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const a = parseIp(text);
        assert.ok(a !== null, text);
        // The canonical text of what we parsed means the same address to node:net's parser too.
        assert.notEqual(isIP(formatIp(a)), 0);
        const big = ipToBigInt(a);
        assert.deepEqual(bigIntToIp(a.family, big), a);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const ours = parseIp(text);
        const node = isIP(text);
        // node:net is the oracle for everything but zone ids and leading-zero IPv4 (which we reject).
        if (ours !== null) assert.notEqual(node, 0, text);
        if (node === 6 && !text.includes('%')) assert.notEqual(ours, null, text);
      }),
    );
  });

  test('parseCidr', () => {
    const c = parseCidr('10.1.0.0/16');
    assert.ok(c !== null);
    assert.equal(c.family, 4);
    assert.equal(c.length, 16);
    assert.equal(c.hostBitsSet, false);
    assert.equal(formatCidr(c), '10.1.0.0/16');
    assert.equal(parseCidr('10.1.2.3/16')?.hostBitsSet, true);
    assert.equal(formatCidr(parseCidr('10.1.2.3/16') as Cidr), '10.1.0.0/16');
    assert.equal(parseCidr('1.2.3.4')?.length, 32);
    assert.equal(parseCidr('2001:db8::/32')?.length, 32);
    assert.equal(parseCidr('2001:db8::1')?.length, 128);
    assert.equal(formatCidr(parseCidr('::ffff:10.0.0.0/104') as Cidr), '10.0.0.0/8');
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '::/129', 'x/8', '10.0.0.0/-1']) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });
});

describe('ipv4OfBytes (the encoder hands the enricher address bytes)', () => {
  const bytesOf = (text: string) => new TextEncoder().encode(`x${text}y`);
  const viaText = (text: string) => {
    const a = text.includes(':') ? null : parseIp(text);
    return a !== null && a.family === 4 ? a.value : -1;
  };
  test('same value as parseIp for dotted quads, -1 wherever parseIp would not read an IPv4 address', () => {
    for (const text of [
      '0.0.0.0',
      '255.255.255.255',
      '10.1.0.4',
      '8.8.8.8',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
    ]) {
      assert.equal(ipv4OfBytes(bytesOf(text), 1, text.length + 1), viaText(text), text);
    }
    fc.assert(
      fc.property(
        fc.oneof(
          fc.ipV4(),
          fc.stringMatching(/^[0-9.]{0,18}$/),
          fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((p) => p.join('.')),
        ),
        (text) => {
          assert.equal(ipv4OfBytes(bytesOf(text), 1, text.length + 1), viaText(text), text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('PrefixTable', () => {
  interface Tagged {
    readonly name: string;
    readonly rank: number;
  }
  const prefer = (a: Tagged, b: Tagged) => a.rank - b.rank;

  function entry(cidr: string, name: string, rank = 0) {
    const c = parseCidr(cidr);
    if (c === null) throw new Error(cidr);
    return { cidr: c, value: { name, rank } };
  }

  test('longest prefix wins; ties go to the prefer rule, then to the first entry', () => {
    const t = PrefixTable.build(
      [
        entry('10.0.0.0/8', 'ten'),
        entry('10.1.0.0/16', 'ten-one-b', 1),
        entry('10.1.0.0/16', 'ten-one-a', 0),
        entry('10.1.2.0/24', 'ten-one-two'),
        entry('10.1.2.0/24', 'ten-one-two-late'),
        entry('0.0.0.0/0', 'default'),
        entry('2001:db8::/32', 'doc'),
        entry('2001:db8:1::/48', 'doc-1'),
        entry('::/0', 'default6'),
      ],
      prefer,
    );
    const name = (ip: string) => t.lookup(parseIp(ip) as IpAddress)?.value.name;
    assert.equal(name('10.1.2.3'), 'ten-one-two');
    assert.equal(name('10.1.3.3'), 'ten-one-a');
    assert.equal(name('10.2.0.0'), 'ten');
    assert.equal(name('11.0.0.0'), 'default');
    assert.equal(name('255.255.255.255'), 'default');
    assert.equal(name('2001:db8:1::5'), 'doc-1');
    assert.equal(name('2001:db8:2::5'), 'doc');
    assert.equal(name('ffff::'), 'default6');
    assert.deepEqual(
      t.allMatches(parseIp('10.1.2.3') as IpAddress).map((e) => e.value.name),
      ['ten-one-two', 'ten-one-two-late', 'ten-one-a', 'ten-one-b', 'ten', 'default'],
    );
  });

  test('an empty table and an address outside every block find nothing', () => {
    assert.equal(PrefixTable.empty().lookup({ family: 4, value: 1 }), undefined);
    const t = PrefixTable.build([entry('192.168.0.0/16', 'x')], prefer);
    assert.equal(t.lookup(parseIp('192.167.255.255') as IpAddress), undefined);
    assert.equal(t.lookup(parseIp('192.169.0.0') as IpAddress), undefined);
    assert.equal(t.lookup(parseIp('::1') as IpAddress), undefined);
    assert.equal(t.lookup(parseIp('192.168.255.255') as IpAddress)?.value.name, 'x');
  });

  /** Brute force: scan every entry, keep the longest containing block, ties by prefer then input order. */
  function bruteForce(entries: ReadonlyArray<{ cidr: Cidr; value: Tagged }>, address: IpAddress) {
    const v = ipToBigInt(address);
    let best: { cidr: Cidr; value: Tagged } | undefined;
    for (const e of entries) {
      if (e.cidr.family !== address.family) continue;
      const first = e.cidr.network;
      if (v < first || v > cidrLast(e.cidr)) continue;
      if (
        best === undefined ||
        e.cidr.length > best.cidr.length ||
        (e.cidr.length === best.cidr.length && prefer(e.value, best.value) < 0)
      ) {
        best = e;
      }
    }
    return best;
  }

  /**
   * Prefixes clustered in three small parts of the space (so they nest and tie often), addresses near
   * them; the parts include the first and the last address of the family.
   */
  function arbitraries(family: IpFamily) {
    const bits = family === 4 ? 32 : 128;
    // Near the start, the middle and the very end of the space: blocks ending at the last address too.
    const top = (1n << BigInt(bits)) - (1n << 16n);
    const base = family === 4 ? 0x0a000000n : 0x20010db8n << 96n;
    const span = 16; // the low 16 bits vary
    const block = fc
      .record({
        at: fc.constantFrom(0n, base, top),
        offset: fc.bigInt({ min: 0n, max: (1n << BigInt(span)) - 1n }),
        length: fc.integer({ min: bits - span - 2, max: bits }),
        rank: fc.nat(2),
      })
      .map(({ at, offset, length, rank }) => {
        const value = at + offset;
        const mask = (1n << BigInt(bits - length)) - 1n;
        return { cidr: { family, network: value & ~mask, length } as Cidr, value: { name: '', rank } };
      });
    const entries = fc
      .array(block, { maxLength: 60 })
      .map((list) => list.map((e, i) => ({ cidr: e.cidr, value: { name: `e${i}`, rank: e.value.rank } })));
    const max = (1n << BigInt(bits)) - 1n;
    const address = fc
      .tuple(fc.constantFrom(0n, base, top), fc.bigInt({ min: 0n, max: (1n << BigInt(span + 2)) - 1n }))
      .map(([at, o]) => {
        const v = at - (1n << BigInt(span)) + o;
        return bigIntToIp(family, v < 0n ? 0n : v > max ? max : v);
      });
    return { entries, addresses: fc.array(address, { minLength: 1, maxLength: 40 }) };
  }

  for (const family of [4, 6] as const) {
    test(`matches a brute-force scan (IPv${family}, property)`, () => {
      const { entries, addresses } = arbitraries(family);
      fc.assert(
        fc.property(entries, addresses, (list, probes) => {
          const table = PrefixTable.build(list, prefer);
          // The same table read back from its cached form (values numbered by their name).
          const values = list.map((e) => e.value);
          const number = (v: { name: string }) => values.findIndex((x) => x.name === v.name);
          const sections = table.toSections(number);
          const readBack = PrefixTable.fromSections(sections, values, prefer);
          assert.ok(readBack !== null);
          assert.deepEqual(readBack.toSections(number), sections);
          for (const a of probes) {
            const want = bruteForce(list, a);
            const where = `${formatIp(a)} in ${list.map((e) => formatCidr(e.cidr))}`;
            assert.equal(table.lookup(a)?.value.name, want?.value.name, where);
            const back = readBack.lookup(a);
            assert.equal(back?.value.name, want?.value.name, where);
            assert.equal(back && formatCidr(back.cidr), want && formatCidr(want.cidr), where);
            assert.deepEqual(
              readBack.allMatches(a).map((e) => `${formatCidr(e.cidr)} ${e.value.name}`),
              table.allMatches(a).map((e) => `${formatCidr(e.cidr)} ${e.value.name}`),
              where,
            );
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('special ranges', () => {
  const kind = (ip: string) => specialRange(parseIp(ip) as IpAddress)?.kind ?? null;
  test('private, shared, link-local, loopback, Azure platform, IPv6 ULA and link-local', () => {
    assert.equal(kind('10.0.0.1'), 'private');
    assert.equal(kind('172.16.0.1'), 'private');
    assert.equal(kind('172.31.255.255'), 'private');
    assert.equal(kind('172.32.0.1'), null);
    assert.equal(kind('192.168.1.1'), 'private');
    assert.equal(kind('100.64.0.1'), 'shared');
    assert.equal(kind('100.128.0.1'), null);
    assert.equal(kind('127.0.0.1'), 'loopback');
    assert.equal(kind('169.254.1.1'), 'link-local');
    assert.equal(kind('169.254.169.254'), 'azure-platform');
    assert.equal(kind('168.63.129.16'), 'azure-platform');
    assert.equal(kind('168.63.129.17'), null);
    assert.equal(kind('224.0.0.5'), 'multicast');
    assert.equal(kind('255.255.255.255'), 'broadcast');
    assert.equal(kind('0.1.2.3'), 'unspecified');
    assert.equal(kind('192.0.2.1'), 'documentation');
    assert.equal(kind('::1'), 'loopback');
    assert.equal(kind('::'), 'unspecified');
    assert.equal(kind('fd12:3456::1'), 'private');
    assert.equal(kind('fe80::1'), 'link-local');
    assert.equal(kind('ff02::1'), 'multicast');
    assert.equal(kind('::ffff:192.168.0.1'), 'private');
    assert.equal(kind('8.8.8.8'), null);
    assert.equal(kind('2001:4860:4860::8888'), null);
    assert.equal(specialRange(parseIp('10.0.0.1') as IpAddress)?.privateSpace, true);
    assert.equal(specialRange(parseIp('127.0.0.1') as IpAddress)?.privateSpace, false);
  });
});
