import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { names } from '../../common/names';
import { blobKey } from '../../domain/blob-ref';
import type { BlobState } from '../../domain/blob-state';
import { blobText, simulateBlobs } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { assertSameSummaries, dedupById, eventSummaries, expectedSummaries } from './support';

/**
 * No event is lost between a run's last look and its completion. A run lists the blocks (its last look),
 * parses, emits, commits on the entity and completes. For every episode boundary k of a run, a new block
 * is committed and its event delivered right after the run's k-th episode; the blob must end fully read
 * from events alone (no sweep), each record once.
 */
describe('interleaving: an event at any point of an active run is never lost', () => {
  let stack: OfflineStack;
  before(async () => {
    stack = await startOfflineStack({ host: { clock: 'real' } });
  });
  after(async () => stack.stop());

  const EPISODES = 11;
  for (let k = 1; k <= EPISODES; k++) {
    test(`new block after episode ${k} of the run`, async () => {
      const start = new Date(Date.UTC(2026, 10, 30, 4, 0) + k * 3_600_000);
      const blob = [
        ...simulateBlobs({
          nsgs: 1,
          vnets: 0,
          hours: 1,
          flowsPerMinute: 3,
          seed: 100 + k,
          start,
          minutesPerHour: 2,
        }),
      ][0]!;
      const ref = { account: stack.account, container: NSG_CONTAINER, name: blob.name };
      const key = blobKey(ref);
      const before = stack.eventHubs.events(LOCAL_HUB).length;
      const writer = stack.writer.forContainer(NSG_CONTAINER);
      let episodes = 0;
      let second: Promise<void> | undefined;
      const stop = stack.host.durable.onEpisode((r) => {
        if (r.instanceId !== key || second) return;
        episodes++;
        if (episodes === k) {
          second = (async () => {
            const commit = await writer.appendRecord(blob.name, blob.records[1]!);
            await stack.host.sendEventGridEvent(
              names.blobCreated,
              blobCreatedEvent(stack.account, NSG_CONTAINER, blob.name, commit),
            );
          })();
        }
      });
      const commit = await writer.appendRecord(blob.name, blob.records[0]!);
      await stack.host.sendEventGridEvent(
        names.blobCreated,
        blobCreatedEvent(stack.account, NSG_CONTAINER, blob.name, commit),
      );
      await stack.host.waitForIdle({ timeoutMs: 60_000 });
      if (!second) {
        // The run had fewer than k episodes: deliver the second block after it.
        const c = await writer.appendRecord(blob.name, blob.records[1]!);
        second = stack.host.sendEventGridEvent(
          names.blobCreated,
          blobCreatedEvent(stack.account, NSG_CONTAINER, blob.name, c),
        );
      }
      await second;
      await stack.host.waitForIdle({ timeoutMs: 60_000 });
      stop();
      const e = stack.host.durable.readEntityState(names.blobStateEntity, key);
      const state = JSON.parse(e.stateJson ?? 'null') as BlobState;
      assert.equal(state.cursor.recordOrdinal, 2, 'both records read from events alone');
      assert.equal(state.lastError, null);
      const events = stack.eventHubs.events(LOCAL_HUB).slice(before);
      const expected = expectedSummaries(blob.name, blobText({ ...blob, records: blob.records.slice(0, 2) }));
      assert.equal(assertSameSummaries(dedupById(events), expected), undefined);
      assert.equal(eventSummaries(events).length, expected.length, 'no block read twice');
    });
  }
});
