/**
 * The local host's histories against the reference histories of the durable-functions SDK's own tests.
 *
 * Reference: Azure/azure-functions-durable-js at commit c212f6c4129c2c4fd128f67af688a1545b4c81a1
 * (v3.1.0, 2024-03-18): test/testobjects/testhistories.ts (TestHistories.*), the orchestrations of
 * test/testobjects/TestOrchestrations.ts and the expected states of test/integration/orchestrator-spec.ts.
 * The expectations below restate those facts (event types, EventId / TaskScheduledId / TimerId links,
 * names, inputs, which events share an episode); the sample app in sample-app/sdk-references runs the
 * same orchestration shapes. Where the SDK's fixtures are not what the Durable extension writes, the
 * extension (Azure/azure-functions-durable-extension a7c6d69) or DTFx (Azure/durabletask 5217032)
 * decides, and a comment says so:
 *  - DTFx writes an episode's decisions (TaskScheduled, TimerCreated, ...) after its new messages; the
 *    fixtures sometimes put a TimerCreated between two completions. The SDK never reads TimerCreated.
 *  - ExecutionCompleted and ContinueAsNew carry the next event id (TaskOrchestrationContext
 *    .CompleteOrchestration takes one); the fixtures end before them.
 *  - Sub-orchestrations without an id are named "<parent execution id>:<task id>" by DTFx; the
 *    fixture GetMultipleSubOrchestratorNoIdsSubOrchestrationsFinished uses placeholder ids.
 *  - Timers over 6 days are split by the extension's CreateTimer loop (intervals of 3 days, the last
 *    one shorter); GetWaitOnTimerFired's long variant models the SDK's own sub-timers instead.
 *  - TaskScheduled / SubOrchestrationInstanceCreated carry an Input only with the extension's
 *    storeInputsInOrchestrationHistory (off by default; on for these comparisons), and DTFx stores an
 *    activity's input as its parameters array; the fixtures show the bare value.
 *  - The fixtures' TaskFailed have Reason and Details only; the host also writes FailureDetails, as
 *    extensions from 3.14 do for durable-functions 3.5 (see local/functions-host/README.md).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FunctionsHost, type HistoryEvent, type ReplaySchemaName } from '../../local/functions-host';
import { executionIdOf } from './sample-app/harness';
import { closeGate, openGate } from './sample-app/sdk-references/gates';
import type { CaughtFanOutOutput, HelloRetryOutput } from './sample-app/sdk-references/names';

const appEntry = path.join(__dirname, 'sample-app', 'sdk-references', 'index.ts');
const t0 = new Date('2024-03-18T00:00:00.000Z');
const seconds = (n: number) => n * 1000;
const days = (n: number) => n * 24 * 3600 * 1000;

/** ISO time `offsetMs` after the host clock's current time (tests share a host whose clock moves). */
function clockAt(host: FunctionsHost): (offsetMs: number) => string {
  const start = host.clock.now().getTime();
  return (offsetMs) => new Date(start + offsetMs).toISOString();
}

/**
 * An activity's input as TaskScheduled stores it when storeInputsInOrchestrationHistory is on: the
 * SDK's processInput made a string JSON text, and DTFx stores ScheduleTask's parameters array. The
 * SDK's fixtures store the bare value; the SDK does not read TaskScheduled.Input at all.
 */
const stored = (input: string) => JSON.stringify([JSON.stringify(input)]);

/** A UTC time as Newtonsoft.Json writes a DateTime: fraction digits trimmed, then Z. */
const dotNetUtc = (iso: string) => iso.replace(/\.?0+Z$/, 'Z');

async function startHost(schemaVersion: ReplaySchemaName, maxConcurrentActivityFunctions = 10) {
  const host = await FunctionsHost.start({
    clock: 'manual',
    startTime: t0,
    schemaVersion,
    maxConcurrentActivityFunctions,
    storeInputsInOrchestrationHistory: true,
  });
  await host.loadApp(appEntry);
  return host;
}

