/**
 * Where the local host must be as strict as Azure: the extension's instance-id and entity-key rules
 * (DurableClient.StartNewAsync / SignalEntityAsyncInternal, HttpApiHandler of
 * Azure/azure-functions-durable-extension a7c6d69), check-then-insert starts that race
 * (azure-reference.md §10, option `startRace`) and at-least-once activity execution
 * (`faults.duplicateActivity`), which DTFx answers by ignoring a second completion of a task.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as df from 'durable-functions';
import {
  FunctionsHost,
  type FunctionsHostOptions,
  type HistoryEvent,
  InstanceExistsError,
  InvalidInstanceIdError,
} from '../../local/functions-host';
import { describeEvent } from './sample-app/harness';
import { type MissingKind, strictNames } from './sample-app/strictness/orchestrations';

const appEntry = path.join(__dirname, 'sample-app', 'strictness', 'index.ts');

async function startHost(options: FunctionsHostOptions = {}): Promise<FunctionsHost> {
  const host = await FunctionsHost.start({ clock: 'manual', ...options });
  await host.loadApp(appEntry);
  return host;
}

/** A webhook URL with the system key, as the extension's own URLs carry it. */
const webhook = (host: FunctionsHost, route: string) =>
  `${host.origin}/runtime/webhooks/durabletask/${route}${route.includes('?') ? '&' : '?'}code=local-system-key`;

function executionStarts(history: readonly HistoryEvent[] | undefined): unknown[] {
  return (history ?? []).filter((e) => e.EventType === 0).map((e) => e['Input']);
}

