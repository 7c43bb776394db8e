import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseIp, specialRange } from '../../../domain/enrich/index';
import { internetTailAddress, simulateBlobs } from '../../../domain/simulate/simulate';

const base = {
  nsgs: 1,
  vnets: 1,
  hours: 1,
  flowsPerMinute: 200,
  seed: 3,
  start: new Date('2026-11-30T00:00:00Z'),
  minutesPerHour: 10,
};

/** Distinct sources of inbound tuples on deny rules (scans) and destinations of outbound tuples. */
function addresses(options: Partial<Parameters<typeof simulateBlobs>[0]>) {
  const scanners = new Set<string>();
  const destinations = new Set<string>();
  for (const blob of simulateBlobs({ ...base, ...options }))
    for (const record of blob.records) {
      for (const m of record.matchAll(/"\d+,([^,"]+),([^,"]+),\d+,\d+,[^,"]+,O,/g))
        destinations.add(m[2] ?? '');
      // Denied inbound: NSG `…,I,D,B,…` (decision D), VNet `…,I,D,NX,…` (state D).
      for (const m of record.matchAll(/"\d+,([^,"]+),[^,"]+,\d+,\d+,[^,"]+,I,D[,"]/g))
        scanners.add(m[1] ?? '');
    }
  return { scanners, destinations };
}

describe("simulator: the internet-wide long tail (longTailSpace: 'internet')", () => {
  test('addresses are distinct, public and not special; one in eight is IPv6; spread over the IPv4 space', () => {
    const seen = new Set<string>();
    const firstOctets = new Set<number>();
    let v6 = 0;
    for (let i = 0; i < 50_000; i++) {
      const a = internetTailAddress(i);
      assert.ok(!seen.has(a), `${a} repeats (i = ${i})`);
      seen.add(a);
      const ip = parseIp(a);
      assert.ok(ip !== null, a);
      assert.equal(specialRange(ip), null, a);
      if (ip.family === 6) v6++;
      else {
        assert.ok(
          !/^(10|127|0)\.|^192\.168\.|^172\.(1[6-9]|2\d|3[01])\.|^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(
            a,
          ),
          a,
        );
        firstOctets.add(ip.value >>> 24);
      }
    }
    assert.equal(v6, 50_000 / 8);
    assert.ok(firstOctets.size > 200, `${firstOctets.size} first octets`);
  });

  test('existing options keep their bytes; the internet tail also sends scans', () => {
    const join = (o: Partial<Parameters<typeof simulateBlobs>[0]>) =>
      [...simulateBlobs({ ...base, ...o })].map((b) => b.records.join()).join();
    assert.equal(join({ longTail: 1000, longTailSpace: 'octets' }), join({ longTail: 1000 }));
    assert.notEqual(join({ longTail: 1000, longTailSpace: 'internet' }), join({ longTail: 1000 }));
    const octets = addresses({ longTail: 100_000 });
    const internet = addresses({ longTail: 100_000, longTailSpace: 'internet' });
    assert.ok(octets.scanners.size <= 5, `${octets.scanners.size} scanners with the octets tail`);
    assert.ok(internet.scanners.size > 100, `${internet.scanners.size} scanners with the internet tail`);
    assert.ok(internet.destinations.size > 800, `${internet.destinations.size} destinations`);
    assert.ok([...internet.destinations].some((a) => a.includes(':') && !a.startsWith('2603:')));
  });
});
