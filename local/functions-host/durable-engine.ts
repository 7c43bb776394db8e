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
import { EntityScheduler, schedulerIdOf } from './entity-scheduler';
import { continueAsNewInput, EpisodePlanner, missingFunctionMessage, orderIncoming } from './episode-planner';
import {
  completeExecution,
  type EndingContext,
  endExecution,
  executionStartedEvent,
  failExecution,
  newExecutionId,
  played,
  startNextExecution,
  terminateExecution,
} from './execution-endings';
import type { FaultInjector } from './faults';
import type { FunctionCatalog } from './function-catalog';
import { EventType, type HistoryEvent, historyEvent } from './history';
import { checkEntityKey, checkInstanceId } from './instance-ids';
import {
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
import { type EpisodeOutcome, type ReplaySchemaName, runEpisode } from './orchestrator-episode';
import { createPlanEffects } from './plan-effects';
import type { RpcLogLevel, RpcParameterBinding } from './rpc-types';
import { parseJsonText } from './typed-data';
import { Limiter, type WorkTracker } from './work-tracker';

export type OverridableStates = 'AnyState' | 'NonRunningStates';

/**
 * Two client starts of one instance id that is not running, the second arriving while the first is
 * still Pending (its ExecutionStarted not yet processed). `off`: they are sequential, as before.
 * Otherwise both read the instance table before either wrote it (azure-reference.md §10): both
 * report success and only one instance runs; `firstWins` (the Azure Storage backend, whose second
 * table write fails with 409/412 and is ignored) or `lastWins`.
 */
export type StartRaceMode = 'off' | 'firstWins' | 'lastWins';

export interface DurableEngineOptions {
  readonly schema: ReplaySchemaName;
  readonly overridableExistingInstanceStates: OverridableStates;
  readonly startRace: StartRaceMode;
  /** Longest instance id a client may start (the Durable docs' limit, 100, by default). */
  readonly maxInstanceIdLength: number;
  /** Whether TaskScheduled / SubOrchestrationInstanceCreated keep their input (extension default: no). */
  readonly storeInputsInOrchestrationHistory: boolean;
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
  readonly log: (level: RpcLogLevel, message: string) => void;
}

/** Reported after every episode (e.g. to chart history growth per processed block). */
export interface EpisodeReport {
  readonly instanceId: string;
  /** The execution the episode ran in (a continueAsNew starts a new one). */
  readonly executionId: string;
  readonly name: string;
  readonly episode: number;
  readonly runtimeStatus: InstanceStatus['runtimeStatus'];
  readonly historyEvents: number;
  readonly historyBytes: number;
  /**
   * That execution's history so far, including the ending a continueAsNew wrote before the next
   * execution started. A live view: copy what you keep, never modify it.
   */
  readonly history: readonly HistoryEvent[];
}

/** Thrown by startNew when `NonRunningStates` forbids replacing an instance. */
export class InstanceExistsError extends Error {
  override readonly name = 'InstanceExistsError';
}

/** Thrown for a function that is not registered (the extension's ThrowIfFunctionDoesNotExist). */
export class UnknownFunctionError extends Error {
  override readonly name = 'UnknownFunctionError';
}

export type ClientResult = 'accepted' | 'notFound' | 'gone';

/** Why an episode fails its orchestration: an action the extension refuses, or the orchestrator's error. */
function episodeFailure(
  outcome: EpisodeOutcome,
  refusal: string | undefined,
): { message: string; stack: string | undefined } | undefined {
  if (refusal !== undefined) return { message: refusal, stack: undefined };
  return outcome.kind === 'failed' ? { message: outcome.message, stack: outcome.stack } : undefined;
}

export class DurableEngine {
  readonly counters: HostCounters = newCounters();
  readonly instances = new InstanceStore();
  readonly entities: EntityScheduler;
  readonly activities: ActivityRunner;
  private readonly orchestrationLimiter: Limiter;
  private readonly planner: EpisodePlanner;
  private readonly endings: EndingContext;
  private readonly episodeListeners = new Set<(report: EpisodeReport) => void>();
  private stopped = false;
  private held = false;

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
      respond: (parent, response) => {
        const fields = { Name: response.requestId, Input: response.inputJson };
        this.deliver(
          parent.instanceId,
          parent.executionId,
          historyEvent(EventType.EventRaised, deps.clock.now(), fields),
        );
      },
      counters: this.counters,
      work: deps.work,
      // The extension's maxConcurrentOrchestratorFunctions also caps entities.
      limiter: this.orchestrationLimiter,
      maxBatch: options.maxEntityOperationBatchSize,
      now: () => deps.clock.now(),
    });
    this.endings = {
      cancelTimer: (timer) => deps.clock.cancel(timer),
      releaseLocks: (instanceId) => this.entities.releaseAll(instanceId),
      deliver: (instanceId, executionId, event) => this.deliver(instanceId, executionId, event),
    };
    this.planner = new EpisodePlanner(
      createPlanEffects({
        activities: this.activities,
        entities: this.entities,
        clock: deps.clock,
        deliver: (instanceId, executionId, event) => this.deliver(instanceId, executionId, event),
        createChild: (name, instanceId, inputJson, parent) =>
          this.createInstance(name, instanceId, inputJson, parent),
        log: deps.log,
      }),
      { schema: options.schema, storeInputs: options.storeInputsInOrchestrationHistory },
      deps.catalog,
    );
  }

  // ---- client operations -------------------------------------------------------------------------

  /**
   * Starts (or, as the policy allows, replaces) an instance; returns its id. An empty or missing id
   * gets a new GUID, as in the extension; an invalid one throws InvalidInstanceIdError.
   */
  startNew(name: string, options: { instanceId?: string; input?: unknown; inputJson?: string } = {}): string {
    const missing = missingFunctionMessage(this.deps.catalog, name, 'orchestrator');
    if (missing !== undefined) throw new UnknownFunctionError(missing);
    const requested = options.instanceId;
    const instanceId =
      requested === undefined || requested === '' ? randomUUID().replace(/-/g, '') : requested;
    checkInstanceId(instanceId, this.options.maxInstanceIdLength);
    const inputJson =
      options.inputJson ?? (options.input === undefined ? undefined : JSON.stringify(options.input));
    if (this.lostStartRace(instanceId)) return instanceId;
    const refusal = this.createInstance(name, instanceId, inputJson, undefined, {
      racing: this.options.startRace === 'lastWins' && this.isStartPending(instanceId),
    });
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
    const event = historyEvent(EventType.EventRaised, this.deps.clock.now(), {
      Name: eventName,
      Input: input,
    });
    this.deliver(instanceId, undefined, event);
    return 'accepted';
  }

  terminate(instanceId: string, reason: string | undefined): ClientResult {
    const record = this.instances.get(instanceId);
    if (record === undefined) return 'notFound';
    if (terminalStatuses.includes(record.status)) return 'gone';
    terminateExecution(record, reason ?? '', this.deps.clock.now(), this.endings);
    return 'accepted';
  }

  /** Deletes an instance in any state (as the Azure Storage backend does), stopping its work. */
  purge(instanceId: string): boolean {
    if (instanceId.startsWith('@')) return this.entities.remove(instanceId);
    const record = this.instances.get(instanceId);
    if (record === undefined) return false;
    endExecution(record, this.endings);
    return this.instances.delete(instanceId);
  }

  purgeBy(query: InstanceQuery): number {
    const matching = this.instances.query(query);
    for (const record of matching) this.purge(record.instanceId);
    return matching.length;
  }

  signalEntity(name: string, key: string, operation: string, inputJson: string | undefined): void {
    checkEntityKey(key);
    const missing = missingFunctionMessage(this.deps.catalog, name, 'entity');
    if (missing !== undefined) throw new UnknownFunctionError(missing);
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

  /** Calls `listener` after every episode; returns a function that unsubscribes it. */
  onEpisode(listener: (report: EpisodeReport) => void): () => void {
    this.episodeListeners.add(listener);
    return () => this.episodeListeners.delete(listener);
  }

  /**
   * Holds episodes back: events keep arriving in the inboxes and run as one batch per instance when
   * the returned function is called. Lets a test decide which events share an episode.
   */
  holdEpisodes(): () => void {
    this.held = true;
    return () => {
      this.held = false;
      for (const record of this.instances.all()) if (record.inbox.length > 0) this.schedule(record);
    };
  }

  /** Cancels everything scheduled and accepts no more work (host.stop()). */
  shutdown(): void {
    this.stopped = true;
    for (const record of this.instances.all()) {
      record.inbox = [];
      endExecution(record, this.endings);
    }
  }

  // ---- instances and delivery ----------------------------------------------------------------------

  /** An instance a client started whose ExecutionStarted has not been processed yet. */
  private isStartPending(instanceId: string): boolean {
    const existing = this.instances.get(instanceId);
    return existing !== undefined && existing.status === 'Pending' && existing.parent === undefined;
  }

  /**
   * Under `startRace: 'firstWins'`, a start racing a pending one reports success and starts nothing:
   * its ExecutionStarted message is discarded because the instance table names the first execution.
   */
  private lostStartRace(instanceId: string): boolean {
    if (this.options.startRace !== 'firstWins' || !this.isStartPending(instanceId)) return false;
    this.counters.startsLostToRace += 1;
    this.deps.log('warning', `A racing start of '${instanceId}' reported success; the first start runs.`);
    return true;
  }

  /** Creates an instance and queues its ExecutionStarted; returns a refusal message when not allowed. */
  private createInstance(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: InstanceRecord['parent'],
    start: { racing: boolean } = { racing: false },
  ): string | undefined {
    const existing = this.instances.get(instanceId);
    if (existing !== undefined) {
      const running = runningStatuses.includes(existing.status);
      if (start.racing) {
        // lastWins: the first start read "not running" too; its pending execution is replaced.
        this.counters.startsLostToRace += 1;
        this.deps.log('warning', `A racing start of '${instanceId}' replaced the pending one.`);
      } else if (running && this.options.overridableExistingInstanceStates === 'NonRunningStates') {
        return `An Orchestration instance with the status ${existing.status} already exists.`;
      }
      endExecution(existing, this.endings);
    }
    const now = this.deps.clock.now();
    const record = newInstanceRecord(instanceId, name, newExecutionId(), now);
    record.inputJson = inputJson;
    record.parent = parent;
    record.inbox.push({ event: executionStartedEvent(record, now), executionId: record.executionId });
    this.instances.put(record);
    this.counters.orchestrationsStarted += 1;
    this.schedule(record);
    return undefined;
  }

  /** Queues an event for an instance's execution (undefined: the current one) and runs an episode. */
  private deliver(instanceId: string, executionId: string | undefined, event: HistoryEvent): void {
    const record = this.instances.get(instanceId);
    if (this.stopped || record === undefined || terminalStatuses.includes(record.status)) return;
    if (executionId !== undefined && executionId !== record.executionId) return;
    record.inbox.push({ event, executionId });
    this.schedule(record);
  }

  /** Runs episodes for an instance until its inbox is empty; never two at once for one instance. */
  private schedule(record: InstanceRecord): void {
    if (record.episodeRunning || this.stopped || this.held) return; // a running loop picks new events up
    record.episodeRunning = true;
    this.deps.work.run(async () => {
      try {
        while (record.inbox.length > 0 && this.isLive(record) && !this.stopped && !this.held) {
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

  // ---- episodes ------------------------------------------------------------------------------------

  private async runOneEpisode(record: InstanceRecord): Promise<void> {
    const executionId = record.executionId;
    const incoming = record.inbox
      .splice(0)
      .filter((i) => i.executionId === undefined || i.executionId === executionId);
    if (incoming.length === 0) return;
    // continueAsNew replaces the array; the report shows this execution's whole history.
    const executionHistory = record.history;
    const now = this.deps.clock.now();
    if (record.status === 'Pending' || record.status === 'ContinuedAsNew') record.status = 'Running';
    record.episodes += 1;
    this.counters.orchestratorEpisodes += 1;
    const started = historyEvent(EventType.OrchestratorStarted, now);
    const ordered = orderIncoming(
      record,
      incoming.map((i) => i.event),
      now,
    );
    const plan = this.planner.newPlan();
    this.planner.planIncoming(record, ordered, now, plan);
    const outcome = await this.invokeOrchestrator(record, [...record.history, started, ...ordered]);
    // Terminated, purged or replaced while the orchestrator ran: its decisions are void.
    if (!this.isLive(record) || record.executionId !== executionId || this.stopped) return;

    // The extension replays the actions of a failed orchestrator too (a signal sent before the throw
    // is sent) before it fails the orchestration (OutOfProcOrchestrationShim.ScheduleDurableTaskEvents).
    if (outcome.state !== undefined) this.planner.planActions(record, outcome.state.actions, now, plan);
    record.customStatus = outcome.state?.customStatus;
    record.history.push(...[started, ...ordered, ...plan.decisions].map(played));
    record.lastUpdatedTime = now;
    for (const effect of plan.effects) effect();

    const failure = episodeFailure(outcome, plan.refusal);
    if (failure !== undefined) {
      this.deps.log(
        'error',
        `Orchestrator '${record.name}' (${record.instanceId}) failed: ${failure.message}`,
      );
      failExecution(record, failure.message, failure.stack, now, this.endings);
    } else if (outcome.kind === 'state' && outcome.state.isDone) {
      const next = continueAsNewInput(outcome.state.actions);
      if (next.found) startNextExecution(record, next.inputJson, now, this.endings);
      else completeExecution(record, outcome.state.output, now, this.endings);
    } else {
      record.history.push(played(historyEvent(EventType.OrchestratorCompleted, now)));
    }
    recordHistoryBytes(record);
    this.report(record, executionId, executionHistory);
  }

  private async invokeOrchestrator(record: InstanceRecord, history: HistoryEvent[]): Promise<EpisodeOutcome> {
    const registration = this.deps.catalog.find(record.name, 'orchestrationTrigger');
    if (registration === undefined) {
      const message = `The function '${record.name}' doesn't exist, is disabled, or is not an orchestrator function.`;
      return { kind: 'failed', message, state: undefined, stack: undefined };
    }
    return runEpisode(this.deps.invoker, registration, {
      instanceId: record.instanceId,
      history,
      input: parseJsonText(record.inputJson),
      parentInstanceId: record.parent?.instanceId,
      schema: this.options.schema,
    });
  }

  private report(record: InstanceRecord, executionId: string, history: readonly HistoryEvent[]): void {
    const report: EpisodeReport = {
      instanceId: record.instanceId,
      executionId,
      history,
      name: record.name,
      episode: record.episodes,
      runtimeStatus: record.status,
      historyEvents: record.history.length,
      historyBytes: record.historyBytes,
    };
    for (const listener of this.episodeListeners) listener(report);
  }
}
