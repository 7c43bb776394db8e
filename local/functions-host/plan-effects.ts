/**
 * The side effects of an episode's decisions: run activities, start sub-orchestrations and timers,
 * message entities. Each result comes back to the orchestration as a history event.
 */
import type { ActivityRunner } from './activity-runner';
import type { HostClock } from './clock';
import type { EntityScheduler } from './entity-scheduler';
import type { PlanEffects } from './episode-planner';
import { EventType, type FailureDetails, type HistoryEvent, historyEvent } from './history';
import type { InstanceRecord } from './instance-store';

export interface EffectsContext {
  readonly activities: ActivityRunner;
  readonly entities: EntityScheduler;
  readonly clock: HostClock;
  deliver(instanceId: string, executionId: string | undefined, event: HistoryEvent): void;
  /** Creates a child instance; returns a refusal message when the id is taken by a running instance. */
  createChild(
    name: string,
    instanceId: string,
    inputJson: string | undefined,
    parent: InstanceRecord['parent'],
  ): string | undefined;
  log(level: 'information' | 'warning' | 'error', message: string): void;
}

export function taskFailedEvent(
  name: string,
  taskScheduledId: number,
  failure: FailureDetails,
  now: Date,
): HistoryEvent {
  return historyEvent(EventType.TaskFailed, now, {
    TaskScheduledId: taskScheduledId,
    Reason: `Activity function '${name}' failed: ${failure.ErrorMessage}`,
    Details: failure.StackTrace,
    FailureDetails: failure,
  });
}

export function createPlanEffects(ctx: EffectsContext): PlanEffects {
  const now = () => ctx.clock.now();
  return {
    dispatchActivity(record, taskScheduledId, name, inputJson) {
      const executionId = record.executionId;
      const job = { instanceId: record.instanceId, taskScheduledId, name, inputJson };
      ctx.activities.run(job, (outcome) => {
        if (!outcome.ok) {
          ctx.log(
            'warning',
            `Activity '${name}' (task ${taskScheduledId} of ${record.instanceId}) failed: ${outcome.failure.ErrorMessage}`,
          );
        }
        const event = outcome.ok
          ? historyEvent(EventType.TaskCompleted, now(), {
              TaskScheduledId: taskScheduledId,
              Result: outcome.resultJson,
            })
          : taskFailedEvent(name, taskScheduledId, outcome.failure, now());
        ctx.deliver(record.instanceId, executionId, event);
      });
    },
    startSubOrchestration(record, taskScheduledId, name, childInstanceId, inputJson) {
      const parent = {
        instanceId: record.instanceId,
        name: record.name,
        executionId: record.executionId,
        taskScheduledId,
      };
      const refusal = ctx.createChild(name, childInstanceId, inputJson, parent);
      if (refusal === undefined) return;
      const failure: FailureDetails = {
        ErrorType: 'InvalidOperationException',
        ErrorMessage: refusal,
        IsNonRetriable: true,
      };
      const event = historyEvent(EventType.SubOrchestrationInstanceFailed, now(), {
        TaskScheduledId: taskScheduledId,
        Reason: refusal,
        FailureDetails: failure,
      });
      ctx.deliver(record.instanceId, record.executionId, event);
    },
    startTimer(record, timerId, fireAt) {
      const executionId = record.executionId;
      const timer = ctx.clock.setTimer(fireAt, () => {
        record.timers.delete(timerId);
        const fired = historyEvent(EventType.TimerFired, now(), {
          TimerId: timerId,
          FireAt: fireAt.toISOString(),
        });
        ctx.deliver(record.instanceId, executionId, fired);
      });
      record.timers.set(timerId, timer);
    },
    cancelTimer(record, timerId) {
      ctx.clock.cancel(record.timers.get(timerId));
      record.timers.delete(timerId);
    },
    sendToEntity(target, message) {
      ctx.entities.send(target, message);
    },
    failTask(record, taskScheduledId, name, failure) {
      ctx.deliver(
        record.instanceId,
        record.executionId,
        taskFailedEvent(name, taskScheduledId, failure, now()),
      );
    },
  };
}
