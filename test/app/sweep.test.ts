import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entityInstanceId } from '../../app/runs';
import { appServices } from '../../app/services';
import { DEEP_SWEEP_HOURS, housekeeping, RETENTION_HOURS } from '../../app/sweep';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { blobText, simulateBlobs } from '../../domain/simulate/simulate';
import { LOCAL_HUB, NSG_CONTAINER, startOfflineStack, VNET_CONTAINER } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, expectedSummaries } from './support';

test('sweep: blobs of this and the previous hour whose events were all lost are found and read', async () => {
  const stack = await startOfflineStack({ host: { clock: 'real' } });
  try {
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const oldHour = hour - (DEEP_SWEEP_HOURS + 3) * 3_600_000;
    const previous = [
      ...simulateBlobs({
        nsgs: 1,
        vnets: 0,
        hours: 1,
        flowsPerMinute: 3,
        seed: 71,
        start: new Date(hour - 3_600_000),
        minutesPerHour: 3,
      }),
    ];
    const current = [
      ...simulateBlobs({
        nsgs: 0,
        vnets: 1,
        hours: 1,
        flowsPerMinute: 3,
        seed: 72,
        start: new Date(hour),
        minutesPerHour: 2,
      }),
    ];
    const old = [
      ...simulateBlobs({
        nsgs: 1,
        vnets: 0,
        hours: 1,
        flowsPerMinute: 3,
        seed: 73,
        // Beyond the deep sweep's look-back too: the first sweep of each hour (minutes 0–1 of the wall
        // clock this test runs on) looks back DEEP_SWEEP_HOURS, and would read a blob of 3 hours ago.
        start: new Date(oldHour),
        minutesPerHour: 1,
      }),
    ];
    const all = [...previous, ...current, ...old];
    for (const b of all) {
      const container = b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER;
      for (const r of b.records) await stack.writer.forContainer(container).appendRecord(b.name, r); // no events at all
    }
    await stack.host.invokeTimer(names.sweep);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const expected = [...previous, ...current].flatMap((b) => expectedSummaries(b.name, blobText(b)));
    assert.equal(assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), expected), undefined);
    // Hours older than the deep sweep's look-back are never swept (the replay endpoint covers them).
    const oldKey = blobKey({ account: stack.account, container: NSG_CONTAINER, name: old[0]!.name });
    assert.equal(stack.host.durable.readEntityState(names.blobStateEntity, oldKey).exists, false);
    // A second sweep finds nothing behind.
    const runsBefore = stack.host.durable.counters.orchestrationsStarted;
    await stack.host.invokeTimer(names.sweep);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    assert.equal(stack.host.durable.counters.orchestrationsStarted, runsBefore);
    const key = blobKey({ account: stack.account, container: VNET_CONTAINER, name: current[0]!.name });
    const state = JSON.parse(
      stack.host.durable.readEntityState(names.blobStateEntity, key).stateJson ?? 'null',
    ) as BlobState;
    assert.equal(state.cursor.recordOrdinal, 2);

    // The replay endpoint reruns older hours on request.
    const r = await stack.host.http({
      method: 'POST',
      url: '/api/replay',
      body: JSON.stringify({
        from: new Date(oldHour).toISOString(),
        to: new Date(oldHour).toISOString(),
      }),
    });
    assert.equal(r.status, 202);
    const job = JSON.parse(String(r.body)) as { jobId: string; statusUrl: string };
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    const progress = JSON.parse(String((await stack.host.http({ method: 'GET', url: job.statusUrl })).body));
    assert.deepEqual(
      [progress.runtimeStatus, progress.matched, progress.total, progress.done, progress.outcomes],
      ['Completed', 1, 1, 1, { read: 1 }],
    );
    const withOld = [...expected, ...old.flatMap((b) => expectedSummaries(b.name, blobText(b)))];
    assert.equal(assertSameSummaries(dedupById(stack.eventHubs.events(LOCAL_HUB)), withOld), undefined);

    // Housekeeping forgets finished blobs older than the retention: entity, staging, ledger row, and the
    // finished instances of those hours (every event, poke and run left one).
    const instancesBefore = stack.host.durable.listInstances({}).length;
    assert.equal(instancesBefore, 4, 'two sweep pokes, the replay job and its one rerun');
    const later = new Date(hour + (RETENTION_HOURS + 2) * 3_600_000);
    const { removed, instancesPurged } = await housekeeping(stack.host.durableClient(), appServices(), later);
    await stack.host.waitForIdle({ timeoutMs: 60_000 });
    assert.ok(removed.includes(oldKey));
    assert.equal(removed.length, 3, 'every blob of those hours was read completely');
    assert.equal(instancesPurged, instancesBefore);
    assert.equal(stack.host.durable.readEntityState(names.blobStateEntity, oldKey).exists, false);
    assert.equal(
      stack.host.durable.entities.get(entityInstanceId(oldKey)),
      undefined,
      "the entity's record itself is gone, not only its state",
    );
    assert.deepEqual(stack.host.durable.listInstances({}), []);
    assert.equal(await appServices().ledger.get(oldKey), undefined);
  } finally {
    await stack.stop();
  }
});
