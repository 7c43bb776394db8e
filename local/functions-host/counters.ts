/** Execution counters the host keeps (what a test or a benchmark wants to know about the run). */

export interface HostCounters {
  /** Activity attempts, including those replaced by an injected fault. */
  activityExecutions: number;
  activityFailures: number;
  activityExecutionsByName: Record<string, number>;
  entityOperations: number;
  entityBatches: number;
  entityOperationsByName: Record<string, number>;
  orchestratorEpisodes: number;
  orchestrationsStarted: number;
  injectedFaults: number;
  /** Activity executions run a second time by `faults.duplicateActivity` (at-least-once delivery). */
  duplicateActivityExecutions: number;
  /** Client starts that reported success but lost a start race (`startRace`). */
  startsLostToRace: number;
}

export function newCounters(): HostCounters {
  return {
    activityExecutions: 0,
    activityFailures: 0,
    activityExecutionsByName: {},
    entityOperations: 0,
    entityBatches: 0,
    entityOperationsByName: {},
    orchestratorEpisodes: 0,
    orchestrationsStarted: 0,
    injectedFaults: 0,
    duplicateActivityExecutions: 0,
    startsLostToRace: 0,
  };
}

export function bump(table: Record<string, number>, key: string, by = 1): void {
  table[key] = (table[key] ?? 0) + by;
}
