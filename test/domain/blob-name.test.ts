import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkFlowLogBlobName } from '../../domain/blob-name';
import { simulateBlobs } from '../../domain/simulate/simulate';

const segment = fc.stringMatching(/^[A-Za-z0-9_.()-]{1,20}$/).filter((s) => s !== '.' && s !== '..');
const hex12 = fc.stringMatching(/^[0-9A-F]{12}$/);
const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
const hourPath = fc
  .tuple(fc.integer({ min: 2017, max: 2030 }), two(12), two(28), two(23), hex12)
  .map(([y, m, d, h, mac]) => `y=${y}/m=${m}/d=${d}/h=${h}/m=00/macAddress=${mac}/PT1H.json`);

/** Names in each of Azure's layouts. */
const validName = fc.oneof(
  fc
    .tuple(segment, segment, segment, hourPath)
    .map(
      ([sub, rg, nsg, hour]) =>
        `resourceId=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/${nsg}/${hour}`,
    ),
  fc
    .tuple(segment, segment, segment, segment, hourPath)
    .map(
      ([sub, rg, watcher, log, hour]) =>
        `flowLogResourceID=/SUBSCRIPTIONS/${sub}/RESOURCEGROUPS/${rg}/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/${watcher}/FLOWLOGS/${log}/${hour}`,
    ),
  fc.tuple(segment, segment, hourPath).map(([a, b, hour]) => `flowLogResourceID=/${a}/${b}/${hour}`),
);

/** What an attacker puts into a name to climb out of the container. */
const hostile = fc.constantFrom(
  '..',
  '.',
  '',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '..\\..',
  'a\\b',
  'x\u0000y',
  'x\ny',
  '\u007f',
  '%2f',
);

describe('flow-log blob names', () => {
  test('every name the simulator writes (Azure layouts) is accepted', () => {
    for (const b of simulateBlobs({
      nsgs: 3,
      vnets: 3,
      hours: 2,
      flowsPerMinute: 1,
      seed: 1,
      start: new Date('2026-11-30T00:00:00Z'),
      minutesPerHour: 1,
    }))
      assert.deepEqual(checkFlowLogBlobName(b.name), { ok: true }, b.name);
  });

  test('generated names in every layout are accepted', () => {
    fc.assert(
      fc.property(validName, (name) => checkFlowLogBlobName(name).ok),
      { numRuns: 500 },
    );
  });

  test('a hostile segment anywhere in a valid name is refused, with the reason', () => {
    fc.assert(
      fc.property(validName, hostile, fc.nat(), (name, bad, at) => {
        const parts = name.split('/');
        const i = 1 + (at % (parts.length - 1));
        const mutated = [...parts.slice(0, i), bad, ...parts.slice(i)].join('/');
        const verdict = checkFlowLogBlobName(mutated);
        return !verdict.ok && verdict.reason.startsWith('blob name ');
      }),
      { numRuns: 1000 },
    );
  });

  test('the attack of issue 10: a served-looking prefix climbing into another container', () => {
    const other =
      'resourceId=/x/../../../secret-container/resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json';
    for (const name of [other, other.replace(/\.\./g, '%2e%2e'), other.replace(/\//g, '\\')]) {
      const v = checkFlowLogBlobName(name);
      assert.equal(v.ok, false, name);
    }
    assert.match((checkFlowLogBlobName(other) as { reason: string }).reason, /has a "\.\." path segment/);
    assert.match(
      (checkFlowLogBlobName('resourceId=/SUBSCRIPTIONS/S/x/PT1H.json') as { reason: string }).reason,
      /is not in a flow-log layout/,
    );
  });
});
