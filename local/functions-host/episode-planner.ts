/**
 * Turns one episode into history and work, numbering events exactly as the durable-functions SDK
 * numbers its tasks (a mismatch never throws: the orchestration just waits forever).
 *
 * The SDK gives an id to every task it tracks, in this order: tasks the orchestrator yields (one each;
 * Task.all/any children in order), fire-and-forget calls (signalEntity one, lock release one per locked
 * entity), and, inside RetryableTask, one id when an attempt fails (the retry timer) and one when that
 * timer fires (the next attempt). The host keeps one counter per execution (`nextEventId`) and must
 * allocate in the same order:
 *  1. Incoming events that make the SDK allocate (a retryable failure, a retry timer that leads to
 *     another attempt, an interval of a long timer that is not the last) go first in the episode,
 *     and the host allocates for them before the call. They never resume the orchestrator, so
 *     nothing else gets an id in between.
 *  2. Everything else follows; it can resume the orchestrator, whose new tasks show up as NEW actions
 *     (the action list is cumulative per execution), numbered in list order after the call.
 */
import { randomUUID } from 'node:crypto';
import { lockRequestJson, operationRequestJson, releaseJson } from './entity-requests';
import type { EntityMessage, EntityParent } from './entity-scheduler';
import { parseSchedulerId, schedulerIdOf } from './entity-scheduler';
import type { FunctionCatalog } from './function-catalog';
import { EventType, type FailureDetails, type HistoryEvent, historyEvent } from './history';
import type { InstanceRecord, LongTimer, RetryChain } from './instance-store';
import {
  ActionType,
  flattenActions,
  type ReplaySchemaName,
  replaySchemaNumber,
  type WireAction,
  type WireRetryOptions,
} from './orchestrator-episode';

/**
 * Timer limits of the Azure Storage backend (AzureStorageDurabilityProvider: MaximumDelayTime 6 days,
 * LongRunningTimerIntervalLength 3 days), the values the host also sends the SDK in the trigger.
 */
export const maximumShortTimerMs = 6 * 24 * 3600 * 1000;
export const longTimerIntervalMs = 3 * 24 * 3600 * 1000;

/** What the planned work does once the episode's history is recorded. */
export interface PlanEffects {
  dispatchActivity(
    record: InstanceRecord,
    taskScheduledId: number,
    name: string,
    inputJson: string | undefined,
  ): void;
  startSubOrchestration(
    record: InstanceRecord,
    taskScheduledId: number,
    name: string,
    childInstanceId: string,
    inputJson: string | undefined,
  ): void;
  startTimer(record: InstanceRecord, timerId: number, fireAt: Date): void;
  cancelTimer(record: InstanceRecord, timerId: number): void;
  sendToEntity(target: string, message: EntityMessage): void;
  failTask(record: InstanceRecord, taskScheduledId: number, name: string, failure: FailureDetails): void;
}

export interface EpisodePlan {
  /** History events the episode decided (TaskScheduled, TimerCreated, EventSent, ...). */
  readonly decisions: HistoryEvent[];
  /** Side effects to run after the history is recorded. */
  readonly effects: Array<() => void>;
  /** Set when the extension would refuse an action: the orchestration fails with this message. */
  refusal: string | undefined;
}

function numberField(event: HistoryEvent, field: string): number | undefined {
  const value = event[field];
  return typeof value === 'number' ? value : undefined;
}

const completionTypes: ReadonlySet<number> = new Set([
  EventType.TaskCompleted,
  EventType.TaskFailed,
  EventType.SubOrchestrationInstanceCompleted,
  EventType.SubOrchestrationInstanceFailed,
]);

/** The task an activity or sub-orchestration completion answers. */
function answeredTask(event: HistoryEvent): number | undefined {
  return completionTypes.has(event.EventType) ? numberField(event, 'TaskScheduledId') : undefined;
}

function isFailure(event: HistoryEvent): boolean {
  return (
    event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed
  );
}

function retryTimer(record: InstanceRecord, event: HistoryEvent): RetryChain | undefined {
  if (event.EventType !== EventType.TimerFired) return undefined;
  const id = numberField(event, 'TimerId');
  return id === undefined ? undefined : record.retriesByTimer.get(id);
}

function longTimer(record: InstanceRecord, event: HistoryEvent): LongTimer | undefined {
  if (event.EventType !== EventType.TimerFired) return undefined;
  const id = numberField(event, 'TimerId');
  return id === undefined ? undefined : record.longTimers.get(id);
}

/**
 * The next interval of a long timer that fired at `now`, as the extension's CreateTimer loop picks
 * it: none once the final time is reached, the final time when less than an interval remains.
 */
