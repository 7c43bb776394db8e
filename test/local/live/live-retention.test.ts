import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// The session module installs the Functions host shim before the app loads.
import { LiveSession } from '../../../local/live/session';
import { SimulatedTraffic } from '../../../local/live/traffic';
import { NSG_CONTAINER, VNET_CONTAINER } from '../../../local/offline-stack';

describe('a long run stays bounded', () => {
  test('finished hours leave the view; storage keeps each NIC current and previous hour only', async () => {
    const traffic = new SimulatedTraffic({
      nsgs: 1,
      vnets: 1,
      seed: 2,
      flowsPerMinute: 4,
      minutesPerHour: 2,
      start: new Date('2026-11-30T01:00:00Z'),
    });
    const session = await LiveSession.start({
      traffic,
      intervalMs: 100,
      enrich: false,
      durationMs: 0,
      lingerMs: 200,
      frameEveryMs: 100,
    });
    const stack = session.offlineStack;
    const deadline = Date.now() + 20_000;
    // Wait until a few finished hours were retired (each NIC writes a 2-block hour every 0.2 s).
    for (;;) {
      const totals = session.model.view(Date.now()).blobTotals;
      if (totals.written - totals.shown >= 5) break;
      assert.ok(Date.now() < deadline, 'finished blobs leave the view');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Storage and orchestrations hold what is shown plus each NIC's last retired hour (2), plus at most one
    // new hour per NIC started while looking (2); the rest was deleted.
    const shown = session.model.view(Date.now()).blobTotals;
    const names: string[] = [];
    for (const container of [NSG_CONTAINER, VNET_CONTAINER])
      for await (const b of stack.azurite.blobServiceClient().getContainerClient(container).listBlobsFlat())
        names.push(b.name);
    const instances = stack.host.durable.listInstances().length;
    const result = await session.stop();
    assert.equal(result.caughtUp, true);
    assert.ok(shown.written - shown.shown >= 5);
    assert.ok(
      names.length <= shown.shown + 4,
      `${names.length} blobs stored, ${shown.shown} shown:\n${names.join('\n')}`,
    );
    assert.ok(shown.written - names.length >= 3, `${shown.written} written, ${names.length} stored`);
    // Each blob has an instance per event (2 blocks per hour here), plus now and then a sweep poke.
    assert.ok(instances <= (shown.shown + 4) * 3, `${instances} instances, ${shown.shown} blobs shown`);
  });
});