describe('functions host: instance ids as the Durable extension checks them', () => {
  let host: FunctionsHost;
  before(async () => {
    host = await startHost();
  });
  after(() => host.stop());

  it('refuses ids with / \\ # ? or control characters, a leading @, or over 100 characters', () => {
    const bad: Array<[string, RegExp]> = [
      ['a/b', /must not contain \/, \\, #, \?, or control characters/],
      ['a\\b', /must not contain/],
      ['a#b', /must not contain/],
      ['a?b', /must not contain/],
      ['a\u0000b', /must not contain/],
      ['tab\tid', /must not contain/],
      ['c1\u0085', /must not contain/],
      ['@counter@key', /must not start with @/],
      ['x'.repeat(101), /Instance ID lengths must not exceed 100 characters/],
    ];
    const started = host.durable.counters.orchestrationsStarted;
    for (const [id, message] of bad) {
      assert.throws(
        () => host.durable.startNew('SayHelloInline', { instanceId: id }),
        (err: unknown) => err instanceof InvalidInstanceIdError && message.test(err.message),
        JSON.stringify(id),
      );
      assert.equal(host.durable.getStatus(id), undefined);
    }
    assert.equal(host.durable.counters.orchestrationsStarted, started, 'nothing started');
  });

  it('accepts 100 characters and other punctuation; an empty id gets a new one', async () => {
    const ids = ['x'.repeat(100), 'blob-1|2:3.4_5 (6)', 'über-ünïcode'];
    for (const id of ids) assert.equal(host.durable.startNew('SayHelloInline', { instanceId: id }), id);
    const generated = host.durable.startNew('SayHelloInline', { instanceId: '', input: 'empty' });
    assert.match(generated, /^[0-9a-f]{32}$/);
    await host.waitForIdle();
    for (const id of [...ids, generated])
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Completed');
  });

  it('answers a bad id over HTTP with 400 and the extension error body', async () => {
    for (const id of ['a%23b', 'a%3Fb', '%40entity', 'x'.repeat(101)]) {
      const response = await fetch(webhook(host, `orchestrators/SayHelloInline/${id}`), { method: 'POST' });
      assert.equal(response.status, 400, id);
      const body = (await response.json()) as Record<string, string>;
      assert.equal(body['Message'], 'One or more of the arguments submitted is incorrect');
      assert.equal(body['ExceptionType'], 'System.ArgumentException');
      assert.match(String(body['ExceptionMessage']), /instance ids must not|must not exceed/i);
    }
    const unknown = await fetch(webhook(host, 'orchestrators/NoSuchOrchestrator'), { method: 'POST' });
    assert.equal(unknown.status, 400);
    const nested = await fetch(webhook(host, 'orchestrators/SayHelloInline/a/b'), { method: 'POST' });
    assert.equal(nested.status, 404, 'orchestrators/{functionName}/{instanceId?} matches no deeper path');
  });

  it('df.getClient does not encode ids: "#" cuts the id, "/" finds no route', async () => {
    const client = host.durableClient();
    assert.equal(await client.startNew('SayHelloInline', { instanceId: 'cut#here', input: 'x' }), 'cut');
    await assert.rejects(client.startNew('SayHelloInline', { instanceId: 'a/b' }), /404/);
    await host.waitForIdle();
    assert.equal(host.durable.getStatus('cut')?.runtimeStatus, 'Completed');
  });

  it('can allow the 256 characters the extension itself checks', async () => {
    const lenient = await startHost({ maxInstanceIdLength: 256 });
    try {
      assert.equal(lenient.durable.startNew('SayHelloInline', { instanceId: 'y'.repeat(256) }).length, 256);
      assert.throws(
        () => lenient.durable.startNew('SayHelloInline', { instanceId: 'y'.repeat(257) }),
        /must not exceed 256 characters/,
      );
    } finally {
      await lenient.stop();
    }
  });

  it('refuses entity keys with / \\ # ? or control characters from clients', async () => {
    assert.throws(() => host.durable.signalEntity('Counter', 'a/b', 'add', '1'), InvalidInstanceIdError);
    const encoded = await fetch(webhook(host, 'entities/Counter/a%3Fb?op=add'), {
      method: 'POST',
      body: '1',
    });
    assert.equal(encoded.status, 400);
    const nested = await fetch(webhook(host, 'entities/Counter/a/b?op=add'), { method: 'POST', body: '1' });
    assert.equal(nested.status, 404);
    await host.durableClient().signalEntity(new df.EntityId('Counter', 'fine key'), 'add', 2);
    await host.waitForIdle();
    assert.equal(host.durable.readEntityState('Counter', 'fine key').stateJson, '2');
    assert.equal(host.durable.readEntityState('Counter', 'a').exists, false);
  });

  it('fails an orchestration whose sub-orchestration id is its own or starts with @', async () => {
    const self = host.durable.startNew(strictNames.selfChild, { instanceId: 'self-child' });
    const at = host.durable.startNew(strictNames.atChild, { instanceId: 'at-child' });
    await host.waitForIdle();
    const selfStatus = host.durable.getStatus(self);
    assert.equal(selfStatus?.runtimeStatus, 'Failed');
    assert.match(
      String(selfStatus.output),
      /must be different than the instance ID of a parent orchestration/,
    );
    const atStatus = host.durable.getStatus(at);
    assert.equal(atStatus?.runtimeStatus, 'Failed');
    assert.match(String(atStatus.output), /must not start with @/);
    assert.equal(host.durable.getStatus('@child'), undefined);
  });

  it('fails an orchestration that calls or signals a function that is not registered', async () => {
    const expected: Record<MissingKind, RegExp> = {
      activity:
        /The function 'NoSuchActivity' doesn't exist, is disabled, or is not an activity function\. Additional info: The following are the known activity functions: '/,
      orchestrator:
        /The function 'NoSuchOrchestrator' doesn't exist, is disabled, or is not an orchestrator function/,
      entity: /The function 'nosuchentity' doesn't exist, is disabled, or is not an entity function/,
      signal: /The function 'nosuchentity' doesn't exist, is disabled, or is not an entity function/,
    };
    for (const [kind, message] of Object.entries(expected) as Array<[MissingKind, RegExp]>) {
      const id = host.durable.startNew(strictNames.callsMissing, {
        instanceId: `missing-${kind}`,
        input: kind,
      });
      await host.waitForIdle();
      const status = host.durable.getStatus(id, { showHistory: true });
      assert.equal(status?.runtimeStatus, 'Failed', kind);
      assert.match(String(status.output), message);
      // The signal before the bad call was sent; the bad call took no event id.
      assert.deepEqual((status.history ?? []).map(describeEvent), [
        'OrchestratorStarted',
        'ExecutionStarted',
        'EventSent(0)',
        'ExecutionCompleted(1)',
        'OrchestratorCompleted',
      ]);
      assert.equal(host.durable.readEntityState('Counter', `before-${kind}`).stateJson, '1');
    }
    const signal = await fetch(webhook(host, 'entities/NoSuchEntity/k?op=add'), {
      method: 'POST',
      body: '1',
    });
    assert.equal(signal.status, 400);
  });

  it('still sends what a failing orchestrator scheduled before it threw', async () => {
    const id = host.durable.startNew(strictNames.signalThenThrow, {
      instanceId: 'signal-then-throw',
      input: 'thrown',
    });
    await host.waitForIdle();
    const status = host.durable.getStatus(id, { showHistory: true });
    assert.equal(status?.runtimeStatus, 'Failed');
    assert.match(String(status.output), /after the signal/);
    assert.deepEqual((status.history ?? []).map(describeEvent), [
      'OrchestratorStarted',
      'ExecutionStarted',
      'EventSent(0)',
      'ExecutionCompleted(1)',
      'OrchestratorCompleted',
    ]);
    assert.equal(host.durable.readEntityState('Counter', 'thrown').stateJson, '1');
  });
});

describe('functions host: starts that race (startRace)', () => {
  it('without it, a second start of a pending instance is refused under NonRunningStates', async () => {
    const host = await startHost({ overridableExistingInstanceStates: 'NonRunningStates' });
    try {
      host.durable.startNew('SayHelloInline', { instanceId: 'one', input: 'first' });
      assert.throws(
        () => host.durable.startNew('SayHelloInline', { instanceId: 'one', input: 'second' }),
        InstanceExistsError,
      );
      await host.waitForIdle();
      assert.equal(host.durable.getStatus('one')?.output, 'Hello, first!');
    } finally {
      await host.stop();
    }
  });

  it('firstWins: both starts report success and only the first one runs', async () => {
    const host = await startHost({ overridableExistingInstanceStates: 'NonRunningStates', startRace: true });
    try {
      const started = host.durable.counters.orchestrationsStarted;
      assert.equal(host.durable.startNew('SayHelloInline', { instanceId: 'race', input: 'first' }), 'race');
      assert.equal(host.durable.startNew('SayHelloInline', { instanceId: 'race', input: 'second' }), 'race');
      await host.waitForIdle();
      const status = host.durable.getStatus('race', { showHistory: true });
      assert.equal(status?.output, 'Hello, first!');
      assert.deepEqual(executionStarts(status?.history), ['"first"']);
      assert.equal(host.durable.counters.orchestrationsStarted - started, 1);
      assert.equal(host.durable.counters.startsLostToRace, 1);

      // The same over HTTP: two concurrent client starts of the completed instance, both answered
      // before the backend picks up the first ExecutionStarted (episodes held meanwhile).
      const client = host.durableClient();
      const release = host.durable.holdEpisodes();
      const ids = await Promise.all([
        client.startNew('SayHelloInline', { instanceId: 'race', input: 'third' }),
        client.startNew('SayHelloInline', { instanceId: 'race', input: 'fourth' }),
      ]);
      release();
      assert.deepEqual(ids, ['race', 'race']);
      await host.waitForIdle();
      const again = host.durable.getStatus('race', { showHistory: true });
      assert.equal(again?.runtimeStatus, 'Completed');
      assert.equal(executionStarts(again?.history).length, 1);
      assert.equal(host.durable.counters.orchestrationsStarted - started, 2);
      assert.equal(host.durable.counters.startsLostToRace, 2);
    } finally {
      await host.stop();
    }
  });

  it('a start after the first episode is no race: NonRunningStates refuses it', async () => {
    const host = await startHost({ overridableExistingInstanceStates: 'NonRunningStates', startRace: true });
    try {
      host.durable.startNew('WaitOnTimer', {
        instanceId: 'running',
        input: new Date(Date.now() + 60_000).toISOString(),
      });
      await host.waitForIdle();
      assert.equal(host.durable.getStatus('running')?.runtimeStatus, 'Running');
      assert.throws(
        () => host.durable.startNew('WaitOnTimer', { instanceId: 'running' }),
        InstanceExistsError,
      );
      const refused = await fetch(webhook(host, 'orchestrators/WaitOnTimer/running'), { method: 'POST' });
      assert.equal(
        refused.status,
        500,
        'HttpApiHandler answers OrchestrationAlreadyExistsException with 500',
      );
      assert.equal(host.durable.counters.startsLostToRace, 0);
    } finally {
      await host.stop();
    }
  });

  it('lastWins: both starts report success and only the last one runs', async () => {
    const host = await startHost({
      overridableExistingInstanceStates: 'NonRunningStates',
      startRace: 'lastWins',
    });
    try {
      host.durable.startNew('SayHelloInline', { instanceId: 'race', input: 'first' });
      host.durable.startNew('SayHelloInline', { instanceId: 'race', input: 'second' });
      await host.waitForIdle();
      const status = host.durable.getStatus('race', { showHistory: true });
      assert.equal(status?.output, 'Hello, second!');
      assert.deepEqual(executionStarts(status?.history), ['"second"']);
      assert.equal(host.durable.counters.startsLostToRace, 1);
    } finally {
      await host.stop();
    }
  });
});

describe('functions host: at-least-once activity execution (faults.duplicateActivity)', () => {
  let host: FunctionsHost;
  before(async () => {
    host = await startHost();
  });
  after(() => host.stop());

  /** Runs RetryThenActivity with Hello('a') executed twice, the second time failing. */
  async function retryThenActivity(id: string, shareEpisode: boolean): Promise<HistoryEvent[]> {
    const executions = host.durable.counters.activityExecutionsByName['Hello'] ?? 0;
    host.faults.duplicateActivity((call) => call.instanceId === id && call.input === 'a');
    host.faults.failActivity((call) => call.instanceId === id && call.execution === 2, 1, 'the rerun failed');
    let release: (() => void) | undefined;
    const stop = host.durable.onEpisode((report) => {
      if (shareEpisode && report.instanceId === id && report.episode === 1)
        release = host.durable.holdEpisodes();
    });
    host.durable.startNew(strictNames.retryThenActivity, { instanceId: id });
    await host.waitForIdle();
    stop();
    release?.();
    await host.waitForIdle({ fastForward: true });
    const status = host.durable.getStatus(id, { showHistory: true });
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.deepEqual(status.output, ['Hello, a!', 'Hello, b!']);
    assert.equal(
      (host.durable.counters.activityExecutionsByName['Hello'] ?? 0) - executions,
      3,
      'a, its rerun, b',
    );
    return status.history ?? [];
  }

  it('ignores a failed second run of a retried activity that had completed', async () => {
    const history = await retryThenActivity('duplicate-later', false);
    // The retried task got two answers; the second allocates no retry timer and schedules nothing.
    assert.deepEqual(history.map(describeEvent), [
      'OrchestratorStarted',
      'ExecutionStarted',
      'TaskScheduled(0)',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted(0)',
      'TaskScheduled(1)',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskFailed(0)',
      'OrchestratorCompleted',
      'OrchestratorStarted',
      'TaskCompleted(1)',
      'ExecutionCompleted(2)',
      'OrchestratorCompleted',
    ]);
  });

  it('ignores both answers arriving in one episode, in arrival order', async () => {
    const history = await retryThenActivity('duplicate-together', true);
    assert.deepEqual(history.map(describeEvent).slice(4, 9), [
      'OrchestratorStarted',
      'TaskCompleted(0)',
      'TaskFailed(0)',
      'TaskScheduled(1)',
      'OrchestratorCompleted',
    ]);
    assert.equal(history.filter((e) => e.EventType === 10).length, 0, 'no retry timer');
  });

  it('records every duplicated fan-out answer twice and the result is unchanged', async () => {
    const before = host.durable.counters.duplicateActivityExecutions;
    const id = 'duplicate-fan-out';
    host.faults.duplicateActivity('GetFileSize', 3);
    // Hold after the fan-out is scheduled, so all six answers reach one episode before completion.
    let release: (() => void) | undefined;
    const stop = host.durable.onEpisode((report) => {
      if (report.instanceId === id && report.episode === 2) release = host.durable.holdEpisodes();
    });
    host.durable.startNew('FanOutFanInDiskUsage', { instanceId: id, input: 'C:\\Dev' });
    await host.waitForIdle();
    stop();
    release?.();
    await host.waitForIdle();
    const status = host.durable.getStatus(id, { showHistory: true });
    assert.equal(status?.runtimeStatus, 'Completed');
    assert.equal(status.output, 6);
    const answers = (status.history ?? []).filter((e) => e.EventType === 5).map((e) => e['TaskScheduledId']);
    assert.deepEqual(
      [0, 1, 2, 3].map((taskId) => answers.filter((a) => a === taskId).length),
      [1, 2, 2, 2],
    );
    assert.equal(status.history?.map(describeEvent).at(-2), 'ExecutionCompleted(4)');
    assert.equal(host.durable.counters.duplicateActivityExecutions - before, 3);
  });
});
