// Hour completeness users can see (issue 11 item 3): the sweep marks a blob read to its end complete once
// its hour and grace are over, without a run; a block in the grace or after completion keeps or makes it
// not complete; GET /api/blobs/{key}, the ledger and GET /api/hours show it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HourTally, hourPartition, type LedgerRow } from '../../adapters/ledger';
import { appServices } from '../../app/services';
import { sweepOnce } from '../../app/sweep';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { type SimulatedBlob, simulateBlobs } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import { NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';

const HOUR = 3_600_000;

describe('hour completeness', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  // Blobs of the current hour: runs read them while the hour is open (so no run can call them complete);
  // the sweep is then called with times after the hour's end.
  const hour = Math.floor(Date.now() / HOUR) * HOUR;
  const hourEnd = hour + HOUR;
  const list: SimulatedBlob[] = [
    ...simulateBlobs({
      nsgs: 3,
      vnets: 0,
      hours: 1,
      flowsPerMinute: 3,
      seed: 811,
      start: new Date(hour),
      minutesPerHour: 3,
    }),
  ];
  const [settles, inGrace, fails] = [list[0]!, list[1]!, list[2]!];
  const keyOf = (b: SimulatedBlob) =>
    blobKey({ account: stack.account, container: NSG_CONTAINER, name: b.name });
  const state = (b: SimulatedBlob) =>
    JSON.parse(
      stack.host.durable.readEntityState(names.blobStateEntity, keyOf(b)).stateJson ?? 'null',
    ) as BlobState;
  const commit = async (b: SimulatedBlob, record: string, notify = true) => {
    const c = await stack.writer.forContainer(NSG_CONTAINER).appendRecord(b.name, record);
    if (notify)
      await stack.host.sendEventGridEvent(
        names.blobCreated,
        blobCreatedEvent(stack.account, NSG_CONTAINER, b.name, c),
      );
  };
  const sweepAt = async (minutesAfterEnd: number) => {
    const r = await sweepOnce(
      stack.host.durableClient(),
      appServices(),
      new Date(hourEnd + minutesAfterEnd * 60_000),
      console,
    );
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    return r;
  };
  const getBlob = async (b: SimulatedBlob) => {
    const r = await stack.host.http({ method: 'GET', url: `/api/blobs/${keyOf(b)}` });
    assert.equal(r.status, 200);
    return JSON.parse(String(r.body)) as {
      hourComplete: boolean;
      hour: {
        complete: boolean;
        completedAt: string | null;
        reopened: number;
        status: string;
        completeFrom: string;
      };
    };
  };
  const hours = async (query: string) => {
    const r = await stack.host.http({ method: 'GET', url: `/api/hours?${query}` });
    return { status: r.status, body: JSON.parse(String(r.body)) };
  };
  const hourOf = async () => {
    const r = await hours(`from=${new Date(hour).toISOString()}`);
    assert.equal(r.status, 200);
    return r.body.hours[0] as {
      blobs: number;
      complete: number;
      lagging: number;
      failed: number;
      pending: number;
      allComplete: boolean;
      keys: Record<string, string[]>;
    };
  };

  test('read to its end, hour and grace over: the sweep marks it complete without a run', async () => {
    for (const b of [settles, inGrace]) for (const r of b.records.slice(0, 2)) await commit(b, r);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    // The third blob fails: every parse attempt (5, with back-off) is refused.
    stack.host.faults.failActivity(names.parseChunk, 5, new Error('injected: storage down'));
    await commit(fails, fails.records[0]!);
    await stack.host.waitForIdle({ timeoutMs: 90_000, fastForward: true });
    for (const b of [settles, inGrace]) {
      assert.equal(state(b).cursor.recordOrdinal, 2);
      assert.equal(state(b).hourComplete, false, 'read while its hour was open');
      assert.equal((await appServices().ledger.get(keyOf(b)))?.hourComplete, false);
    }
    assert.notEqual(state(fails).lastError, null);
    const open = await hourOf();
    assert.deepEqual(
      [open.blobs, open.complete, open.pending, open.failed, open.lagging, open.allComplete],
      [3, 0, 2, 1, 0, false],
    );
    assert.deepEqual(open.keys['failed'], [keyOf(fails)]);

    // Within the grace: nothing is settled, and nothing is run.
    const runs = stack.host.durable.counters.orchestrationsStarted;
    const early = await sweepAt(5);
    assert.deepEqual([early.settled, early.poked], [[], [keyOf(fails)]]);
    assert.equal(
      stack.host.durable.counters.orchestrationsStarted,
      runs + 1,
      'only the failed blob was poked',
    );
    assert.equal((await getBlob(settles)).hour.status, 'in-grace');

    // One blob gets a block in the grace (its event lost); the sweep after the grace finds it behind and
    // pokes it (a run reads it), and settles the other one without a run.
    await commit(inGrace, inGrace.records[2]!, false);
    const runsBefore = stack.host.durable.counters.orchestrationsStarted;
    const runsOfSettled = state(settles).stats.runs;
    const after = await sweepAt(20);
    assert.deepEqual(after.settled, [keyOf(settles)]);
    assert.ok(after.poked.includes(keyOf(inGrace)));
    assert.ok(!after.poked.includes(keyOf(settles)));
    assert.equal(
      stack.host.durable.counters.orchestrationsStarted - runsBefore,
      after.poked.length,
      'settling started no orchestration: only the pokes did',
    );
    assert.equal(state(settles).hourComplete, true, 'the entity decided it');
    assert.equal(state(settles).stats.runs, runsOfSettled, 'no run');
    const view = await getBlob(settles);
    assert.deepEqual([view.hourComplete, view.hour.complete, view.hour.status], [true, true, 'complete']);
    assert.equal(view.hour.completedAt, new Date(hourEnd + 20 * 60_000).toISOString());
    const row = await appServices().ledger.get(keyOf(settles));
    assert.equal(row?.hourComplete, true);
    // The block committed in the grace was read by a run listing before the sweep's `now`: not complete.
    assert.equal(state(inGrace).cursor.recordOrdinal, 3);
    assert.equal(state(inGrace).hourComplete, false);

    const counted = await hourOf();
    assert.deepEqual(
      [counted.blobs, counted.complete, counted.pending, counted.failed, counted.allComplete],
      [3, 1, 1, 1, false],
    );
    assert.deepEqual(counted.keys['complete'], [keyOf(settles)]);
    assert.deepEqual(counted.keys['pending'], [keyOf(inGrace)]);
    // GET /api/blobs shows the flag too, and reads one hour's partition on request.
    const listed = await stack.host.http({
      method: 'GET',
      url: `/api/blobs?hour=${hourPartition(new Date(hour))}`,
    });
    const rows = (JSON.parse(String(listed.body)) as { blobs: LedgerRow[] }).blobs;
    assert.deepEqual(
      rows.filter((r) => r.hourComplete).map((r) => r.key),
      [keyOf(settles)],
    );

    // The next sweep settles the one read in the grace, and leaves the failed one to the operator.
    const next = await sweepAt(22);
    assert.deepEqual(next.settled, [keyOf(inGrace)]);
    const both = await hourOf();
    assert.deepEqual([both.complete, both.failed, both.pending], [2, 1, 0]);
  });

  test('a block after completion reopens the hour and is read; the sweep settles it again', async () => {
    await commit(settles, settles.records[2]!);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const s = state(settles);
    assert.deepEqual([s.cursor.recordOrdinal, s.hourComplete, s.hourReopened], [3, false, 1]);
    const view = await getBlob(settles);
    assert.deepEqual([view.hourComplete, view.hour.reopened], [false, 1]);
    assert.equal(
      (await appServices().ledger.get(keyOf(settles)))?.hourComplete,
      false,
      'the run wrote a newer row',
    );
    assert.equal((await hourOf()).complete, 1);
    const again = await sweepAt(30);
    assert.deepEqual(again.settled, [keyOf(settles)]);
    assert.equal((await hourOf()).complete, 2);
  });

  test('GET /api/hours validates its range', async () => {
    assert.equal((await hours('')).status, 400);
    assert.equal((await hours('from=yesterday')).status, 400);
    assert.equal((await hours(`from=${hourPartition(new Date(hour))}&to=2020010100`)).status, 400);
    assert.equal((await hours('from=2026010100&to=2026020100')).status, 400, 'more than a week');
    const empty = await hours('from=2026010100&to=2026010101&keys=0');
    assert.equal(empty.status, 200);
    assert.deepEqual(
      (empty.body.hours as { hour: string; blobs: number; allComplete: boolean }[]).map((h) => [
        h.hour,
        h.blobs,
        h.allComplete,
      ]),
      [
        ['2026010100', 0, false],
        ['2026010101', 0, false],
      ],
    );
  });
});

