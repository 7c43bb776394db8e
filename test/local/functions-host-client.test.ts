import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as df from 'durable-functions';
import type { FunctionsHost } from '../../local/functions-host';
import { startSampleHost } from './sample-app/harness';
import type { FanOutOutput } from './sample-app/names';

describe('functions host: durable client over HTTP', () => {
  let host: FunctionsHost;
  let client: df.DurableClient;
  before(async () => {
    host = await startSampleHost({ overridableExistingInstanceStates: 'NonRunningStates' });
    client = host.durableClient();
  });
  after(() => host.stop());

  it('starts through the HTTP starter over real HTTP and answers the check-status links', async () => {
    const response = await fetch(`${host.origin}/api/orchestrators/FanOut/http-1`, {
      method: 'POST',
      body: JSON.stringify({ numbers: [3, 4], counterKey: 'http' }),
    });
    assert.equal(response.status, 202);
    const links = (await response.json()) as Record<string, string>;
    assert.equal(links['id'], 'http-1');
    const statusUrl = links['statusQueryGetUri'] ?? '';
    assert.ok(
      statusUrl.startsWith(`${host.origin}/runtime/webhooks/durabletask/instances/http-1?`),
      statusUrl,
    );
    assert.equal(response.headers.get('location'), statusUrl);
    await host.waitForIdle({ fastForward: true });
    const done = await fetch(statusUrl);
    assert.equal(done.status, 200);
    const body = (await done.json()) as { runtimeStatus: string; output: FanOutOutput };
    assert.equal(body.runtimeStatus, 'Completed');
    assert.equal(body.output.sum, 25);
  });

  it('routes programmatic HTTP requests and reports function failures as 500', async () => {
    const started = await host.http({
      method: 'POST',
      url: '/api/orchestrators/Poller/http-poller',
      body: { iteration: 1, stopAfter: 1, intervalSeconds: 1 },
    });
    assert.equal(started.status, 202);
    assert.equal((started.json() as { id: string }).id, 'http-poller');
    await host.waitForIdle();
    assert.equal(host.durable.getStatus('http-poller')?.runtimeStatus, 'Completed');
    assert.equal(
      (await host.http({ method: 'GET', url: '/api/orchestrators/Poller' })).status,
      404,
      'POST only',
    );
    assert.equal((await host.http({ url: '/api/nowhere' })).status, 404);
    const failed = await host.http({ method: 'POST', url: '/api/orchestrators/NoSuchOrchestrator' });
    assert.equal(failed.status, 500, 'startNew of an unknown orchestrator rejects inside the starter');
    assert.ok(
      host.logs.some((l) => l.level === 'error' && l.message.includes("Executed 'HttpStart' (Failed)")),
    );
  });

  it('runs an Event Grid trigger that signals an entity and starts an orchestration', async () => {
    const event = {
      id: 'e1',
      eventType: 'Microsoft.Storage.BlobCreated',
      subject: '/blobServices/default/containers/logs/blobs/a.json',
      eventTime: new Date().toISOString(),
      dataVersion: '',
      data: { url: 'https://acct.blob.core.windows.net/logs/a.json', contentLength: 5 },
    };
    await host.sendEventGridEvent('BlobCreated', event);
    await host.waitForIdle({ fastForward: true });
    const events = await client.readEntityState<number>(new df.EntityId('Counter', 'events'));
    assert.deepEqual({ exists: events.entityExists, state: events.entityState }, { exists: true, state: 1 });
    const started = host.durable.listInstances({ instanceIdPrefix: 'blob-' });
    const [blobRun] = started;
    assert.equal(started.length, 1);
    assert.ok(blobRun);
    assert.equal(blobRun.runtimeStatus, 'Completed');
    assert.equal((blobRun.output as FanOutOutput).sum, 1 + 4 + 25);
  });

  it('refuses startNew on a running instance under NonRunningStates', async () => {
    const id = await client.startNew('Approval', { instanceId: 'approval-1', input: 60 });
    await host.waitForIdle();
    assert.equal((await client.getStatus(id)).runtimeStatus, 'Running');
    await assert.rejects(
      client.startNew('Approval', { instanceId: id, input: 60 }),
      /500.*already exists.*OrchestrationAlreadyExistsException/,
    );
    await client.raiseEvent(id, 'approve', 'bob');
    await host.waitForIdle();
    const status = await client.getStatus(id);
    assert.equal(status.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, { approved: true, by: 'bob' });
    await client.startNew('Approval', { instanceId: id, input: 60 });
    await host.waitForIdle();
    assert.equal(
      (await client.getStatus(id)).runtimeStatus,
      'Running',
      'a completed instance may be replaced',
    );
    await client.terminate(id, 'test over');
    assert.equal((await client.getStatus(id)).runtimeStatus, 'Terminated');
  });

  it('answers getStatus with input and output, and getStatusBy with filters', async () => {
    const id = await client.startNew('Poller', { input: { iteration: 0, stopAfter: 1, intervalSeconds: 5 } });
    await host.waitForIdle({ fastForward: true });
    const status = await client.getStatus(id);
    assert.equal(status.name, 'Poller');
    assert.deepEqual(status.input, { iteration: 1, stopAfter: 1, intervalSeconds: 5 });
    assert.deepEqual(status.output, { iterations: 1 });
    const completed = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Completed] });
    assert.ok(completed.some((s) => s.instanceId === id));
    assert.ok(completed.every((s) => s.runtimeStatus === 'Completed'));
    await assert.rejects(client.getStatus('no-such-instance'), /404/);
  });

  it('raises events, terminates and purges through the client', async () => {
    const id = await client.startNew('Approval', { input: 60 });
    await host.waitForIdle();
    await client.terminate(id, 'operator said so');
    const status = await client.getStatus(id);
    assert.equal(status.runtimeStatus, 'Terminated');
    assert.equal(status.output, 'operator said so');
    await assert.rejects(client.raiseEvent('no-such-instance', 'approve', 1), /No instance/);
    const purged = await client.purgeInstanceHistory(id);
    assert.equal(purged.instancesDeleted, 1);
    assert.equal(host.durable.getStatus(id), undefined);
    const none = await client.purgeInstanceHistory(id);
    assert.equal(none.instancesDeleted, 0);
    const other = await client.startNew('Approval', { input: 60 });
    await host.waitForIdle();
    await client.terminate(other, 'bulk');
    const bulk = await client.purgeInstanceHistoryBy({
      createdTimeFrom: new Date(0),
      runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated],
    });
    assert.ok(bulk.instancesDeleted >= 1);
    assert.deepEqual(host.durable.listInstances({ runtimeStatus: ['Terminated'] }), []);
  });

  it('signals entities and reads their state, 404 when absent', async () => {
    const counter = new df.EntityId('Counter', 'client');
    await client.signalEntity(counter, 'add', 5);
    await client.signalEntity(counter, 'addAndMirror', 2);
    await host.waitForIdle();
    const state = await client.readEntityState<number>(counter);
    assert.equal(state.entityExists, true);
    assert.equal(state.entityState, 7);
    const mirror = await client.readEntityState<number>(new df.EntityId('Counter', 'client-mirror'));
    assert.equal(mirror.entityState, 2, 'signalled by the entity itself');
    await client.signalEntity(counter, 'delete');
    await host.waitForIdle();
    assert.equal((await client.readEntityState(counter)).entityExists, false);
    assert.equal((await client.readEntityState(new df.EntityId('Counter', 'never'))).entityExists, false);
  });

  it('serves the management webhooks', async () => {
    const id = await client.startNew('Approval', { input: 60 });
    await host.waitForIdle();
    const base = `${host.origin}/runtime/webhooks/durabletask/instances/${id}`;
    assert.equal((await fetch(base)).status, 401, 'the webhook API needs the system key');
    const code = 'code=local-system-key';
    assert.equal((await fetch(`${base}?${code}`)).status, 202, 'running');
    const raised = await fetch(`${base}/raiseEvent/approve?${code}`, {
      method: 'POST',
      body: JSON.stringify('carol'),
    });
    assert.equal(raised.status, 202);
    await host.waitForIdle();
    const done = await fetch(`${base}?showHistory=true&${code}`);
    assert.equal(done.status, 200);
    const body = (await done.json()) as { output: unknown; history: unknown[] };
    assert.deepEqual(body.output, { approved: true, by: 'carol' });
    assert.ok(body.history.length > 0);
    assert.equal((await fetch(`${base}/terminate?reason=late&${code}`, { method: 'POST' })).status, 410);
    assert.equal(
      (await fetch(`${host.origin}/runtime/webhooks/durabletask/instances/nope?${code}`)).status,
      404,
    );
  });

  it('runs a timer trigger that starts a singleton', async () => {
    await host.invokeTimer('Sweep');
    await host.waitForIdle();
    assert.equal(host.durable.getStatus('poller-singleton')?.runtimeStatus, 'Running');
    await host.invokeTimer('Sweep');
    await host.waitForIdle({ fastForward: true });
    const status = host.durable.getStatus('poller-singleton');
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, { iterations: 2 });
  });
});
