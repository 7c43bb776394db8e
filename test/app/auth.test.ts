// Read endpoints take a function key, write endpoints only the master key, the durable webhooks only the
// system key; no answer hands a key out (issue 10, item 2).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';

let stack: OfflineStack;
before(async () => {
  stack = await startOfflineStack({ host: { clock: 'real' } });
});
after(async () => stack.stop());

test('reads with a function key, writes with the master key only, webhooks with the system key', async () => {
  const { master, function: functionKey } = stack.host.keys;
  const call = (method: string, url: string, key: string | null, body?: unknown) =>
    // Over the network, as a client would: only the key the request carries counts.
    fetch(`${stack.host.origin}${url}`, {
      method,
      headers: key === null ? {} : { 'x-functions-key': key },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const rerun = {
    account: stack.account,
    container: NSG_CONTAINER,
    name: 'resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json',
  };
  assert.equal((await call('GET', '/api/blobs', null)).status, 401);
  assert.equal((await call('GET', '/api/blobs', 'wrong')).status, 401);
  assert.equal((await call('GET', '/api/blobs', functionKey)).status, 200);
  assert.equal((await call('GET', `/api/blobs?code=${functionKey}`, null)).status, 200);
  assert.equal((await call('GET', '/api/blobs', master)).status, 200);
  for (const [url, body] of [
    ['/api/blobs/rerun', rerun],
    ['/api/blobs/rerun-failed', undefined],
    ['/api/replay', { from: '2026-11-30T09:00:00Z' }],
  ] as const) {
    const refused = await call('POST', url, functionKey, body);
    assert.equal(refused.status, 401, `${url} with a function key`);
    assert.match(await refused.text(), /master \(admin\) key/);
    assert.equal((await call('POST', url, master, body)).status, 202, `${url} with the master key`);
  }
  assert.equal((await fetch(`${stack.host.origin}/runtime/webhooks/durabletask/instances`)).status, 401);
  await stack.host.waitForIdle({ timeoutMs: 30_000 });
});