function nextInterval(timer: LongTimer, now: Date): Date | undefined {
  const remaining = timer.finalFireAt.getTime() - now.getTime();
  if (remaining <= 0) return undefined;
  return remaining < longTimerIntervalMs ? timer.finalFireAt : new Date(now.getTime() + longTimerIntervalMs);
}

/**
 * Incoming events with the id-allocating ones first (see the file comment), otherwise in arrival
 * order. Only the first answer to a task counts: the SDK (and DTFx, which logs "Duplicate
 * TaskCompleted/TaskFailed") ignores any later completion of the same task, e.g. from an activity
 * that ran twice, so a failure that follows another answer allocates nothing.
 */
export function orderIncoming(
  record: InstanceRecord,
  events: readonly HistoryEvent[],
  now: Date,
): HistoryEvent[] {
  const allocating: HistoryEvent[] = [];
  const rest: HistoryEvent[] = [];
  const answered = new Set<number>();
  for (const event of events) {
    const taskId = answeredTask(event);
    const firstAnswer = taskId !== undefined && !answered.has(taskId);
    if (taskId !== undefined) answered.add(taskId);
    const timerChain = retryTimer(record, event);
    const leadsToAttempt =
      timerChain !== undefined && timerChain.attempt <= timerChain.options.maxNumberOfAttempts;
    const retryableFailure =
      firstAnswer && isFailure(event) && taskId !== undefined && record.retriesByTask.has(taskId);
    const interval = longTimer(record, event);
    const leadsToInterval = interval !== undefined && nextInterval(interval, now) !== undefined;
    if (retryableFailure || leadsToAttempt || leadsToInterval) allocating.push(event);
    else rest.push(event);
  }
  return [...allocating, ...rest];
}

/** DTFx's RetryInterceptor delay: first × backoff^retryIndex, capped by the maximum interval. */
export function retryDelayMs(options: WireRetryOptions, retryIndex: number): number {
  const delay = options.firstRetryIntervalInMilliseconds * (options.backoffCoefficient ?? 1) ** retryIndex;
  const cap = options.maxRetryIntervalInMilliseconds;
  return cap !== undefined && cap > 0 ? Math.min(delay, cap) : delay;
}

/** What a scheduled task gets (`inputJson`) and what its history event shows (`storedInput`). */
interface ScheduledInput {
  readonly inputJson: string | undefined;
  readonly storedInput: string | undefined;
}

