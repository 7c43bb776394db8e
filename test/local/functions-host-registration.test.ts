import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FunctionsHost, RegisteredFunction } from '../../local/functions-host';
import { startSampleHost } from './sample-app/harness';

function bindingsByType(fn: RegisteredFunction | undefined) {
  assert.ok(fn, 'function registered');
  return Object.values(fn.bindings).map((b) => {
    const { name: _name, ...rest } = b;
    return rest;
  });
}

describe('functions host: registration capture', () => {
  let host: FunctionsHost;
  before(async () => {
    host = await startSampleHost();
  });
  after(() => host.stop());

  const find = (name: string) => host.registrations().find((r) => r.name === name);

  it('captures every registration of the sample app', () => {
    const names = host
      .registrations()
      .map((r) => `${r.name}:${r.triggerType}`)
      .sort();
    assert.deepEqual(names, [
      'Approval:orchestrationTrigger',
      'BlobCreated:eventGridTrigger',
      'Counter:entityTrigger',
      'FanOut:orchestrationTrigger',
      'Flaky:activityTrigger',
      'Gate:orchestrationTrigger',
      'HttpStart:httpTrigger',
      'Mixed:orchestrationTrigger',
      'Parent:orchestrationTrigger',
      'Poller:orchestrationTrigger',
      'SlowSquare:activityTrigger',
      'Square:activityTrigger',
      'Sweep:timerTrigger',
      'Transfer:orchestrationTrigger',
    ]);
  });

  it('keeps the exact durable trigger metadata', () => {
    const deferred = { supportsDeferredBinding: 'false' };
    assert.deepEqual(bindingsByType(find('FanOut')), [
      { type: 'orchestrationTrigger', direction: 'in', properties: deferred },
    ]);
    assert.deepEqual(bindingsByType(find('Square')), [
      { type: 'activityTrigger', direction: 'in', properties: deferred },
    ]);
    assert.deepEqual(bindingsByType(find('Counter')), [
      { type: 'entityTrigger', direction: 'in', properties: deferred },
    ]);
  });

  it('keeps client triggers with their durableClient input and the http $return', () => {
    const deferred = { supportsDeferredBinding: 'false' };
    const durableClient = { type: 'durableClient', direction: 'in', properties: deferred };
    assert.deepEqual(bindingsByType(find('BlobCreated')), [
      { type: 'eventGridTrigger', direction: 'in', properties: deferred },
      durableClient,
    ]);
    assert.deepEqual(bindingsByType(find('Sweep')), [
      { type: 'timerTrigger', schedule: '0 */5 * * * *', direction: 'in', properties: deferred },
      durableClient,
    ]);
    const http = find('HttpStart');
    assert.deepEqual(bindingsByType(http), [
      {
        type: 'httpTrigger',
        route: 'orchestrators/{orchestratorName}/{instanceId?}',
        methods: ['POST'],
        authLevel: 'anonymous',
        direction: 'in',
        properties: deferred,
      },
      durableClient,
      { type: 'http', direction: 'out' },
    ]);
    assert.ok(http && '$return' in http.bindings, 'the http output is the $return binding');
  });

  it('invokes an activity through the worker path', async () => {
    assert.equal(await host.invoke('Square', 7), 49);
    assert.equal(await host.invoke('square', 3), 9, 'names are case-insensitive, as in the Functions host');
  });

  it('lets a second host in the same process load the same (cached) app', async () => {
    const second = await startSampleHost();
    try {
      assert.equal(second.registrations().length, host.registrations().length);
      assert.equal(await second.invoke('Square', 5), 25);
    } finally {
      await second.stop();
    }
  });
});
