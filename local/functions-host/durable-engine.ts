/**
 * The local Durable Task engine: instances, episodes run through the real durable-functions replay
 * engine (one at a time per instance), activities, timers, entities, sub-orchestrations,
 * continueAsNew, external events, terminate and purge. Client operations here are what the loopback
 * HTTP API (and so `df.getClient`) calls.
 */
import { randomUUID } from 'node:crypto';
import { ActivityRunner } from './activity-runner';
import type { HostClock } from './clock';
import type { CapturedRegistration } from './core-shim';
import { type HostCounters, newCounters } from './counters';
import { type EntityMessage, type EntityParent, EntityScheduler, schedulerIdOf } from './entity-scheduler';
import {
  continueAsNewInput,
  type EpisodePlan,
  EpisodePlanner,
  orderIncoming,
  type PlanEffects,
} from './episode-planner';
import type { FaultInjector } from './faults';
import type { FunctionCatalog } from './function-catalog';
import { EventType, type FailureDetails, type HistoryEvent, historyEvent } from './history';
import {
  type InboxItem,
  type InstanceQuery,
  type InstanceRecord,
  type InstanceStatus,
  InstanceStore,
  newInstanceRecord,
  recordHistoryBytes,
  runningStatuses,
  statusOf,
  terminalStatuses,
} from './instance-store';
import type { FunctionInvoker } from './invoke';
import { type ReplaySchemaName, runEpisode } from './orchestrator-episode';
import type { RpcParameterBinding } from './rpc-types';
import { parseJsonText } from './typed-data';
import { Limiter, type WorkTracker } from './work-tracker';

export type OverridableStates = 'AnyState' | 'NonRunningStates';

export interface DurableEngineOptions {
  readonly schema: ReplaySchemaName;
  readonly overridableExistingInstanceStates: OverridableStates;
  readonly maxConcurrentOrchestratorFunctions: number;
  readonly maxConcurrentActivityFunctions: number;
  readonly maxEntityOperationBatchSize: number;
}

export interface DurableEngineDeps {
  readonly catalog: FunctionCatalog;
  readonly invoker: FunctionInvoker;
  readonly clock: HostClock;
  readonly work: WorkTracker;
  readonly faults: FaultInjector;
  readonly extraInputs: (registration: CapturedRegistration) => RpcParameterBinding[];
}

export interface EpisodeReport {
  readonly instanceId: string;
  readonly name: string;
  readonly episode: number;
  readonly runtimeStatus: InstanceStatus['runtimeStatus'];
  readonly historyEvents: number;
  readonly historyBytes: number;
}

/** Thrown by startNew when `NonRunningStates` forbids replacing an instance. */
export class InstanceExistsError extends Error {
  override readonly name = 'InstanceExistsError';
}

export type ClientResult = 'accepted' | 'notFound' | 'gone';

export class DurableEngine {
  readonly counters: HostCounters = newCounters();
  readonly instances = new InstanceStore();
  readonly entities: EntityScheduler;
  readonly activities: ActivityRunner;
  private readonly orchestrationLimiter: Limiter;
  private readonly planner: EpisodePlanner;
  private readonly episodeListeners: Array<(report: EpisodeReport) => void> = [];

  constructor(
    private readonly deps: DurableEngineDeps,
    readonly options: DurableEngineOptions,
  ) {
    const invoke = (registration: CapturedRegistration, inputData: RpcParameterBinding[]) =>
      deps.invoker.invoke(registration, { inputData });
    this.orchestrationLimiter = new Limiter(options.maxConcurrentOrchestratorFunctions);
    this.activities = new ActivityRunner({
      catalog: deps.catalog,
      invoke,
      extraInputs: deps.extraInputs,
      faults: deps.faults,
      counters: this.counters,
      work: deps.work,
      maxConcurrent: options.maxConcurrentActivityFunctions,
    });
    this.entities = new EntityScheduler({
      catalog: deps.catalog,
      invoke,
      extraInputs: deps.extraInputs,
      respond: (parent, response) =>
        this.deliver(
          parent.instanceId,
          parent.executionId,
          this.event(EventType.EventRaised, {
            Name: response.requestId,
            Input: response.inputJson,
          }),
        ),
      counters: this.counters,
      work: deps.work,
      // The extension's maxConcurrentOrchestratorFunctions also caps entities.
      limiter: this.orchestrationLimiter,
      maxBatch: options.maxEntityOperationBatchSize,
      now: () => deps.clock.now(),
    });
    this.planner = new EpisodePlanner(this.planEffects());
  }

