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
 *     another attempt) go first in the episode, and the host allocates for them before the call.
 *     They never resume the orchestrator, so nothing else gets an id in between.
 *  2. Everything else follows; it can resume the orchestrator, whose new tasks show up as NEW actions
 *     (the action list is cumulative per execution), numbered in list order after the call.
 */
import { randomUUID } from 'node:crypto';
import type { EntityMessage, EntityParent } from './entity-scheduler';
import { schedulerIdOf } from './entity-scheduler';
import { EventType, type FailureDetails, type HistoryEvent, historyEvent } from './history';
import type { InstanceRecord, RetryChain } from './instance-store';
import { ActionType, flattenActions, type WireAction, type WireRetryOptions } from './orchestrator-episode';

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
  failTask(record: InstanceRecord, taskScheduledId: number, failure: FailureDetails): void;
}

export interface EpisodePlan {
  /** History events the episode decided (TaskScheduled, TimerCreated, EventSent, ...). */
  readonly decisions: HistoryEvent[];
  /** Side effects to run after the history is recorded. */
  readonly effects: Array<() => void>;
}

function numberField(event: HistoryEvent, field: string): number | undefined {
  const value = event[field];
  return typeof value === 'number' ? value : undefined;
}

function retryableFailure(record: InstanceRecord, event: HistoryEvent): RetryChain | undefined {
  if (
    event.EventType !== EventType.TaskFailed &&
    event.EventType !== EventType.SubOrchestrationInstanceFailed
  ) {
    return undefined;
  }
  const id = numberField(event, 'TaskScheduledId');
  return id === undefined ? undefined : record.retriesByTask.get(id);
}

function retryTimer(record: InstanceRecord, event: HistoryEvent): RetryChain | undefined {
  if (event.EventType !== EventType.TimerFired) return undefined;
  const id = numberField(event, 'TimerId');
  return id === undefined ? undefined : record.retriesByTimer.get(id);
}