/** Activity and continueAsNew inputs went through Utils.processInput: a string is already JSON text. */
function processedInputJson(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** Entity and sub-orchestration inputs are passed as given. */
function rawInputJson(input: unknown): string | undefined {
  return input === undefined ? undefined : JSON.stringify(input);
}

/**
 * A sub-orchestration's instance id. Without one, DTFx's TaskOrchestrationContext
 * (CreateSubOrchestrationInstanceCore) names the child `<parent execution id>:<task id>`, and every
 * retry attempt gets a new one.
 */
function childInstanceId(record: InstanceRecord, requested: string | undefined, taskId: number): string {
  return requested === undefined || requested === '' ? `${record.executionId}:${taskId}` : requested;
}

/**
 * The Durable extension refuses some sub-orchestration ids while replaying the actions
 * (DurableOrchestrationContext.CallDurableTaskFunctionAsync); the ArgumentException fails the
 * orchestration. Returns that message, or undefined when the id is acceptable.
 */
function refusedChildId(record: InstanceRecord, requested: string | undefined): string | undefined {
  if (requested === undefined || requested === '') return undefined;
  const same = (other: string | undefined) =>
    other !== undefined && other.toLowerCase() === requested.toLowerCase();
  if (same(record.instanceId) || same(record.parent?.instanceId)) {
    return 'The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration.';
  }
  if (requested.startsWith('@'))
    return "instanceId (Parameter 'Orchestration instance ids must not start with @')";
  return undefined;
}

const triggerOfKind = {
  activity: 'activityTrigger',
  orchestrator: 'orchestrationTrigger',
  entity: 'entityTrigger',
} as const;

/**
 * The extension's ThrowIfFunctionDoesNotExist message (DurableTaskExtension.GetInvalid*FunctionMessage)
 * for a function that is not registered, or undefined when it is.
 */
export function missingFunctionMessage(
  catalog: FunctionCatalog,
  name: string,
  kind: keyof typeof triggerOfKind,
): string | undefined {
  const trigger = triggerOfKind[kind];
  if (catalog.find(name, trigger) !== undefined) return undefined;
  const known = catalog.withTrigger(trigger).map((r) => r.metadata.name);
  const info =
    known.length > 0
      ? `The following are the known ${kind} functions: '${known.join("', '")}'.`
      : `No ${kind} functions are currently registered!`;
  return `The function '${name}' doesn't exist, is disabled, or is not an ${kind} function. Additional info: ${info}`;
}

export interface PlannerSettings {
  /** The replay schema the host negotiates: long timers are split from V3 on, refused below. */
  readonly schema: ReplaySchemaName;
  /**
   * The extension's storeInputsInOrchestrationHistory (default false): only then do TaskScheduled
   * and SubOrchestrationInstanceCreated carry the input (DTFx's IncludeParameters).
   */
  readonly storeInputs: boolean;
}

export class EpisodePlanner {
  constructor(
    private readonly fx: PlanEffects,
    private readonly settings: PlannerSettings,
    /** Calls to functions that are not registered fail the orchestration, as in the extension. */
    private readonly functions: FunctionCatalog,
  ) {}

  /** Records the first refusal of the episode; the extension stops replaying actions there. */
  private refuse(plan: EpisodePlan, message: string): void {
    plan.refusal ??= message;
  }

  newPlan(): EpisodePlan {
    return { decisions: [], effects: [], refusal: undefined };
  }

  /**
   * Allocations for the retry events at the head of an ordered batch. Any answer to a retried task
   * ends its chain here, so a later duplicate answer (at-least-once delivery) allocates nothing.
   */
  planIncoming(record: InstanceRecord, ordered: readonly HistoryEvent[], now: Date, plan: EpisodePlan): void {
    for (const event of ordered) {
      const taskId = answeredTask(event);
      const chain = taskId === undefined ? undefined : record.retriesByTask.get(taskId);
      if (taskId !== undefined && chain !== undefined) {
        record.retriesByTask.delete(taskId);
        if (!isFailure(event)) continue;
        chain.attempt += 1;
        const timerId = record.nextEventId++;
        const fireAt = new Date(now.getTime() + retryDelayMs(chain.options, chain.attempt - 2));
        plan.decisions.push(
          historyEvent(EventType.TimerCreated, now, { FireAt: fireAt.toISOString() }, timerId),
        );
        record.retriesByTimer.set(timerId, chain);
        plan.effects.push(() => this.fx.startTimer(record, timerId, fireAt));
        continue;
      }
      const interval = longTimer(record, event);
      if (interval !== undefined) {
        this.planNextInterval(record, event, interval, now, plan);
        continue;
      }
      const timerChain = retryTimer(record, event);
      if (timerChain === undefined) continue;
      record.retriesByTimer.delete(numberField(event, 'TimerId') ?? -1);
      // After the last attempt the SDK fails the task on this TimerFired and allocates nothing.
      if (timerChain.attempt > timerChain.options.maxNumberOfAttempts) continue;
      const nextTaskId = record.nextEventId++;
      record.retriesByTask.set(nextTaskId, timerChain);
      if (timerChain.kind === 'activity') {
        this.scheduleActivity(record, nextTaskId, timerChain.name, timerChain, now, plan);
      } else {
        const child = childInstanceId(record, timerChain.subInstanceId, nextTaskId);
        this.scheduleSubOrchestration(record, nextTaskId, timerChain.name, child, timerChain, now, plan);
      }
    }
  }

  /** A long timer's interval fired: the extension creates the next one until the final time. */
  private planNextInterval(
    record: InstanceRecord,
    fired: HistoryEvent,
    timer: LongTimer,
    now: Date,
    plan: EpisodePlan,
  ): void {
    record.longTimers.delete(numberField(fired, 'TimerId') ?? -1);
    const fireAt = nextInterval(timer, now);
    if (fireAt === undefined) return;
    const timerId = record.nextEventId++;
    plan.decisions.push(historyEvent(EventType.TimerCreated, now, { FireAt: fireAt.toISOString() }, timerId));
    record.longTimers.set(timerId, timer);
    record.timerByActionIndex.set(timer.actionIndex, timerId);
    plan.effects.push(() => this.fx.startTimer(record, timerId, fireAt));
  }

  /** Schedules the actions beyond those already seen in this execution, and cancels cancelled timers. */
  planActions(record: InstanceRecord, actions: unknown, now: Date, plan: EpisodePlan): void {
    const flat = flattenActions(actions);
    flat.forEach((action, index) => {
      const timerId = record.timerByActionIndex.get(index);
      if (
        action.actionType === ActionType.CreateTimer &&
        action.isCanceled === true &&
        timerId !== undefined
      ) {
        plan.effects.push(() => this.fx.cancelTimer(record, timerId));
      }
    });
    for (let index = record.actionsSeen; index < flat.length && plan.refusal === undefined; index++) {
      const action = flat[index];
      if (action !== undefined) this.planAction(record, action, index, now, plan);
    }
    record.actionsSeen = Math.max(record.actionsSeen, flat.length);
  }

  private planAction(
    record: InstanceRecord,
    action: WireAction,
    index: number,
    now: Date,
    plan: EpisodePlan,
  ): void {
    const name = action.functionName ?? '';
    const missing = this.missingFunction(action, name);
    if (missing !== undefined) {
      this.refuse(plan, missing);
      return;
    }
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const taskId = record.nextEventId++;
        const inputJson = processedInputJson(action.input);
        // DTFx stores an activity's parameters array (ScheduleTask's `params object[]`).
        const storedInput = this.settings.storeInputs ? JSON.stringify([action.input ?? null]) : undefined;
        if (action.actionType === ActionType.CallActivityWithRetry && action.retryOptions !== undefined) {
          record.retriesByTask.set(taskId, {
            kind: 'activity',
            name,
            inputJson,
            storedInput,
            options: action.retryOptions,
            subInstanceId: undefined,
            attempt: 1,
          });
        }
        this.scheduleActivity(record, taskId, name, { inputJson, storedInput }, now, plan);
        return;
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const refusal = refusedChildId(record, action.instanceId);
        if (refusal !== undefined) {
          this.refuse(plan, refusal);
          return;
        }
        const taskId = record.nextEventId++;
        const inputJson = rawInputJson(action.input);
        const storedInput = this.settings.storeInputs ? inputJson : undefined;
        if (
          action.actionType === ActionType.CallSubOrchestratorWithRetry &&
          action.retryOptions !== undefined
        ) {
          record.retriesByTask.set(taskId, {
            kind: 'subOrchestration',
            name,
            inputJson,
            storedInput,
            options: action.retryOptions,
            subInstanceId: action.instanceId,
            attempt: 1,
          });
        }
        const child = childInstanceId(record, action.instanceId, taskId);
        this.scheduleSubOrchestration(record, taskId, name, child, { inputJson, storedInput }, now, plan);
        return;
      }
      case ActionType.CreateTimer: {
        const finalFireAt = new Date(action.fireAt ?? now.toISOString());
        let fireAt = finalFireAt;
        if (finalFireAt.getTime() - now.getTime() > maximumShortTimerMs) {
          // Below V3 the extension refuses (ThrowIfInvalidTimerLengthForStorageProvider); from V3 on
          // its CreateTimer waits in intervals of 3 days.
          if (replaySchemaNumber[this.settings.schema] < replaySchemaNumber.V3) {
            this.refuse(
              plan,
              "The Azure Storage provider supports a maximum of 6 days for time-based delays (Parameter 'fireAt')",
            );
            return;
          }
          fireAt = new Date(now.getTime() + longTimerIntervalMs);
        }
        const timerId = record.nextEventId++;
        plan.decisions.push(
          historyEvent(EventType.TimerCreated, now, { FireAt: fireAt.toISOString() }, timerId),
        );
        record.timerByActionIndex.set(index, timerId);
        if (fireAt !== finalFireAt) record.longTimers.set(timerId, { finalFireAt, actionIndex: index });
        if (action.isCanceled !== true) plan.effects.push(() => this.fx.startTimer(record, timerId, fireAt));
        return;
      }
      case ActionType.CallEntity:
      case ActionType.SignalEntity:
        this.planEntityMessage(record, action, now, plan);
        return;
      case ActionType.LockEntities:
        this.planLock(record, action, now, plan);
        return;
      case ActionType.ReleaseEntities:
        this.planRelease(record, now, plan);
        return;
      case ActionType.CallHttp: {
        const taskId = record.nextEventId++;
        plan.decisions.push(
          historyEvent(EventType.TaskScheduled, now, { Name: 'BuiltIn::HttpActivity' }, taskId),
        );
        const failure: FailureDetails = {
          ErrorType: 'NotSupportedException',
          ErrorMessage: 'context.df.callHttp is not supported by the local Functions host.',
          IsNonRetriable: true,
        };
        plan.effects.push(() => this.fx.failTask(record, taskId, 'BuiltIn::HttpActivity', failure));
        return;
      }
      default:
        // WaitForExternalEvent (named, not numbered) and ContinueAsNew (handled at completion) take no id.
        return;
    }
  }

  /** The function an activity, sub-orchestration or entity action targets, when it is not registered. */
  private missingFunction(action: WireAction, name: string): string | undefined {
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry:
        return missingFunctionMessage(this.functions, name, 'activity');
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry:
        return missingFunctionMessage(this.functions, name, 'orchestrator');
      case ActionType.CallEntity:
      case ActionType.SignalEntity:
        return missingFunctionMessage(
          this.functions,
          parseSchedulerId(action.instanceId ?? '@@').name,
          'entity',
        );
      default:
        return undefined;
    }
  }

  private scheduleActivity(
    record: InstanceRecord,
    taskId: number,
    name: string,
    input: ScheduledInput,
    now: Date,
    plan: EpisodePlan,
  ): void {
    const fields = { Name: name, Input: input.storedInput };
    plan.decisions.push(historyEvent(EventType.TaskScheduled, now, fields, taskId));
    plan.effects.push(() => this.fx.dispatchActivity(record, taskId, name, input.inputJson));
  }

  private scheduleSubOrchestration(
    record: InstanceRecord,
    taskId: number,
    name: string,
    child: string,
    input: ScheduledInput,
    now: Date,
    plan: EpisodePlan,
  ): void {
    const fields = { Name: name, InstanceId: child, Input: input.storedInput };
    plan.decisions.push(historyEvent(EventType.SubOrchestrationInstanceCreated, now, fields, taskId));
    plan.effects.push(() => this.fx.startSubOrchestration(record, taskId, name, child, input.inputJson));
  }

  private planEntityMessage(record: InstanceRecord, action: WireAction, now: Date, plan: EpisodePlan): void {
    const taskId = record.nextEventId++;
    const target = action.instanceId ?? '';
    const signal = action.actionType === ActionType.SignalEntity;
    const requestId = randomUUID();
    const op = action.operation ?? '';
    const inputJson = rawInputJson(action.input);
    const request = {
      requestId,
      operation: op,
      signal,
      inputJson,
      parentInstanceId: record.instanceId,
      parentExecutionId: record.executionId,
    };
    const fields = {
      InstanceId: target,
      Name: 'op',
      Input: operationRequestJson(request, record.sentLabels, target, now),
    };
    plan.decisions.push(historyEvent(EventType.EventSent, now, fields, taskId));
    const parent: EntityParent | undefined = signal
      ? undefined
      : { instanceId: record.instanceId, executionId: record.executionId };
    plan.effects.push(() =>
      this.fx.sendToEntity(target, { kind: 'operation', id: requestId, op, signal, inputJson, parent }),
    );
  }

  private planLock(record: InstanceRecord, action: WireAction, now: Date, plan: EpisodePlan): void {
    const taskId = record.nextEventId++;
    // Already sorted and deduplicated by the SDK; the host keeps it to release the same set later.
    const entities = action.lockSet ?? [];
    const lockSet = entities.map((e) => schedulerIdOf(e.name, e.key));
    const first = lockSet[0];
    const requestId = action.lockRequestId ?? randomUUID();
    record.lockSet = lockSet;
    record.lockRequestId = requestId;
    const parent = { instanceId: record.instanceId, executionId: record.executionId };
    const input = lockRequestJson(
      { requestId, lockSet: entities },
      parent,
      record.sentLabels,
      first ?? '',
      now,
    );
    const fields = { InstanceId: first, Name: 'op', Input: input };
    plan.decisions.push(historyEvent(EventType.EventSent, now, fields, taskId));
    if (first === undefined) return;
    plan.effects.push(() =>
      this.fx.sendToEntity(first, { kind: 'lock', id: requestId, lockSet, position: 0, parent }),
    );
  }

  private planRelease(record: InstanceRecord, now: Date, plan: EpisodePlan): void {
    const held = record.lockSet ?? [];
    const requestId = record.lockRequestId ?? '';
    record.lockSet = undefined;
    record.lockRequestId = undefined;
    const parent = { instanceId: record.instanceId, executionId: record.executionId };
    for (const target of held) {
      const taskId = record.nextEventId++;
      const fields = {
        InstanceId: target,
        Name: 'release',
        Input: releaseJson(record.instanceId, requestId),
      };
      plan.decisions.push(historyEvent(EventType.EventSent, now, fields, taskId));
      plan.effects.push(() => this.fx.sendToEntity(target, { kind: 'release', parent }));
    }
  }
}

export function continueAsNewInput(actions: unknown): { found: boolean; inputJson: string | undefined } {
  const action = flattenActions(actions).find((a) => a.actionType === ActionType.ContinueAsNew);
  return action === undefined
    ? { found: false, inputJson: undefined }
    : { found: true, inputJson: processedInputJson(action.input) };
}
