import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplaySchemaName } from '../../local/functions-host';
import { startSampleHost } from './sample-app/harness';

// Event ids that drift from the SDK's task numbering do not throw: the orchestration just never
// finishes. Random faults on every retried activity vary which events share an episode, so each run
// checks that the numbering holds whatever the batching.
for (const schemaVersion of ['V1', 'V4'] as ReplaySchemaName[]) {
  describe(`functions host: event ids under injected faults (${schemaVersion})`, () => {
    it('numbers a retry attempt before the tasks of a resumed orchestrator in the same episode', async () => {
      const host = await startSampleHost({ schemaVersion });
      try {
        host.faults.failActivity('Flaky', 1);
        const id = host.durable.startNew('Gate');
        await host.waitForIdle();
        assert.equal(host.clock.pendingTimers().length, 1, 'waiting on the retry timer');
        // The external event arrives first, then the retry timer fires: both in one episode.
        const release = host.durable.holdEpisodes();
        host.durable.raiseEvent(id, 'go', true);
        host.clock.advance(1000);
        release();
        await host.waitForIdle();
        const status = host.durable.getStatus(id);
        assert.equal(status?.runtimeStatus, 'Completed');
        assert.deepEqual(status.output, { after: 25, late: 'checked gate' });
      } finally {
        await host.stop();
      }
    });

    for (const seed of [1, 2, 3, 4, 5]) {
      it(`completes the mixed orchestration with chaos seed ${seed}`, async () => {
        const host = await startSampleHost({ schemaVersion, maxConcurrentActivityFunctions: 3 });
        try {
          host.faults.chaos({ probability: 0.4, seed, match: 'Flaky', error: `chaos ${seed}` });
          const id = host.durable.startNew('Mixed', {
            input: { width: 4, raceTimeoutSeconds: seed % 2 === 0 ? 0.05 : 3600 },
          });
          await host.waitForIdle({ fastForward: true });
          const status = host.durable.getStatus(id);
          assert.equal(status?.runtimeStatus, 'Completed', JSON.stringify(status));
          const output = status.output as { wonBy: string; results: number; subSum: number };
          assert.equal(output.results, 12);
          assert.equal(output.subSum, 5);
          assert.equal(host.durable.readEntityState('Counter', 'mixed-signals').stateJson, '2');
          assert.ok(host.faults.injected > 0, 'faults were injected');
        } finally {
          await host.stop();
        }
      });
    }
  });
}