test('HourTally: one state per blob, bounded key lists, lagging from the row', () => {
  const row = (key: string, over: Partial<LedgerRow>): LedgerRow => ({
    key,
    account: 'a',
    container: 'c',
    name: 'n',
    blobId: '0',
    state: 'ok',
    generation: 0,
    consumedBytes: 0,
    observedLength: 0,
    lagBytes: 0,
    records: 0,
    failureCount: 0,
    lastError: '',
    hourComplete: false,
    updatedAt: '',
    revision: 0,
    ...over,
  });
  const tally = new HourTally('2026113009', 2);
  for (let i = 0; i < 3; i++) tally.add(row(`c${i}`, { hourComplete: true }));
  tally.add(row('l', { state: 'lagging', lagBytes: 500 }));
  tally.add(row('f', { state: 'failed', lagBytes: 100, hourComplete: true }));
  tally.add(row('p', {}));
  const s = tally.summary();
  assert.deepEqual(
    [s.blobs, s.complete, s.lagging, s.failed, s.pending, s.lagBytes, s.allComplete, s.truncated],
    [6, 3, 1, 1, 1, 600, false, true],
  );
  assert.deepEqual(s.keys, { failed: ['f'], lagging: ['l'], complete: ['c0', 'c1'], pending: ['p'] });
  const all = new HourTally('2026113009', 5);
  all.add(row('x', { hourComplete: true }));
  assert.deepEqual([all.summary().allComplete, all.summary().truncated], [true, false]);
});