function field(event: HistoryEvent | undefined, name: string): unknown {
  return event?.[name];
}

/** One line per event: its type, the id it carries (#) or answers (->), and what identifies it. */
function signature(event: HistoryEvent): string {
  const input = typeof event['Input'] === 'string' ? ` ${event['Input']}` : '';
  switch (event.EventType) {
    case 0:
      return `ExecutionStarted${input}`;
    case 1:
      return `ExecutionCompleted#${event.EventId} ${String(event['OrchestrationStatus'])}`;
    case 4:
      return `TaskScheduled#${event.EventId} ${String(event['Name'])}${input}`;
    case 5:
      return `TaskCompleted->${String(event['TaskScheduledId'])}`;
    case 6:
      return `TaskFailed->${String(event['TaskScheduledId'])}`;
    case 7:
      return `SubOrchestrationInstanceCreated#${event.EventId} ${String(event['Name'])} ${String(event['InstanceId'])}${input}`;
    case 8:
      return `SubOrchestrationInstanceCompleted->${String(event['TaskScheduledId'])}`;
    case 9:
      return `SubOrchestrationInstanceFailed->${String(event['TaskScheduledId'])}`;
    case 10:
      return `TimerCreated#${event.EventId}`;
    case 11:
      return `TimerFired->${String(event['TimerId'])}`;
    case 12:
      return 'OrchestratorStarted';
    case 13:
      return 'OrchestratorCompleted';
    case 14:
      return `EventSent#${event.EventId} ${String(event['Name'])} ${String(event['InstanceId'])}`;
    case 15:
      return `EventRaised ${String(event['Name'])}`;
    case 16:
      return `ContinueAsNew#${event.EventId} ${String(event['Result'])}`;
    default:
      return `EventType ${event.EventType}`;
  }
}

/** The history cut into episodes (each starts with OrchestratorStarted), as signatures. */
function episodes(history: readonly HistoryEvent[]): string[][] {
  const result: string[][] = [];
  for (const event of history) {
    if (event.EventType === 12 || result.length === 0) result.push([]);
    result[result.length - 1]?.push(signature(event));
  }
  return result;
}

function historyOf(host: FunctionsHost, instanceId: string): HistoryEvent[] {
  const history = host.durable.history(instanceId);
  assert.ok(history, `no instance ${instanceId}`);
  return history;
}

/** The OrchestratorStarted timestamps, one per episode. */
function episodeTimes(history: readonly HistoryEvent[]): string[] {
  return history.filter((e) => e.EventType === 12).map((e) => e.Timestamp);
}

function find(history: readonly HistoryEvent[], type: number, id: number): HistoryEvent | undefined {
  return history.find(
    (e) => e.EventType === type && (e.EventId === id || e['TaskScheduledId'] === id || e['TimerId'] === id),
  );
}

/**
 * Holds episodes once `instanceId` has run episode `episode`, so what arrives next shares one
 * episode (as in a reference history). Returns the release.
 */