/** Incoming events with the id-allocating ones first (see the file comment), otherwise in arrival order. */
export function orderIncoming(record: InstanceRecord, events: readonly HistoryEvent[]): HistoryEvent[] {
  const allocating: HistoryEvent[] = [];
  const rest: HistoryEvent[] = [];
  for (const event of events) {
    const timerChain = retryTimer(record, event);
    const leadsToAttempt =
      timerChain !== undefined && timerChain.attempt <= timerChain.options.maxNumberOfAttempts;
    if (retryableFailure(record, event) !== undefined || leadsToAttempt) allocating.push(event);
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

/** Activity and continueAsNew inputs went through Utils.processInput: a string is already JSON text. */
function processedInputJson(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** Entity and sub-orchestration inputs are passed as given. */
function rawInputJson(input: unknown): string | undefined {
  return input === undefined ? undefined : JSON.stringify(input);
}

function childInstanceId(record: InstanceRecord, requested: string | undefined, taskId: number): string {
  return requested ?? `${record.instanceId}:${taskId.toString(16).toUpperCase().padStart(4, '0')}`;
}

export class EpisodePlanner {
  constructor(private readonly fx: PlanEffects) {}

  newPlan(): EpisodePlan {
    return { decisions: [], effects: [] };
  }

  /** Allocations for the retry events at the head of an ordered batch. */
  planIncoming(record: InstanceRecord, ordered: readonly HistoryEvent[], now: Date, plan: EpisodePlan): void {
    for (const event of ordered) {
      const failedChain = retryableFailure(record, event);
      if (failedChain !== undefined) {
        record.retriesByTask.delete(numberField(event, 'TaskScheduledId') ?? -1);
        failedChain.attempt += 1;
        const timerId = record.nextEventId++;
        const fireAt = new Date(now.getTime() + retryDelayMs(failedChain.options, failedChain.attempt - 2));
        plan.decisions.push(
          historyEvent(EventType.TimerCreated, now, { FireAt: fireAt.toISOString() }, timerId),
        );
        record.retriesByTimer.set(timerId, failedChain);
        plan.effects.push(() => this.fx.startTimer(record, timerId, fireAt));
        continue;
      }
      const timerChain = retryTimer(record, event);
      if (timerChain === undefined) continue;
      record.retriesByTimer.delete(numberField(event, 'TimerId') ?? -1);
      // After the last attempt the SDK fails the task on this TimerFired and allocates nothing.
      if (timerChain.attempt > timerChain.options.maxNumberOfAttempts) continue;
      const taskId = record.nextEventId++;
      record.retriesByTask.set(taskId, timerChain);
      if (timerChain.kind === 'activity') {
        this.scheduleActivity(record, taskId, timerChain.name, timerChain.inputJson, now, plan);
      } else {
        const child = childInstanceId(record, timerChain.subInstanceId, taskId);
        this.scheduleSubOrchestration(
          record,
          taskId,
          timerChain.name,
          child,
          timerChain.inputJson,
          now,
          plan,
        );
      }
    }
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
    for (let index = record.actionsSeen; index < flat.length; index++) {
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
    switch (action.actionType) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const taskId = record.nextEventId++;
        const inputJson = processedInputJson(action.input);
        if (action.actionType === ActionType.CallActivityWithRetry && action.retryOptions !== undefined) {
          record.retriesByTask.set(taskId, {
            kind: 'activity',
            name,
            inputJson,
            options: action.retryOptions,
            subInstanceId: undefined,
            attempt: 1,
          });
        }
        this.scheduleActivity(record, taskId, name, inputJson, now, plan);
        return;
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const taskId = record.nextEventId++;
        const inputJson = rawInputJson(action.input);
        if (
          action.actionType === ActionType.CallSubOrchestratorWithRetry &&
          action.retryOptions !== undefined
        ) {
          record.retriesByTask.set(taskId, {
            kind: 'subOrchestration',
            name,
            inputJson,
            options: action.retryOptions,
            subInstanceId: action.instanceId,
            attempt: 1,
          });
        }
        const child = childInstanceId(record, action.instanceId, taskId);
        this.scheduleSubOrchestration(record, taskId, name, child, inputJson, now, plan);
        return;
      }
      case ActionType.CreateTimer: {
        const timerId = record.nextEventId++;
        const fireAt = new Date(action.fireAt ?? now.toISOString());
        plan.decisions.push(
          historyEvent(EventType.TimerCreated, now, { FireAt: fireAt.toISOString() }, timerId),
        );
        record.timerByActionIndex.set(index, timerId);
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
        plan.effects.push(() => this.fx.failTask(record, taskId, failure));
        return;
      }
      default:
        // WaitForExternalEvent (named, not numbered) and ContinueAsNew (handled at completion) take no id.
        return;
    }
  }

  private scheduleActivity(
    record: InstanceRecord,
    taskId: number,
    name: string,
    inputJson: string | undefined,
    now: Date,
    plan: EpisodePlan,
  ): void {
    plan.decisions.push(historyEvent(EventType.TaskScheduled, now, { Name: name, Input: inputJson }, taskId));
    plan.effects.push(() => this.fx.dispatchActivity(record, taskId, name, inputJson));
  }

  private scheduleSubOrchestration(
    record: InstanceRecord,
    taskId: number,
    name: string,
    child: string,
    inputJson: string | undefined,
    now: Date,
    plan: EpisodePlan,
  ): void {
    const fields = { Name: name, InstanceId: child, Input: inputJson };
    plan.decisions.push(historyEvent(EventType.SubOrchestrationInstanceCreated, now, fields, taskId));
    plan.effects.push(() => this.fx.startSubOrchestration(record, taskId, name, child, inputJson));
  }

  private planEntityMessage(record: InstanceRecord, action: WireAction, now: Date, plan: EpisodePlan): void {
    const taskId = record.nextEventId++;
    const target = action.instanceId ?? '';
    const signal = action.actionType === ActionType.SignalEntity;
    const requestId = randomUUID();
    const op = action.operation ?? '';
    const inputJson = rawInputJson(action.input);
    const request = { id: requestId, op, signal, input: inputJson, parent: record.instanceId };
    const fields = { InstanceId: target, Name: 'op', Input: JSON.stringify(request) };
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
    const lockSet = (action.lockSet ?? []).map((e) => schedulerIdOf(e.name, e.key));
    const first = lockSet[0];
    const requestId = action.lockRequestId ?? randomUUID();
    record.lockSet = lockSet;
    const request = {
      id: requestId,
      op: null,
      signal: false,
      lockset: lockSet,
      pos: 0,
      parent: record.instanceId,
    };
    const fields = { InstanceId: first, Name: 'op', Input: JSON.stringify(request) };
    plan.decisions.push(historyEvent(EventType.EventSent, now, fields, taskId));
    if (first === undefined) return;
    const parent = { instanceId: record.instanceId, executionId: record.executionId };
    plan.effects.push(() =>
      this.fx.sendToEntity(first, { kind: 'lock', id: requestId, lockSet, position: 0, parent }),
    );
  }

  private planRelease(record: InstanceRecord, now: Date, plan: EpisodePlan): void {
    const held = record.lockSet ?? [];
    record.lockSet = undefined;
    const parent = { instanceId: record.instanceId, executionId: record.executionId };
    for (const target of held) {
      const taskId = record.nextEventId++;
      const fields = {
        InstanceId: target,
        Name: 'release',
        Input: JSON.stringify({ parent: record.instanceId }),
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