  // ---- client operations -------------------------------------------------------------------

  /** Starts (or, as the policy allows, replaces) an instance; returns its id. */
  startNew(name: string, options: { instanceId?: string; input?: unknown; inputJson?: string } = {}): string {
    if (this.deps.catalog.find(name, 'orchestrationTrigger') === undefined) {
      throw new Error(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    const inputJson =
      options.inputJson ?? (options.input === undefined ? undefined : JSON.stringify(options.input));
    const refusal = this.createInstance(name, instanceId, inputJson, undefined);
    if (refusal !== undefined) throw new InstanceExistsError(refusal);
    return instanceId;
  }

  getStatus(instanceId: string, options: { showHistory?: boolean; showInput?: boolean } = {}) {
    const record = this.instances.get(instanceId);
    return record === undefined ? undefined : statusOf(record, options);
  }

  /** The current execution's history (a copy). */
  history(instanceId: string): HistoryEvent[] | undefined {
    return this.instances.get(instanceId)?.history.map((e) => ({ ...e }));
  }

  /** Size of the current execution's history as stored and replayed (JSON bytes). */
  historyBytes(instanceId: string): number | undefined {
    return this.instances.get(instanceId)?.historyBytes;
  }

  listInstances(query: InstanceQuery = {}): InstanceStatus[] {
    return this.instances.query(query).map((r) => statusOf(r));
  }

  raiseEvent(instanceId: string, eventName: string, data: unknown): ClientResult {
    const record = this.instances.get(instanceId);
    if (record === undefined) return 'notFound';
    if (terminalStatuses.includes(record.status)) return 'gone';
    const input = data === undefined ? undefined : JSON.stringify(data);
    this.deliver(instanceId, undefined, this.event(EventType.EventRaised, { Name: eventName, Input: input }));
    return 'accepted';
  }

  terminate(instanceId: string, reason: string | undefined): ClientResult {
    const record = this.instances.get(instanceId);
    if (record === undefined) return 'notFound';
    if (terminalStatuses.includes(record.status)) return 'gone';
    const now = this.deps.clock.now();
    record.status = 'Terminated';
    record.outputJson = JSON.stringify(reason ?? '');
    record.history.push(played(historyEvent(EventType.ExecutionTerminated, now, { Input: reason ?? '' })));
    record.inbox = [];
    record.lastUpdatedTime = now;
    recordHistoryBytes(record);
    this.endExecution(record);
    this.notifyParentOfFailure(record, `Orchestration '${instanceId}' was terminated: ${reason ?? ''}`);
    return 'accepted';
  }

  purge(instanceId: string): boolean {
    const record = this.instances.get(instanceId);
    if (record === undefined) return false;
    this.endExecution(record);
    return this.instances.delete(instanceId);
  }

  purgeBy(query: InstanceQuery): number {
    const matching = this.instances.query(query);
    for (const record of matching) this.purge(record.instanceId);
    return matching.length;
  }

  signalEntity(name: string, key: string, operation: string, inputJson: string | undefined): void {
    this.entities.send(schedulerIdOf(name, key), {
      kind: 'operation',
      id: randomUUID(),
      op: operation,
      signal: true,
      inputJson,
      parent: undefined,
    });
  }

  /** The entity's state as JSON text, when the entity exists and has state. */
  readEntityState(name: string, key: string): { exists: boolean; stateJson: string | undefined } {
    const entity = this.entities.get(schedulerIdOf(name, key));
    if (entity === undefined || !entity.exists || entity.stateJson === undefined) {
      return { exists: false, stateJson: undefined };
    }
    return { exists: true, stateJson: entity.stateJson };
  }

  onEpisode(listener: (report: EpisodeReport) => void): void {
    this.episodeListeners.push(listener);
  }

  /** Cancels everything this engine has scheduled (used by host.stop()). */
  shutdown(): void {
    for (const record of this.instances.all()) {
      record.inbox = [];
      this.endExecution(record);
    }
  }

  // ---- instances -------------------------------------------------------------------------------

  /** Creates an instance and queues its ExecutionStarted; returns a refusal message instead when not allowed. */
  private createInstance(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: InstanceRecord['parent'],
  ): string | undefined {
    const existing = this.instances.get(instanceId);
    if (existing !== undefined) {
      const running = runningStatuses.includes(existing.status);
      if (running && this.options.overridableExistingInstanceStates === 'NonRunningStates') {
        return `An Orchestration instance with the status ${existing.status} already exists.`;
      }
      this.endExecution(existing);
    }
    const now = this.deps.clock.now();
    const record = newInstanceRecord(instanceId, name, randomUUID(), now);
    record.inputJson = inputJson;
    record.parent = parent;
    record.inbox.push({ event: this.executionStarted(record, now), executionId: record.executionId });
    this.instances.put(record);
    this.counters.orchestrationsStarted += 1;
    this.schedule(record);
    return undefined;
  }

  private executionStarted(record: InstanceRecord, now: Date): HistoryEvent {
    const parent = record.parent;
    return historyEvent(EventType.ExecutionStarted, now, {
      Name: record.name,
      Input: record.inputJson,
      OrchestrationInstance: { InstanceId: record.instanceId, ExecutionId: record.executionId },
      ParentInstance:
        parent === undefined
          ? undefined
          : { OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId } },
    });
  }

  private event(type: HistoryEvent['EventType'], fields: Record<string, unknown>): HistoryEvent {
    return historyEvent(type, this.deps.clock.now(), fields);
  }

  /** Queues an event for an instance's execution (undefined: the current one) and runs an episode. */
  deliver(instanceId: string, executionId: string | undefined, event: HistoryEvent): void {
    const record = this.instances.get(instanceId);
    if (record === undefined || terminalStatuses.includes(record.status)) return;
    if (executionId !== undefined && executionId !== record.executionId) return;
    const item: InboxItem = { event, executionId };
    record.inbox.push(item);
    this.schedule(record);
  }

  private schedule(record: InstanceRecord): void {
    if (record.episodeRunning) return; // the running loop picks the new events up
    record.episodeRunning = true;
    this.deps.work.run(async () => {
      try {
        while (record.inbox.length > 0 && this.isLive(record)) {
          await this.orchestrationLimiter.run(() => this.runOneEpisode(record));
        }
      } finally {
        record.episodeRunning = false;
      }
    });
  }

  private isLive(record: InstanceRecord): boolean {
    return this.instances.get(record.instanceId) === record && !terminalStatuses.includes(record.status);
  }

  // ---- episodes --------------------------------------------------------------------------------

  private async runOneEpisode(record: InstanceRecord): Promise<void> {
    const executionId = record.executionId;
    const incoming = record.inbox
      .splice(0)
      .filter((i) => i.executionId === undefined || i.executionId === executionId);
    if (incoming.length === 0) return;
    const now = this.deps.clock.now();
    if (record.status === 'Pending' || record.status === 'ContinuedAsNew') record.status = 'Running';
    record.episodes += 1;
    this.counters.orchestratorEpisodes += 1;
    const started = historyEvent(EventType.OrchestratorStarted, now);
    const ordered = orderIncoming(
      record,
      incoming.map((i) => i.event),
    );
    const plan = this.planner.newPlan();
    this.planner.planIncoming(record, ordered, now, plan);

    const registration = this.deps.catalog.find(record.name, 'orchestrationTrigger');
    const outcome =
      registration === undefined
        ? ({
            kind: 'failed',
            message: `The function '${record.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
            state: undefined,
            stack: undefined,
          } as const)
        : await runEpisode(this.deps.invoker, registration, {
            instanceId: record.instanceId,
            history: [...record.history, started, ...ordered],
            input: parseJsonText(record.inputJson),
            parentInstanceId: record.parent?.instanceId,
            schema: this.options.schema,
          });
    // Terminated, purged or replaced while the orchestrator ran: its decisions are void.
    if (!this.isLive(record) || record.executionId !== executionId) return;

    if (outcome.kind === 'state') {
      this.planner.planActions(record, outcome.state.actions, now, plan);
      record.customStatus = outcome.state.customStatus;
    } else if (outcome.state !== undefined) {
      record.customStatus = outcome.state.customStatus;
    }
    record.history.push(...[started, ...ordered, ...plan.decisions].map(played));
    record.lastUpdatedTime = now;
    for (const effect of plan.effects) effect();

    if (outcome.kind === 'failed') {
      this.fail(record, outcome.message, outcome.stack, now);
    } else if (outcome.state.isDone) {
      const next = continueAsNewInput(outcome.state.actions);
      if (next.found) this.continueAsNew(record, next.inputJson, now);
      else this.complete(record, outcome.state.output, now);
    } else {
      record.history.push(played(historyEvent(EventType.OrchestratorCompleted, now)));
    }
    recordHistoryBytes(record);
    this.report(record);
  }

  private complete(record: InstanceRecord, output: unknown, now: Date): void {
    const resultJson = output === undefined ? undefined : JSON.stringify(output);
    record.status = 'Completed';
    record.outputJson = resultJson;
    record.history.push(
      played(
        historyEvent(EventType.ExecutionCompleted, now, {
          OrchestrationStatus: 'Completed',
          Result: resultJson,
        }),
      ),
      played(historyEvent(EventType.OrchestratorCompleted, now)),
    );
    this.endExecution(record);
    const parent = record.parent;
    if (parent !== undefined) {
      this.deliver(
        parent.instanceId,
        parent.executionId,
        this.event(EventType.SubOrchestrationInstanceCompleted, {
          TaskScheduledId: parent.taskScheduledId,
          Result: resultJson ?? 'null',
        }),
      );
    }
  }

  private fail(record: InstanceRecord, message: string, stack: string | undefined, now: Date): void {
    const failure: FailureDetails = {
      ErrorType: 'Error',
      ErrorMessage: message,
      StackTrace: stack,
      IsNonRetriable: false,
    };
    const summary = `Orchestrator function '${record.name}' failed: ${message}`;
    record.status = 'Failed';
    record.failure = failure;
    record.outputJson = JSON.stringify(summary);
    record.history.push(
      played(
        historyEvent(EventType.ExecutionCompleted, now, {
          OrchestrationStatus: 'Failed',
          Result: record.outputJson,
          FailureDetails: failure,
        }),
      ),
      played(historyEvent(EventType.OrchestratorCompleted, now)),
    );
    this.endExecution(record);
    this.notifyParentOfFailure(record, message);
  }

  private notifyParentOfFailure(record: InstanceRecord, message: string): void {
    const parent = record.parent;
    if (parent === undefined) return;
    const failure: FailureDetails = { ErrorType: 'Error', ErrorMessage: message, IsNonRetriable: false };
    this.deliver(
      parent.instanceId,
      parent.executionId,
      this.event(EventType.SubOrchestrationInstanceFailed, {
        TaskScheduledId: parent.taskScheduledId,
        Reason: `Orchestrator function '${record.name}' failed: ${message}`,
        Details: record.failure?.StackTrace,
        FailureDetails: failure,
      }),
    );
  }

  /** Starts a fresh execution (new history, event ids from 0) with the new input. */
  private continueAsNew(record: InstanceRecord, inputJson: string | undefined, now: Date): void {
    record.history.push(
      played(historyEvent(EventType.ContinueAsNew, now, { Result: inputJson })),
      played(historyEvent(EventType.OrchestratorCompleted, now)),
    );
    recordHistoryBytes(record);
    this.endExecution(record);
    record.status = 'ContinuedAsNew';
    record.executionId = randomUUID();
    record.generation += 1;
    record.history = [];
    record.nextEventId = 0;
    record.actionsSeen = 0;
    record.inputJson = inputJson;
    // Events raised by clients that this execution did not get to carry over; replies meant for the
    // old execution are dropped.
    const carried = record.inbox.filter((i) => i.executionId === undefined);
    record.inbox = [
      { event: this.executionStarted(record, now), executionId: record.executionId },
      ...carried,
    ];
  }

  /** Stops an execution's pending work: timers, retry chains and entity locks. */
  private endExecution(record: InstanceRecord): void {
    for (const timer of record.timers.values()) this.deps.clock.cancel(timer);
    record.timers.clear();
    record.retriesByTask.clear();
    record.retriesByTimer.clear();
    record.timerByActionIndex.clear();
    record.lockSet = undefined;
    this.entities.releaseAll(record.instanceId);
  }

  private report(record: InstanceRecord): void {
    const report: EpisodeReport = {
      instanceId: record.instanceId,
      name: record.name,
      episode: record.episodes,
      runtimeStatus: record.status,
      historyEvents: record.history.length,
      historyBytes: record.historyBytes,
    };
    for (const listener of this.episodeListeners) listener(report);
  }

  // ---- effects of planned work -------------------------------------------------------------------

  private planEffects(): PlanEffects {
    return {
      dispatchActivity: (record, taskScheduledId, name, inputJson) => {
        const executionId = record.executionId;
        this.activities.run(
          { instanceId: record.instanceId, taskScheduledId, name, inputJson },
          (outcome) => {
            const event = outcome.ok
              ? this.event(EventType.TaskCompleted, {
                  TaskScheduledId: taskScheduledId,
                  Result: outcome.resultJson,
                })
              : this.taskFailed(name, taskScheduledId, outcome.failure);
            this.deliver(record.instanceId, executionId, event);
          },
        );
      },
      startSubOrchestration: (record, taskScheduledId, name, childInstanceId, inputJson) => {
        const parent = { instanceId: record.instanceId, executionId: record.executionId, taskScheduledId };
        const refusal = this.createInstance(name, childInstanceId, inputJson, parent);
        if (refusal === undefined) return;
        const failure: FailureDetails = {
          ErrorType: 'InvalidOperationException',
          ErrorMessage: refusal,
          IsNonRetriable: true,
        };
        this.deliver(
          record.instanceId,
          record.executionId,
          this.event(EventType.SubOrchestrationInstanceFailed, {
            TaskScheduledId: taskScheduledId,
            Reason: refusal,
            FailureDetails: failure,
          }),
        );
      },
      startTimer: (record, timerId, fireAt) => {
        const executionId = record.executionId;
        const timer = this.deps.clock.setTimer(fireAt, () => {
          record.timers.delete(timerId);
          const fired = this.event(EventType.TimerFired, { TimerId: timerId, FireAt: fireAt.toISOString() });
          this.deliver(record.instanceId, executionId, fired);
        });
        record.timers.set(timerId, timer);
      },
      cancelTimer: (record, timerId) => {
        this.deps.clock.cancel(record.timers.get(timerId));
        record.timers.delete(timerId);
      },
      sendToEntity: (target: string, message: EntityMessage) => this.entities.send(target, message),
      failTask: (record, taskScheduledId, failure) => {
        this.deliver(record.instanceId, record.executionId, this.taskFailed('', taskScheduledId, failure));
      },
    };
  }

  private taskFailed(name: string, taskScheduledId: number, failure: FailureDetails): HistoryEvent {
    return this.event(EventType.TaskFailed, {
      TaskScheduledId: taskScheduledId,
      Reason: `Activity function '${name}' failed: ${failure.ErrorMessage}`,
      Details: failure.StackTrace,
      FailureDetails: failure,
    });
  }
}

/** Events already handed to the orchestrator once are replayed with IsPlayed set. */
function played(event: HistoryEvent): HistoryEvent {
  return { ...event, IsPlayed: true };
}

export type { EntityParent, EpisodePlan };
