// Names that climb out of the served container are refused at every entry (issue 10, item 1).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { appServices } from '../../app/services';
import { names } from '../../common/names';
import { AzureStyleBlobWriter, blobCreatedEvent } from '../../local/azure-writer';
import { LOCAL_HUB, NSG_CONTAINER, type OfflineStack, startOfflineStack } from '../../local/offline-stack';
import { simulatedNsgBlob } from './support';

let stack: OfflineStack;
before(async () => {
  stack = await startOfflineStack({ host: { clock: 'real' } });
});
after(async () => stack.stop());

test('traversal names through the rerun endpoint and Event Grid reach nothing outside the served containers', async () => {
  // A flow-log-shaped blob in a container the app does not serve.
  const secret = stack.azurite.blobServiceClient().getContainerClient('secret-container');
  await secret.createIfNotExists();
  const b = simulatedNsgBlob(501, 2, 8);
  const writer = new AzureStyleBlobWriter(secret);
  let info = { contentLength: 0, eTag: '', url: '', blocks: 0 };
  for (const r of b.records) info = await writer.appendRecord(b.name, r);
  const climb = `resourceId=/x/../../../secret-container/${b.name}`;
  const attempts = [climb, climb.replace(/\.\./g, '%2e%2e'), climb.replace(/\//g, '\\')];

  for (const name of attempts) {
    const r = await stack.host.http({
      method: 'POST',
      url: '/api/blobs/rerun',
      body: JSON.stringify({ account: stack.account, container: NSG_CONTAINER, name, from: 'start' }),
    });
    assert.equal(r.status, 400, name);
    assert.match(String(r.body), /blob name|flow-log/);
    // Event Grid: the same names in the subject (and the URL).
    const event = blobCreatedEvent(stack.account, NSG_CONTAINER, name, info);
    await stack.host.sendEventGridEvent(names.blobCreated, event);
  }
  await stack.host.waitForIdle({ timeoutMs: 30_000 });
  assert.equal(stack.eventHubs.events(LOCAL_HUB).length, 0, 'nothing of the secret blob reached the hub');
  assert.deepEqual(stack.host.durable.listInstances({}), [], 'nothing was started');
  assert.ok(appServices().counters.get('events.ignored') >= attempts.length);
  // And if a name got past every entry, the blob reader refuses it where the client is made.
  await assert.rejects(
    appServices().blobs.read({ account: stack.account, container: NSG_CONTAINER, name: climb }, 0, 10),
    /has a "\.\." path segment/,
  );
});
