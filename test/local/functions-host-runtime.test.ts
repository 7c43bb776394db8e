import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultInjector, seededRandom } from '../../local/functions-host';
import { startSampleHost } from './sample-app/harness';
import { slowSquareGauge } from './sample-app/slow-square';

describe('functions host: entities, faults, concurrency, lifecycle', () => {
  it('runs entity operations serially, in batches, with state kept as JSON text', async () => {
    const host = await startSampleHost({ maxEntityOperationBatchSize: 10 });
    try {
      for (let i = 0; i < 100; i++) host.durable.signalEntity('Counter', 'busy', 'add', '1');
      await host.waitForIdle();
      assert.deepEqual(host.durable.readEntityState('Counter', 'busy'), { exists: true, stateJson: '100' });
      const { entityOperations, entityBatches } = host.durable.counters;
      assert.equal(entityOperations, 100);
      assert.ok(entityBatches >= 10 && entityBatches < 100, `batched: ${entityBatches} batches`);
      assert.equal(host.durable.counters.entityOperationsByName['counter'], 100);
    } finally {
      await host.stop();
    }
  });

  it('serializes competing critical sections on the same entities (V4)', async () => {
    const host = await startSampleHost({ schemaVersion: 'V4' });
    try {
      host.durable.signalEntity('Counter', 'pool-a', 'add', '10');
      const ids = [1, 2, 3].map(() =>
        host.durable.startNew('Transfer', { input: { from: 'pool-a', to: 'pool-b', amount: 4 } }),
      );
      // A plain signal to a locked entity waits until the lock is released.
      host.durable.signalEntity('Counter', 'pool-b', 'add', '100');
      await host.waitForIdle();
      const moved = ids.map((id) => {
        const status = host.durable.getStatus(id);
        assert.equal(status?.runtimeStatus, 'Completed');
        return (status.output as { moved: number }).moved;
      });
      assert.deepEqual([...moved].sort(), [2, 4, 4]);
      assert.equal(host.durable.readEntityState('Counter', 'pool-a').stateJson, '0');
      assert.equal(host.durable.readEntityState('Counter', 'pool-b').stateJson, '110');
    } finally {
      await host.stop();
    }
  });

  it('keeps activity executions within maxConcurrentActivityFunctions', async () => {
    const host = await startSampleHost({ maxConcurrentActivityFunctions: 3 });
    try {
      slowSquareGauge.peak = 0;
      const numbers = Array.from({ length: 12 }, (_, i) => i);
      const id = host.durable.startNew('FanOut', {
        input: { numbers, counterKey: 'slow', activity: 'SlowSquare' },
      });
      await host.waitForIdle();
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Completed');
      assert.equal(slowSquareGauge.peak, 3);
      assert.equal(host.durable.counters.activityExecutionsByName['SlowSquare'], 12);
    } finally {
      await host.stop();
    }
  });

  it('injects faults by predicate and in a reproducible chaos mode', async () => {
    const injector = new FaultInjector();
    injector.failActivity(
      (call) => call.name === 'Square' && call.input === 2,
      1,
      new Error('two is unlucky'),
    );
    const call = (input: number) => ({
      name: 'Square',
      input,
      instanceId: 'i',
      taskScheduledId: 0,
      execution: 1,
    });
    assert.equal(injector.check(call(1)), undefined);
    assert.equal(injector.check(call(2))?.message, 'two is unlucky');
    assert.equal(injector.check(call(2)), undefined, 'only once');

    const pattern = (seed: number) => {
      const chaos = new FaultInjector();
      chaos.chaos({ probability: 0.5, seed, match: 'Square' });
      return Array.from({ length: 32 }, (_, i) => (chaos.check(call(i)) ? 'x' : '.')).join('');
    };
    assert.equal(pattern(7), pattern(7));
    assert.notEqual(pattern(7), pattern(8));
    assert.ok(seededRandom(1)() !== seededRandom(2)());

    const host = await startSampleHost();
    try {
      host.faults.chaos({ probability: 1, seed: 1, match: 'Flaky', error: 'chaos monkey' });
      const id = host.durable.startNew('FanOut', { input: { numbers: [1], counterKey: 'chaos' } });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Failed');
      assert.match(String(status.output), /chaos monkey/);
      assert.equal(host.faults.injected, 3, 'every attempt of the retried activity');
    } finally {
      await host.stop();
    }
  });

  it('reports history bytes per instance and per episode', async () => {
    const host = await startSampleHost();
    try {
      const sizes: number[] = [];
      host.durable.onEpisode((report) => sizes.push(report.historyBytes));
      const id = host.durable.startNew('FanOut', { input: { numbers: [1, 2, 3, 4], counterKey: 'bytes' } });
      await host.waitForIdle({ fastForward: true });
      const history = host.durable.history(id) ?? [];
      assert.equal(host.durable.historyBytes(id), Buffer.byteLength(JSON.stringify(history)));
      assert.deepEqual(
        [...sizes].sort((a, b) => a - b),
        sizes,
        'history only grows within an execution',
      );
      assert.equal(sizes[sizes.length - 1], host.durable.historyBytes(id));
    } finally {
      await host.stop();
    }
  });

  it('fires durable timers in wall time with the default real clock', async () => {
    const host = await startSampleHost({ clock: 'real' });
    try {
      const started = Date.now();
      const id = host.durable.startNew('Approval', { input: 0.2 });
      await host.waitForIdle({ timeoutMs: 5000 });
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { approved: false });
      assert.ok(Date.now() - started >= 190, 'waited for the timer');
    } finally {
      await host.stop();
    }
  });

  it('stops without leaving handles behind, even with timers pending', async () => {
    const census = () => {
      const counts = new Map<string, number>();
      for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
      return counts;
    };
    const before = census();
    const host = await startSampleHost({ clock: 'real' });
    host.durable.startNew('Approval', { input: 3600 });
    await host.waitForIdle({ timeoutMs: 200 }).catch(() => undefined);
    assert.equal(host.clock.pendingTimers().length, 1);
    await host.stop();
    await new Promise((resolve) => setImmediate(resolve));
    const leaked = [...census()].filter(([type, n]) => type !== 'Immediate' && n > (before.get(type) ?? 0));
    assert.deepEqual(leaked, []);
  });
});
