// Bulk endpoints hand their work to a job: the answer is immediate, the job reruns at most
// FLOWLOG_BULK_CONCURRENCY blobs at once and FLOWLOG_BULK_MAX_BLOBS in all (issue 10, item 3).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { blobKeyOfInstance } from '../../app/runs';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import { simulateBlobs } from '../../domain/simulate/simulate';
import {
  NSG_CONTAINER,
  type OfflineStack,
  startOfflineStack,
  VNET_CONTAINER,
} from '../../local/offline-stack';

let stack: OfflineStack;
before(async () => {
  stack = await startOfflineStack({
    host: { clock: 'real' },
    settings: { FLOWLOG_BULK_CONCURRENCY: '2', FLOWLOG_BULK_MAX_BLOBS: '17' },
  });
});
after(async () => stack.stop());

test('replay over a range: 202 at once, then a job with bounded concurrency, a cap, and its progress', async () => {
  const blobs = [
    ...simulateBlobs({
      nsgs: 10,
      vnets: 10,
      hours: 1,
      flowsPerMinute: 2,
      seed: 601,
      start: new Date('2026-11-29T03:00:00Z'),
      minutesPerHour: 1,
    }),
  ];
  for (const b of blobs)
    await stack.writer
      .forContainer(b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER)
      .appendRecord(b.name, b.records[0]!);
  let running = 0;
  let peak = 0;
  const off = stack.host.durable.onEpisode(() => {
    running = stack.host.durable
      .listInstances({ runtimeStatus: ['Running', 'Pending'] })
      .filter((i) => blobKeyOfInstance(i.instanceId) !== undefined).length;
    peak = Math.max(peak, running);
  });
  const r = await stack.host.http({
    method: 'POST',
    url: '/api/replay',
    body: JSON.stringify({ from: '2026-11-29T03:00:00Z', to: '2026-11-29T03:00:00Z' }),
  });
  assert.equal(r.status, 202);
  const job = JSON.parse(String(r.body)) as { jobId: string; statusUrl: string };
  assert.equal(r.headers['location'], job.statusUrl);
  await stack.host.waitForIdle({ timeoutMs: 120_000 });
  off();
  const progress = JSON.parse(String((await stack.host.http({ method: 'GET', url: job.statusUrl })).body));
  assert.deepEqual(
    [
      progress.runtimeStatus,
      progress.matched,
      progress.total,
      progress.leftOut,
      progress.done,
      progress.outcomes,
    ],
    ['Completed', 20, 17, 3, 17, { read: 17 }],
  );
  assert.ok(peak <= 2, `at most 2 reruns at once (saw ${peak})`);
  assert.ok(peak >= 1);
  // The blobs past the cap were not touched; the others were read.
  const read = blobs.filter((b) => {
    const key = blobKey({
      account: stack.account,
      container: b.logType === 'nsg' ? NSG_CONTAINER : VNET_CONTAINER,
      name: b.name,
    });
    return stack.host.durable.readEntityState(names.blobStateEntity, key).exists;
  });
  assert.equal(read.length, 17);
  // 9 batches: one continueAsNew after 8 (history stays short); the job ran as one instance id.
  assert.equal(stack.host.durable.listInstances({ instanceIdPrefix: 'job-' }).length, 1);
  const unknown = await stack.host.http({ method: 'GET', url: '/api/jobs/job-nosuch' });
  assert.equal(unknown.status, 404);
});
