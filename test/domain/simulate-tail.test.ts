import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type IpAddress, parseIp, specialRange } from '../../domain/enrich';
import { simulateBlobs, tailAddress } from '../../domain/simulate/simulate';

const base = {
  nsgs: 1,
  vnets: 1,
  hours: 1,
  flowsPerMinute: 200,
  seed: 3,
  start: new Date('2026-11-30T00:00:00Z'),
  minutesPerHour: 10,
};

/** Distinct destination addresses of the outbound tuples of every blob. */
function destinations(longTail?: number): Set<string> {
  const out = new Set<string>();
  for (const blob of simulateBlobs({ ...base, ...(longTail === undefined ? {} : { longTail }) }))
    for (const record of blob.records)
      for (const m of record.matchAll(/"\d+,([^,"]+),([^,"]+),\d+,\d+,[^,"]+,O,/g)) out.add(m[2] ?? '');
  return out;
}

describe('simulator long tail of public destinations', () => {
  test('tail addresses are distinct, public and not special', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const a = tailAddress(i);
      assert.ok(!seen.has(a), `${a} repeats (i = ${i})`);
      seen.add(a);
      const ip = parseIp(a) as IpAddress;
      assert.ok(ip !== null && ip.family === 4, a);
      assert.equal(specialRange(ip), null, a);
    }
  });

  test('--long-tail spreads outbound flows over many addresses; without it nothing changes', () => {
    const plain = destinations();
    assert.deepEqual(destinations(0), plain);
    const tail = destinations(100_000);
    assert.ok(plain.size < 100, `${plain.size} destinations without a tail`);
    assert.ok(tail.size > 800, `${tail.size} destinations with a tail`);
    const a = [...simulateBlobs({ ...base, longTail: 1000 })].map((b) => b.records.join());
    const b = [...simulateBlobs({ ...base, longTail: 1000 })].map((b) => b.records.join());
    assert.deepEqual(a, b, 'deterministic per seed');
  });
});
