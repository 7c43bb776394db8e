// Read endpoints take a function key, write endpoints only the master key, the durable webhooks only the
// system key; no answer hands a key out (issue 10, items 2 and 4).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvocationContext } from '@azure/functions';
import { guarded, MAX_BODY_BYTES } from '../../app/http';
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

test('bodies over the limit are refused with 413; a 500 names nothing internal, only the invocation id', async () => {
  const big = { blob: 'x'.repeat(MAX_BODY_BYTES + 10) };
  const r = await stack.host.http({ method: 'POST', url: '/api/blobs/rerun', body: JSON.stringify(big) });
  assert.equal(r.status, 413);
  assert.match(r.text(), /at most 16384|larger than 16384/);
  const context = new InvocationContext({ functionName: 'getBlob', invocationId: 'inv-123' });
  const logged: unknown[] = [];
  context.error = (...args: unknown[]) => {
    logged.push(args);
  };
  const failed = await guarded(context, async () => {
    throw new Error('cannot reach https://flowlogs1.blob.core.windows.net/secret (AccountKey=abc)');
  });
  assert.equal(failed.status, 500);
  const body = JSON.stringify(failed.jsonBody);
  assert.doesNotMatch(body, /flowlogs1|secret|AccountKey/);
  assert.match(body, /inv-123/);
  assert.equal(logged.length, 1, 'the details go to the log');
});
