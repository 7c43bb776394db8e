/** Test helpers: a host with the sample app loaded (not part of the app itself). */
import * as path from 'node:path';
import { FunctionsHost, type FunctionsHostOptions, type HistoryEvent } from '../../../local/functions-host';

export const sampleAppEntry = path.join(__dirname, 'index.ts');

export async function startSampleHost(options: FunctionsHostOptions = {}): Promise<FunctionsHost> {
  const host = await FunctionsHost.start({ clock: 'manual', ...options });
  await host.loadApp(sampleAppEntry);
  return host;
}

/** "TaskScheduled(3)"-style names of history events, to compare sequences readably. */
const eventNames: Record<number, string> = {
  0: 'ExecutionStarted',
  1: 'ExecutionCompleted',
  3: 'ExecutionTerminated',
  4: 'TaskScheduled',
  5: 'TaskCompleted',
  6: 'TaskFailed',
  7: 'SubOrchestrationInstanceCreated',
  8: 'SubOrchestrationInstanceCompleted',
  9: 'SubOrchestrationInstanceFailed',
  10: 'TimerCreated',
  11: 'TimerFired',
  12: 'OrchestratorStarted',
  13: 'OrchestratorCompleted',
  14: 'EventSent',
  15: 'EventRaised',
  16: 'ContinueAsNew',
};

export function describeEvent(event: HistoryEvent): string {
  const name = eventNames[event.EventType] ?? String(event.EventType);
  const id = event.EventId >= 0 ? event.EventId : (event['TaskScheduledId'] ?? event['TimerId']);
  return typeof id === 'number' ? `${name}(${id})` : name;
}

/**
 * The history of one activity's attempts: its TaskScheduled / TaskCompleted / TaskFailed events plus
 * every timer event (callers use it on orchestrations whose only timers are retry timers).
 */
export function retryTrail(history: readonly HistoryEvent[], activityName: string): string[] {
  const ids = new Set<number>();
  const trail: string[] = [];
  for (const event of history) {
    if (event.EventType === 4 && event['Name'] === activityName) ids.add(event.EventId);
    const taskId = event['TaskScheduledId'];
    const answersActivity = typeof taskId === 'number' && ids.has(taskId);
    const isTimer = event.EventType === 10 || event.EventType === 11;
    if ((event.EventType === 4 && ids.has(event.EventId)) || answersActivity || isTimer)
      trail.push(describeEvent(event));
  }
  return trail;
}

/** The ExecutionId recorded in a history's ExecutionStarted event. */
export function executionIdOf(history: readonly HistoryEvent[]): string {
  const instance = history.find((e) => e.EventType === 0)?.['OrchestrationInstance'];
  const executionId =
    typeof instance === 'object' && instance !== null
      ? (instance as Record<string, unknown>)['ExecutionId']
      : undefined;
  if (typeof executionId !== 'string')
    throw new Error('The history has no ExecutionStarted with an ExecutionId.');
  return executionId;
}
