import assert from 'node:assert/strict';
import { test } from 'node:test';
import { names } from '../../common/names';
import { simulateBlobs } from '../../domain/simulate/simulate';
import { blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, startOfflineStack } from '../../local/offline-stack';
import { eventSummaries } from './support';

test('the app enriches what it emits (installed GeoIP/ASN data, IANA names)', async () => {
  const stack = await startOfflineStack({ enrich: true, host: { clock: 'real' } });
  try {
    const b = [
      ...simulateBlobs({
        nsgs: 1,
        vnets: 0,
        hours: 1,
        flowsPerMinute: 30,
        seed: 5,
        start: new Date('2026-11-30T07:00:00Z'),
        minutesPerHour: 2,
      }),
    ][0]!;
    for (const r of b.records) {
      const commit = await stack.writer.forContainer(NSG_CONTAINER).appendRecord(b.name, r);
      await stack.host.sendEventGridEvent(
        names.blobCreated,
        blobCreatedEvent(stack.account, NSG_CONTAINER, b.name, commit),
      );
    }
    await stack.host.waitForIdle({ timeoutMs: 120_000 });
    const rows = eventSummaries(stack.eventHubs.events(LOCAL_HUB));
    const google = rows.find((s) => s.dstIp === '8.8.8.8');
    assert.ok(google, 'a flow to 8.8.8.8');
    assert.deepEqual([google.dstCountry, google.dstAsn, google.l7Protocol], ['US', 15169, 'domain']);
    assert.equal(google.srcCountry, null, 'private sources are never geo-looked-up');
    assert.ok(rows.every((s) => s.flowType !== null && s.l7Protocol !== null));
  } finally {
    await stack.stop();
  }
});
