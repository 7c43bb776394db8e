import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FunctionsHost, ReplaySchemaName } from '../../local/functions-host';
import { describeEvent, executionIdOf, retryTrail, startSampleHost } from './sample-app/harness';
import type { FanOutOutput } from './sample-app/names';

const schemas: ReplaySchemaName[] = ['V1', 'V4'];

for (const schemaVersion of schemas) {
  describe(`functions host: orchestrations on replay schema ${schemaVersion}`, () => {
    let host: FunctionsHost;
    before(async () => {
      host = await startSampleHost({ schemaVersion });
    });
    after(() => host.stop());

    it('fans out with Task.all, retries an activity, calls and signals an entity', async () => {
      host.faults.failActivity('Flaky', 2, 'flaky dependency');
      const id = host.durable.startNew('FanOut', {
        input: { numbers: [1, 2, 3], counterKey: `sum-${schemaVersion}` },
      });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id, { showHistory: true });
      assert.equal(status?.runtimeStatus, 'Completed');
      const output = status.output as FanOutOutput;
      assert.deepEqual(output, { squares: [1, 4, 9], sum: 14, note: 'checked sum=14', total: 14 });
      assert.deepEqual(status.customStatus, { stage: 'done' });
      // Two failed attempts, each answered by a retry timer and a new TaskScheduled.
      assert.deepEqual(retryTrail(status.history ?? [], 'Flaky'), [
        'TaskScheduled(3)',
        'TaskFailed(3)',
        'TimerCreated(4)',
        'TimerFired(4)',
        'TaskScheduled(5)',
        'TaskFailed(5)',
        'TimerCreated(6)',
        'TimerFired(6)',
        'TaskScheduled(7)',
        'TaskCompleted(7)',
      ]);
      const sent = (status.history ?? []).filter((e) => e.EventType === 14);
      assert.deepEqual(
        sent.map((e) => [describeEvent(e), e['InstanceId']]),
        [
          ['EventSent(8)', `@counter@sum-${schemaVersion}`],
          ['EventSent(9)', '@counter@audit'],
        ],
      );
      // The extension's RequestMessage: `signal` only when true, MessageSorter labels at the end.
      const request = JSON.parse(String(sent[0]?.['Input'])) as Record<string, unknown>;
      assert.deepEqual(Object.keys(request), [
        'op',
        'input',
        'id',
        'parent',
        'parentExecution',
        'Timestamp',
        'Predecessor',
      ]);
      assert.equal(request['op'], 'add');
      assert.equal(request['input'], '14');
      assert.equal(request['parent'], id);
      const signal = JSON.parse(String(sent[1]?.['Input'])) as Record<string, unknown>;
      assert.equal(signal['signal'], true);
      assert.equal(host.durable.readEntityState('Counter', `sum-${schemaVersion}`).stateJson, '14');
      assert.equal(host.durable.readEntityState('Counter', 'audit').stateJson, '1');
    });

    it('retry delays follow the retry options on the host clock', async () => {
      host.faults.failActivity('Flaky', 1);
      const before = host.clock.now().getTime();
      const id = host.durable.startNew('FanOut', { input: { numbers: [2], counterKey: 'delay' } });
      await host.waitForIdle();
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Running', 'waiting on the 1 s retry timer');
      const timer = host.clock.nextTimer();
      assert.equal(timer?.fireAt.getTime(), before + 1000);
      host.clock.advance(1000);
      await host.waitForIdle();
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Completed');
    });

    it('fails the orchestration when an activity without retry fails', async () => {
      host.faults.failActivity('Square', 1, 'square exploded');
      const id = host.durable.startNew('FanOut', { input: { numbers: [1, 2], counterKey: 'never' } });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Failed');
      assert.match(String(status.output), /square exploded/);
      assert.equal(host.durable.readEntityState('Counter', 'never').exists, false);
    });

    it('fails the orchestration when retries are exhausted', async () => {
      host.faults.failActivity('Flaky', 3, 'still down');
      const executions = host.durable.counters.activityExecutionsByName['Flaky'] ?? 0;
      const id = host.durable.startNew('FanOut', { input: { numbers: [1], counterKey: 'exhausted' } });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Failed');
      assert.match(String(status.output), /still down/);
      assert.equal((host.durable.counters.activityExecutionsByName['Flaky'] ?? 0) - executions, 3);
    });

    it('runs sub-orchestrations', async () => {
      const id = host.durable.startNew('Parent', {
        instanceId: `parent-${schemaVersion}`,
        input: { numbers: [1, 2], counterKey: 'sub' },
      });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.equal(status.output, 1 + 4 + (4 + 9));
      assert.equal(host.durable.getStatus(`parent-${schemaVersion}-child`)?.runtimeStatus, 'Completed');
      // Without an id, DTFx names the child "<parent execution id>:<task id>".
      const history = host.durable.history(id) ?? [];
      const executionId = executionIdOf(history);
      const firstChild = history.find((e) => e.EventType === 7)?.['InstanceId'];
      assert.equal(firstChild, `${executionId}:0`);
      assert.equal(host.durable.getStatus(`${executionId}:0`)?.runtimeStatus, 'Completed');
    });

    it('completes on an external event raised before the timer fires', async () => {
      const id = host.durable.startNew('Approval', { input: 60 });
      await host.waitForIdle();
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Running');
      assert.equal(host.durable.raiseEvent(id, 'approve', 'alice'), 'accepted');
      await host.waitForIdle();
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { approved: true, by: 'alice' });
      assert.equal(host.clock.pendingTimers().length, 0, 'the cancelled timer is gone');
    });

    it('times out through a durable timer when no event comes', async () => {
      const id = host.durable.startNew('Approval', { input: 30 });
      await host.waitForIdle();
      host.clock.advance(29_000);
      await host.waitForIdle();
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Running');
      host.clock.advance(1_000);
      await host.waitForIdle();
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { approved: false });
    });

    it('restarts with continueAsNew and a fresh history', async () => {
      const reports: number[] = [];
      const id = `poller-${schemaVersion}`;
      host.durable.onEpisode((r) => {
        if (r.instanceId === id) reports.push(r.historyBytes);
      });
      host.durable.startNew('Poller', {
        instanceId: id,
        input: { iteration: 0, stopAfter: 3, intervalSeconds: 10 },
      });
      await host.waitForIdle({ fastForward: true });
      const status = host.durable.getStatus(id, { showHistory: true });
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, { iterations: 3 });
      assert.deepEqual(status.input, { iteration: 3, stopAfter: 3, intervalSeconds: 10 });
      assert.deepEqual(
        (status.history ?? []).map(describeEvent),
        ['OrchestratorStarted', 'ExecutionStarted', 'ExecutionCompleted(0)', 'OrchestratorCompleted'],
        'the last execution only',
      );
      assert.equal(host.durable.historyBytes(id), Buffer.byteLength(JSON.stringify(status.history)));
      assert.ok(reports.length >= 7, 'two episodes per iteration plus the last one');
    });

    it(`critical sections ${schemaVersion === 'V4' ? 'move value under lock' : 'are refused below V4'}`, async () => {
      host.durable.signalEntity('Counter', `from-${schemaVersion}`, 'add', '10');
      await host.waitForIdle();
      const id = host.durable.startNew('Transfer', {
        input: { from: `from-${schemaVersion}`, to: `to-${schemaVersion}`, amount: 4 },
      });
      await host.waitForIdle();
      const status = host.durable.getStatus(id);
      if (schemaVersion === 'V4') {
        assert.equal(status?.runtimeStatus, 'Completed');
        assert.deepEqual(status.output, { moved: 4, wasLocked: true });
        assert.equal(host.durable.readEntityState('Counter', `from-${schemaVersion}`).stateJson, '6');
        assert.equal(host.durable.readEntityState('Counter', `to-${schemaVersion}`).stateJson, '4');
        const unlocked = host.durable.entities.all().filter((e) => e.lockedBy !== undefined);
        assert.deepEqual(unlocked, [], 'every lock was released');
      } else {
        assert.equal(status?.runtimeStatus, 'Failed');
        assert.match(
          String(status.output),
          /lock requires a Durable Functions extension that supports OOProc schema V4/,
        );
      }
    });
  });
}
