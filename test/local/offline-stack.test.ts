import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../local/functions-host';
import { appServices } from '../../app/services';
import { startOfflineStack } from '../../local/offline-stack';

test("a stack's settings end with it: the next stack of the process gets the defaults", async () => {
  const before = process.env['FLOWLOG_STUCK_RUN_MINUTES'];
  const first = await startOfflineStack({ settings: { FLOWLOG_STUCK_RUN_MINUTES: '0.01' } });
  assert.equal(appServices().config.stuckRunMs, 600);
  await first.stop();
  assert.equal(process.env['FLOWLOG_STUCK_RUN_MINUTES'], before);
  const second = await startOfflineStack();
  try {
    assert.equal(appServices().config.stuckRunMs, 30 * 60_000);
  } finally {
    await second.stop();
  }
});