function holdAfterEpisode(host: FunctionsHost, instanceId: string, episode: number): () => void {
  let release: (() => void) | undefined;
  const stop = host.durable.onEpisode((report) => {
    if (report.instanceId === instanceId && report.episode === episode && release === undefined) {
      release = host.durable.holdEpisodes();
    }
  });
  return () => {
    stop();
    assert.ok(release, `episode ${episode} of ${instanceId} never ran`);
    release();
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

for (const schemaVersion of ['V1', 'V4'] as ReplaySchemaName[]) {
  describe(`functions host vs the SDK's reference histories (${schemaVersion})`, () => {
    let host: FunctionsHost;
    before(async () => {
      host = await startHost(schemaVersion);
    });
    after(() => host.stop());

    it('retried activities in a Task.all: TestHistories.GetSayHelloWithActivityRetryFanout', async () => {
      const id = `retry-fan-out-${schemaVersion}`;
      const at = clockAt(host);
      host.faults.failActivity(
        (call) => call.name === 'Hello' && call.input === 'Tokyo',
        1,
        'Result: Failure',
      );
      const release = holdAfterEpisode(host, id, 1);
      host.durable.startNew('SayHelloWithActivityRetryFanout', { instanceId: id });
      await host.waitForIdle();
      release(); // Tokyo's failure and Seattle's result share episode 2, as in the reference
      await host.waitForIdle({ fastForward: true });

      const history = historyOf(host, id);
      // Reference episode 2 lists TimerCreated(2) between TaskFailed(0) and TaskCompleted(1); DTFx
      // writes decisions after the episode's messages. Ids and links are the reference's.
      assert.deepEqual(episodes(history), [
        [
          'OrchestratorStarted',
          'ExecutionStarted',
          `TaskScheduled#0 Hello ${stored('Tokyo')}`,
          `TaskScheduled#1 Hello ${stored('Seattle')}`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'TaskFailed->0',
          'TaskCompleted->1',
          'TimerCreated#2',
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'TimerFired->2',
          `TaskScheduled#3 Hello ${stored('Tokyo')}`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'TaskCompleted->3',
          'ExecutionCompleted#4 Completed',
          'OrchestratorCompleted',
        ],
      ]);
      const failure = find(history, 6, 0);
      assert.equal(field(failure, 'Reason'), "Activity function 'Hello' failed: Result: Failure");
      // The retry timer fires firstRetryIntervalInMilliseconds (100) after the failed attempt.
      const times = episodeTimes(history);
      assert.equal(field(find(history, 10, 2), 'FireAt'), at(100));
      assert.equal(times[1], at(0));
      assert.equal(field(find(history, 11, 2), 'FireAt'), at(100));
      assert.equal(times[2], at(100));
      assert.equal(field(find(history, 5, 1), 'Result'), '"Hello, Seattle!"');
      assert.equal(field(find(history, 5, 3), 'Result'), '"Hello, Tokyo!"');
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.output, ['Hello, Tokyo!', 'Hello, Seattle!']);
    });

    it('a retried activity that succeeds: TestHistories.GetSayHelloWithActivityReplayOne', async () => {
      const id = `retry-once-${schemaVersion}`;
      host.durable.startNew('SayHelloWithActivityRetry', { instanceId: id, input: 'World' });
      await host.waitForIdle({ fastForward: true });
      assert.deepEqual(episodes(historyOf(host, id)), [
        [
          'OrchestratorStarted',
          'ExecutionStarted "World"',
          `TaskScheduled#0 Hello ${stored('World')}`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'TaskCompleted->0',
          'ExecutionCompleted#1 Completed',
          'OrchestratorCompleted',
        ],
      ]);
      const output = host.durable.getStatus(id)?.output as HelloRetryOutput;
      assert.equal(output.greeting, 'Hello, World!');
    });

    it('retries exhausted: TestHistories.GetSayHelloWithActivityRetryRetryTwo', async () => {
      const id = `retry-exhausted-${schemaVersion}`;
      const at = clockAt(host);
      host.faults.failActivity(
        (call) => call.name === 'Hello' && call.input === 'World',
        2,
        'Result: Failure',
      );
      host.durable.startNew('SayHelloWithActivityRetry', { instanceId: id, input: 'World' });
      await host.waitForIdle({ fastForward: true });

      const history = historyOf(host, id);
      // RetryOptions(10000, 2): a timer follows each failed attempt, the last one included; the SDK
      // fails the task when that last timer fires (orchestrator-spec "reports a failed activity
      // function if >= max attempts"). The orchestration catches it and completes.
      assert.deepEqual(episodes(history), [
        [
          'OrchestratorStarted',
          'ExecutionStarted "World"',
          `TaskScheduled#0 Hello ${stored('World')}`,
          'OrchestratorCompleted',
        ],
        ['OrchestratorStarted', 'TaskFailed->0', 'TimerCreated#1', 'OrchestratorCompleted'],
        [
          'OrchestratorStarted',
          'TimerFired->1',
          `TaskScheduled#2 Hello ${stored('World')}`,
          'OrchestratorCompleted',
        ],
        ['OrchestratorStarted', 'TaskFailed->2', 'TimerCreated#3', 'OrchestratorCompleted'],
        ['OrchestratorStarted', 'TimerFired->3', 'ExecutionCompleted#4 Completed', 'OrchestratorCompleted'],
      ]);
      assert.equal(field(find(history, 10, 1), 'FireAt'), at(seconds(10)));
      assert.equal(field(find(history, 10, 3), 'FireAt'), at(seconds(20)));
      const output = host.durable.getStatus(id)?.output as HelloRetryOutput;
      assert.equal(output.greeting, null);
      assert.match(String(output.error), /Result: Failure/);
      // "updates currentUtcDatetime after all retries fail": the time of the last episode.
      assert.equal(output.before, at(0));
      assert.equal(output.after, at(seconds(20)));
      assert.equal(episodeTimes(history).at(-1), at(seconds(20)));
    });

    it('a fan-out completes: TestHistories.GetFanOutFanInDiskUsageComplete', async () => {
      const id = `disk-usage-${schemaVersion}`;
      host.durable.startNew('FanOutFanInDiskUsage', { instanceId: id, input: 'C:\\Dev' });
      await host.waitForIdle({ fastForward: true });
      const history = historyOf(host, id);
      const all = episodes(history);
      assert.deepEqual(all.slice(0, 2), [
        [
          'OrchestratorStarted',
          'ExecutionStarted "C:\\\\Dev"',
          `TaskScheduled#0 GetFileList ${stored('C:\\Dev')}`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'TaskCompleted->0',
          `TaskScheduled#1 GetFileSize ${stored('file1.txt')}`,
          `TaskScheduled#2 GetFileSize ${stored('file2.png')}`,
          `TaskScheduled#3 GetFileSize ${stored('file3.csx')}`,
          'OrchestratorCompleted',
        ],
      ]);
      const rest = all.slice(2).flat();
      for (const taskId of [1, 2, 3]) {
        assert.equal(rest.filter((s) => s === `TaskCompleted->${taskId}`).length, 1, `task ${taskId}`);
        assert.equal(field(find(history, 5, taskId), 'Result'), String(taskId));
      }
      assert.equal(rest.at(-2), 'ExecutionCompleted#4 Completed');
      assert.equal(field(find(history, 5, 0), 'Result'), '["file1.txt","file2.png","file3.csx"]');
      assert.equal(host.durable.getStatus(id)?.output, 6);
    });

    it('Task.all fails fast: TestHistories.GetFanOutFanInDiskUsageFaulted', async () => {
      // One activity at a time, so the fan-out's answers arrive in task order, as in the reference.
      const serial = await startHost(schemaVersion, 1);
      try {
        const id = `disk-usage-faulted-${schemaVersion}`;
        for (const file of ['file2.png', 'file3.csx']) {
          serial.faults.failActivity((call) => call.input === file, 1, `Could not find file ${file}`);
        }
        const release = holdAfterEpisode(serial, id, 2);
        serial.durable.startNew('FanOutFanInDiskUsage', { instanceId: id, input: 'C:\\Dev' });
        await serial.waitForIdle();
        release();
        await serial.waitForIdle({ fastForward: true });
        const history = historyOf(serial, id);
        assert.deepEqual(episodes(history).slice(2), [
          [
            'OrchestratorStarted',
            'TaskCompleted->1',
            'TaskFailed->2',
            'TaskFailed->3',
            'ExecutionCompleted#4 Failed',
            'OrchestratorCompleted',
          ],
        ]);
        assert.equal(
          field(find(history, 6, 2), 'Reason'),
          "Activity function 'GetFileSize' failed: Could not find file file2.png",
        );
        const status = serial.durable.getStatus(id);
        assert.equal(status?.runtimeStatus, 'Failed');
        // The first failure in history order fails the Task.all (orchestrator-spec "Task.all throws
        // if a parallel task has faulted").
        assert.match(String(status.output), /Could not find file file2\.png/);
        assert.doesNotMatch(String(status.output), /file3/);
      } finally {
        await serial.stop();
      }
    });

    it('after a fast failure the other tasks still answer into the moved-on history (§10)', async () => {
      const id = `disk-usage-caught-${schemaVersion}`;
      closeGate('file3.csx');
      closeGate('file4.log');
      try {
        host.faults.failActivity((call) => call.input === 'file2.png', 1, 'Could not find file file2.png');
        host.durable.startNew('FanOutFanInDiskUsageCaught', { instanceId: id, input: 'C:\\Dev' });
        const has = (line: string) => () =>
          episodes(host.durable.history(id) ?? [])
            .flat()
            .includes(line);
        await until(has(`TaskScheduled#4 GetFileSize ${stored('file4.log')}`), 'the call after the failure');
        openGate('file3.csx');
        await until(has('TaskCompleted->3'), 'the late answer of task 3');
        openGate('file4.log');
        await host.waitForIdle();
      } finally {
        openGate('file3.csx');
        openGate('file4.log');
      }
      const all = episodes(historyOf(host, id));
      const episodeOf = (line: string) => all.findIndex((e) => e.includes(line));
      assert.ok(
        episodeOf('TaskCompleted->3') > episodeOf(`TaskScheduled#4 GetFileSize ${stored('file4.log')}`),
      );
      assert.ok(episodeOf('TaskCompleted->4') > episodeOf('TaskCompleted->3'));
      assert.deepEqual(all.at(-1), [
        'OrchestratorStarted',
        'TaskCompleted->4',
        'ExecutionCompleted#5 Completed',
        'OrchestratorCompleted',
      ]);
      const output = host.durable.getStatus(id)?.output as CaughtFanOutOutput;
      assert.match(output.caught, /Could not find file file2\.png/);
      assert.equal(output.after, 4);
    });

    it('an entity call: TestHistories.GetCallEntitySet', async () => {
      const id = `call-entity-${schemaVersion}`;
      const now = clockAt(host)(0);
      const key = `12345-${schemaVersion}`;
      host.durable.startNew('CallEntitySet', { instanceId: id, input: { name: 'StringStore2', key } });
      await host.waitForIdle();
      const history = historyOf(host, id);
      const sent = find(history, 14, 0);
      const request = JSON.parse(String(field(sent, 'Input'))) as Record<string, unknown>;
      const requestId = String(request['id']);
      assert.deepEqual(episodes(history), [
        [
          'OrchestratorStarted',
          `ExecutionStarted {"name":"StringStore2","key":"${key}"}`,
          `EventSent#0 op @stringstore2@${key}`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          `EventRaised ${requestId}`,
          'ExecutionCompleted#1 Completed',
          'OrchestratorCompleted',
        ],
      ]);
      // Reference request {id, op, parent, timestamp}; the extension's RequestMessage has no `signal`
      // for a call, the input as JSON text, and the sender's execution.
      assert.equal(request['op'], 'set');
      assert.equal(request['input'], '"testString"');
      assert.equal(request['parent'], id);
      assert.equal(request['parentExecution'], executionIdOf(history));
      assert.equal('signal' in request, false);
      assert.equal(request['Timestamp'], dotNetUtc(now));
      assert.equal(request['Predecessor'], '0001-01-01T00:00:00');
      // The answer is the ResponseMessage {"result": null} under the request's id.
      const answer = history.find((e) => e.EventType === 15);
      assert.deepEqual(JSON.parse(String(field(answer, 'Input'))), { result: null });
      assert.equal(host.durable.getStatus(id)?.output, 'OK');
      assert.equal(host.durable.readEntityState('StringStore2', key).stateJson, '"testString"');
    });

    it('a signal takes an event id: orchestrator-spec "scheduled a SignalEntity action"', async () => {
      const id = `signal-${schemaVersion}`;
      const key = `1234-${schemaVersion}`;
      const input = { id: key, entityName: 'Counter', operationName: 'add', operationArgument: 1 };
      host.durable.startNew('SignalEntity', { instanceId: id, input });
      await host.waitForIdle();
      const history = historyOf(host, id);
      assert.deepEqual(episodes(history), [
        [
          'OrchestratorStarted',
          `ExecutionStarted ${JSON.stringify(input)}`,
          `EventSent#0 op @counter@${key}`,
          'ExecutionCompleted#1 Completed',
          'OrchestratorCompleted',
        ],
      ]);
      const request = JSON.parse(String(field(find(history, 14, 0), 'Input'))) as Record<string, unknown>;
      assert.deepEqual(Object.keys(request), [
        'op',
        'signal',
        'input',
        'id',
        'parent',
        'parentExecution',
        'Timestamp',
        'Predecessor',
      ]);
      assert.equal(request['signal'], true);
      assert.equal(request['input'], '1');
      assert.equal(host.durable.getStatus(id)?.runtimeStatus, 'Completed');
      assert.equal(host.durable.readEntityState('Counter', key).stateJson, '1');
    });

    it('continueAsNew: orchestrator-spec "schedules a continueAsNew request"', async () => {
      const id = `continue-as-new-${schemaVersion}`;
      const executions = new Map<string, readonly HistoryEvent[]>();
      const stop = host.durable.onEpisode((report) => {
        if (report.instanceId === id) executions.set(report.executionId, [...report.history]);
      });
      host.durable.startNew('ContinueAsNewCounter', { instanceId: id, input: { value: 5 } });
      await host.waitForIdle();
      stop();
      // {value: 5} continues as new with {value: 6}: a fresh execution each time, ids from 0.
      assert.deepEqual([...executions.values()].map(episodes), [
        [
          [
            'OrchestratorStarted',
            'ExecutionStarted {"value":5}',
            'ContinueAsNew#0 {"value":6}',
            'OrchestratorCompleted',
          ],
        ],
        [
          [
            'OrchestratorStarted',
            'ExecutionStarted {"value":6}',
            'ContinueAsNew#0 {"value":7}',
            'OrchestratorCompleted',
          ],
        ],
        [
          [
            'OrchestratorStarted',
            'ExecutionStarted {"value":7}',
            'ExecutionCompleted#0 Completed',
            'OrchestratorCompleted',
          ],
        ],
      ]);
      const executionIds = [...executions.values()].map(executionIdOf);
      assert.deepEqual(executionIds, [...executions.keys()]);
      assert.equal(new Set(executionIds).size, 3);
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Completed');
      assert.deepEqual(status.input, { value: 7 });
      assert.equal(status.output, 8);
    });

    it('a durable timer: TestHistories.GetWaitOnTimerFired', async () => {
      const id = `timer-${schemaVersion}`;
      const fireAt = clockAt(host)(5 * 60_000);
      host.durable.startNew('WaitOnTimer', { instanceId: id, input: fireAt });
      await host.waitForIdle({ fastForward: true });
      const history = historyOf(host, id);
      assert.deepEqual(episodes(history), [
        ['OrchestratorStarted', `ExecutionStarted "${fireAt}"`, 'TimerCreated#0', 'OrchestratorCompleted'],
        ['OrchestratorStarted', 'TimerFired->0', 'ExecutionCompleted#1 Completed', 'OrchestratorCompleted'],
      ]);
      assert.equal(field(find(history, 10, 0), 'FireAt'), fireAt);
      assert.equal(field(find(history, 11, 0), 'FireAt'), fireAt);
      assert.equal(episodeTimes(history)[1], fireAt);
      assert.equal(host.durable.getStatus(id)?.output, 'Timer fired!');
    });

    it(`a timer over 6 days ${schemaVersion === 'V1' ? 'is refused below V3' : 'runs in 3-day intervals'}`, async () => {
      const id = `long-timer-${schemaVersion}`;
      const at = clockAt(host);
      const fireAt = at(days(7));
      host.durable.startNew('WaitOnTimer', { instanceId: id, input: fireAt });
      await host.waitForIdle({ fastForward: true });
      const history = historyOf(host, id);
      const status = host.durable.getStatus(id);
      if (schemaVersion === 'V1') {
        // The extension checks the delay below V3 (ThrowIfInvalidTimerLengthForStorageProvider).
        assert.equal(status?.runtimeStatus, 'Failed');
        assert.match(String(status.output), /supports a maximum of 6 days for time-based delays/);
        return;
      }
      // The SDK allocates one id per interval that is not the last (LongTimerTask), the extension
      // creates one timer per interval: 3 days, 3 more, then the remaining day.
      assert.deepEqual(episodes(history), [
        ['OrchestratorStarted', `ExecutionStarted "${fireAt}"`, 'TimerCreated#0', 'OrchestratorCompleted'],
        ['OrchestratorStarted', 'TimerFired->0', 'TimerCreated#1', 'OrchestratorCompleted'],
        ['OrchestratorStarted', 'TimerFired->1', 'TimerCreated#2', 'OrchestratorCompleted'],
        ['OrchestratorStarted', 'TimerFired->2', 'ExecutionCompleted#3 Completed', 'OrchestratorCompleted'],
      ]);
      const fireTimes = history.filter((e) => e.EventType === 10).map((e) => e['FireAt']);
      assert.deepEqual(fireTimes, [at(days(3)), at(days(6)), fireAt]);
      assert.deepEqual(episodeTimes(history), [at(0), at(days(3)), at(days(6)), fireAt]);
      assert.equal(status?.output, 'Timer fired!');
    });

    it('a sub-orchestration: TestHistories.GetSayHelloWithSubOrchestratorReplayOne', async () => {
      const id = `sub-parent-${schemaVersion}`;
      host.durable.startNew('SayHelloWithSubOrchestrator', { instanceId: id, input: 'World' });
      await host.waitForIdle();
      const history = historyOf(host, id);
      assert.deepEqual(episodes(history), [
        [
          'OrchestratorStarted',
          'ExecutionStarted "World"',
          `SubOrchestrationInstanceCreated#0 SayHelloWithActivity ${id}:0 "World"`,
          'OrchestratorCompleted',
        ],
        [
          'OrchestratorStarted',
          'SubOrchestrationInstanceCompleted->0',
          'ExecutionCompleted#1 Completed',
          'OrchestratorCompleted',
        ],
      ]);
      assert.equal(field(find(history, 8, 0), 'Result'), '"Hello, World!"');
      const child = historyOf(host, `${id}:0`).find((e) => e.EventType === 0);
      assert.deepEqual(field(child, 'ParentInstance'), {
        Name: 'SayHelloWithSubOrchestrator',
        TaskScheduleId: 0,
        OrchestrationInstance: { InstanceId: id, ExecutionId: executionIdOf(history) },
      });
      assert.equal(host.durable.getStatus(id)?.output, 'Hello, World!');
    });

    it('a retried sub-orchestration: TestHistories.GetSayHelloWithSubOrchestratorRetryRetryTwo', async () => {
      const id = `sub-retry-${schemaVersion}`;
      const at = clockAt(host);
      const input = `Retry-${schemaVersion}`;
      host.faults.failActivity((call) => call.input === input, 2, 'Result: Failure');
      host.durable.startNew('SayHelloWithSubOrchestratorRetry', { instanceId: id, input });
      await host.waitForIdle({ fastForward: true });
      const history = historyOf(host, id);
      const created = (taskId: number) =>
        `SubOrchestrationInstanceCreated#${taskId} SayHelloWithActivity ${id}:0 "${input}"`;
      // Every attempt reuses the given child id.
      assert.deepEqual(episodes(history), [
        ['OrchestratorStarted', `ExecutionStarted "${input}"`, created(0), 'OrchestratorCompleted'],
        [
          'OrchestratorStarted',
          'SubOrchestrationInstanceFailed->0',
          'TimerCreated#1',
          'OrchestratorCompleted',
        ],
        ['OrchestratorStarted', 'TimerFired->1', created(2), 'OrchestratorCompleted'],
        [
          'OrchestratorStarted',
          'SubOrchestrationInstanceFailed->2',
          'TimerCreated#3',
          'OrchestratorCompleted',
        ],
        ['OrchestratorStarted', 'TimerFired->3', 'ExecutionCompleted#4 Failed', 'OrchestratorCompleted'],
      ]);
      assert.equal(field(find(history, 10, 1), 'FireAt'), at(seconds(10)));
      assert.equal(field(find(history, 10, 3), 'FireAt'), at(seconds(20)));
      const status = host.durable.getStatus(id);
      assert.equal(status?.runtimeStatus, 'Failed');
      assert.match(String(status.output), /Result: Failure/);
    });

    it('sub-orchestrations without ids: TestHistories.GetMultipleSubOrchestratorNoIdsSubOrchestrationsFinished', async () => {
      const id = `sub-no-ids-${schemaVersion}`;
      host.durable.startNew('MultipleSubOrchestratorNoSubId', { instanceId: id, input: 'World' });
      await host.waitForIdle();
      const history = historyOf(host, id);
      const executionId = executionIdOf(history);
      const names = ['SayHelloWithActivity', 'SayHelloInline', 'SayHelloWithActivity', 'SayHelloInline'];
      assert.deepEqual(episodes(history)[0], [
        'OrchestratorStarted',
        'ExecutionStarted "World"',
        ...names.map(
          (name, i) =>
            `SubOrchestrationInstanceCreated#${i} ${name} ${executionId}:${i} "World_${name}_${i}"`,
        ),
        'OrchestratorCompleted',
      ]);
      const rest = episodes(history).slice(1).flat();
      for (const taskId of [0, 1, 2, 3])
        assert.ok(rest.includes(`SubOrchestrationInstanceCompleted->${taskId}`));
      assert.equal(rest.at(-2), 'ExecutionCompleted#4 Completed');
      assert.deepEqual(
        host.durable.getStatus(id)?.output,
        names.map((name, i) => `Hello, World_${name}_${i}!`),
      );
    });
  });
}

describe('functions host: history inputs with the extension defaults', () => {
  it('TaskScheduled and SubOrchestrationInstanceCreated carry no Input unless inputs are stored', async () => {
    const host = await FunctionsHost.start({ clock: 'manual' });
    try {
      await host.loadApp(appEntry);
      host.durable.startNew('FanOutFanInDiskUsage', { instanceId: 'defaults-fan-out', input: 'C:\\Dev' });
      host.durable.startNew('SayHelloWithSubOrchestrator', { instanceId: 'defaults-sub', input: 'World' });
      await host.waitForIdle();
      const fanOut = historyOf(host, 'defaults-fan-out');
      const parent = historyOf(host, 'defaults-sub');
      const scheduled = [...fanOut, ...parent].filter((e) => e.EventType === 4 || e.EventType === 7);
      assert.equal(scheduled.length, 5);
      for (const event of scheduled) assert.equal(event['Input'], undefined, signature(event));
      assert.equal(field(find(fanOut, 4, 0), 'Name'), 'GetFileList');
      // The child still gets its input, in its ExecutionStarted.
      const child = historyOf(host, 'defaults-sub:0').find((e) => e.EventType === 0);
      assert.equal(field(child, 'Input'), '"World"');
      assert.equal(host.durable.getStatus('defaults-fan-out')?.output, 6);
      // Execution ids as DTFx writes them (Guid "N" format).
      assert.match(executionIdOf(parent), /^[0-9a-f]{32}$/);
    } finally {
      await host.stop();
    }
  });
});
