/**
 * How an execution ends (completed, failed, terminated, continued as new) and what each ending
 * writes to history and tells the parent orchestration, as DTFx does.
 */
import { randomUUID } from 'node:crypto';
import type { ClockTimer } from './clock';
import { EventType, type FailureDetails, type HistoryEvent, historyEvent } from './history';
import { type InstanceRecord, recordHistoryBytes } from './instance-store';

export interface EndingContext {
  cancelTimer(timer: ClockTimer): void;
  releaseLocks(instanceId: string): void;
  deliver(instanceId: string, executionId: string | undefined, event: HistoryEvent): void;
}

/** A new execution id, formatted as DTFx does (Guid.ToString("N"): 32 hex digits, no dashes). */
export function newExecutionId(): string {
  return randomUUID().replace(/-/g, '');
}

/** Events already handed to the orchestrator once are replayed with IsPlayed set. */
export function played(event: HistoryEvent): HistoryEvent {
  return { ...event, IsPlayed: true };
}

export function executionStartedEvent(record: InstanceRecord, now: Date): HistoryEvent {
  const parent = record.parent;
  return historyEvent(EventType.ExecutionStarted, now, {
    Name: record.name,
    Input: record.inputJson,
    OrchestrationInstance: { InstanceId: record.instanceId, ExecutionId: record.executionId },
    ParentInstance:
      parent === undefined
        ? undefined
        : {
            Name: parent.name,
            TaskScheduleId: parent.taskScheduledId,
            OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
          },
  });
}

/** Stops an execution's pending work: timers, retry chains and entity locks. */
export function endExecution(record: InstanceRecord, ctx: EndingContext): void {
  for (const timer of record.timers.values()) ctx.cancelTimer(timer);
  record.timers.clear();
  record.retriesByTask.clear();
  record.retriesByTimer.clear();
  record.timerByActionIndex.clear();
  record.longTimers.clear();
  record.lockSet = undefined;
  record.lockRequestId = undefined;
  ctx.releaseLocks(record.instanceId);
}

export function completeExecution(
  record: InstanceRecord,
  output: unknown,
  now: Date,
  ctx: EndingContext,
): void {
  const resultJson = output === undefined ? undefined : JSON.stringify(output);
  record.status = 'Completed';
  record.outputJson = resultJson;
  const completed = { OrchestrationStatus: 'Completed', Result: resultJson };
  record.history.push(
    played(historyEvent(EventType.ExecutionCompleted, now, completed, record.nextEventId++)),
    played(historyEvent(EventType.OrchestratorCompleted, now)),
  );
  endExecution(record, ctx);
  const parent = record.parent;
  if (parent === undefined) return;
  const event = historyEvent(EventType.SubOrchestrationInstanceCompleted, now, {
    TaskScheduledId: parent.taskScheduledId,
    Result: resultJson ?? 'null',
  });
  ctx.deliver(parent.instanceId, parent.executionId, event);
}

export function failExecution(
  record: InstanceRecord,
  message: string,
  stack: string | undefined,
  now: Date,
  ctx: EndingContext,
): void {
  const failure: FailureDetails = {
    ErrorType: 'Error',
    ErrorMessage: message,
    StackTrace: stack,
    IsNonRetriable: false,
  };
  record.status = 'Failed';
  record.failure = failure;
  record.outputJson = JSON.stringify(`Orchestrator function '${record.name}' failed: ${message}`);
  const completed = { OrchestrationStatus: 'Failed', Result: record.outputJson, FailureDetails: failure };
  record.history.push(
    played(historyEvent(EventType.ExecutionCompleted, now, completed, record.nextEventId++)),
    played(historyEvent(EventType.OrchestratorCompleted, now)),
  );
  endExecution(record, ctx);
  notifyParentOfFailure(record, message, now, ctx);
}

/**
 * Terminated instances also fail their parent's task (so a parent never waits forever); whether
 * the real extension notifies the parent could not be checked offline.
 */
export function terminateExecution(
  record: InstanceRecord,
  reason: string,
  now: Date,
  ctx: EndingContext,
): void {
  record.status = 'Terminated';
  record.outputJson = JSON.stringify(reason);
  record.history.push(played(historyEvent(EventType.ExecutionTerminated, now, { Input: reason })));
  record.inbox = [];
  record.lastUpdatedTime = now;
  recordHistoryBytes(record);
  endExecution(record, ctx);
  notifyParentOfFailure(record, `Orchestration '${record.instanceId}' was terminated: ${reason}`, now, ctx);
}

function notifyParentOfFailure(record: InstanceRecord, message: string, now: Date, ctx: EndingContext): void {
  const parent = record.parent;
  if (parent === undefined) return;
  const failure: FailureDetails = { ErrorType: 'Error', ErrorMessage: message, IsNonRetriable: false };
  const event = historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
    TaskScheduledId: parent.taskScheduledId,
    Reason: `Orchestrator function '${record.name}' failed: ${message}`,
    Details: record.failure?.StackTrace,
    FailureDetails: failure,
  });
  ctx.deliver(parent.instanceId, parent.executionId, event);
}

/** continueAsNew: a fresh execution (new history, event ids from 0) with the new input. */
export function startNextExecution(
  record: InstanceRecord,
  inputJson: string | undefined,
  now: Date,
  ctx: EndingContext,
): void {
  record.history.push(
    played(historyEvent(EventType.ContinueAsNew, now, { Result: inputJson }, record.nextEventId++)),
    played(historyEvent(EventType.OrchestratorCompleted, now)),
  );
  recordHistoryBytes(record);
  endExecution(record, ctx);
  record.status = 'ContinuedAsNew';
  record.executionId = newExecutionId();
  record.generation += 1;
  record.history = [];
  record.nextEventId = 0;
  record.actionsSeen = 0;
  record.sentLabels.clear();
  record.inputJson = inputJson;
  // Events raised by clients that the old execution did not consume carry over; replies meant for
  // the old execution (activity results, entity responses) are dropped.
  const carried = record.inbox.filter((i) => i.executionId === undefined);
  record.inbox = [{ event: executionStartedEvent(record, now), executionId: record.executionId }, ...carried];
}
