/**
 * Orchestration instances as the Durable extension tracks them: runtime status, input/output,
 * custom status, the current execution's history, and the bookkeeping the local engine needs to keep
 * event ids in step with the SDK (next event id, actions already scheduled, retry chains, timers).
 */
import type { ClockTimer } from './clock';
import type { SentLabels } from './entity-requests';
import { type FailureDetails, type HistoryEvent, historyByteLength } from './history';
import type { WireRetryOptions } from './orchestrator-episode';
import { parseJsonText } from './typed-data';

export type RuntimeStatus =
  | 'Pending'
  | 'Running'
  | 'Completed'
  | 'ContinuedAsNew'
  | 'Failed'
  | 'Canceled'
  | 'Terminated'
  | 'Suspended';

/** Statuses `NonRunningStates` refuses to overwrite. */
export const runningStatuses: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'ContinuedAsNew',
  'Suspended',
];
export const terminalStatuses: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated', 'Canceled'];

export interface ParentRef {
  readonly instanceId: string;
  /** The parent's orchestrator name (ExecutionStarted.ParentInstance.Name). */
  readonly name: string;
  readonly executionId: string;
  readonly taskScheduledId: number;
}

/** A new event waiting for the next episode; `executionId` undefined means "whatever execution is current". */
export interface InboxItem {
  readonly event: HistoryEvent;
  readonly executionId: string | undefined;
}

/** A callActivityWithRetry / callSubOrchestratorWithRetry in progress (the host writes the retries). */
export interface RetryChain {
  readonly kind: 'activity' | 'subOrchestration';
  readonly name: string;
  readonly inputJson: string | undefined;
  /** The Input its TaskScheduled / SubOrchestrationInstanceCreated shows (none unless inputs are stored). */
  readonly storedInput: string | undefined;
  readonly options: WireRetryOptions;
  readonly subInstanceId: string | undefined;
  /** Mirrors RetryableTask.attemptNumber in the SDK. */
  attempt: number;
}

/** A durable timer the extension splits into intervals (DurableOrchestrationContext.CreateTimer). */
export interface LongTimer {
  readonly finalFireAt: Date;
  /** Index of its CreateTimer action in the flattened action list. */
  readonly actionIndex: number;
}

export interface InstanceRecord {
  readonly instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  inputJson: string | undefined;
  outputJson: string | undefined;
  customStatus: unknown;
  createdTime: Date;
  lastUpdatedTime: Date;
  history: HistoryEvent[];
  inbox: InboxItem[];
  nextEventId: number;
  /** Atomic actions of this execution already scheduled (the SDK's action list is cumulative). */
  actionsSeen: number;
  parent: ParentRef | undefined;
  failure: FailureDetails | undefined;
  episodeRunning: boolean;
  readonly retriesByTask: Map<number, RetryChain>;
  readonly retriesByTimer: Map<number, RetryChain>;
  /** Pending durable timers of this execution, by TimerCreated event id. */
  readonly timers: Map<number, ClockTimer>;
  /** Event id of each CreateTimer action, by its index in the flattened action list (for cancellation). */
  readonly timerByActionIndex: Map<number, number>;
  /** Timers longer than the backend's maximum, by the id of the interval timer now pending. */
  readonly longTimers: Map<number, LongTimer>;
  /** Entities of the critical section this execution holds or is acquiring (scheduler ids). */
  lockSet: string[] | undefined;
  /** The id of the lock request that acquired `lockSet` (releases name it). */
  lockRequestId: string | undefined;
  /** Timestamps of the last entity message to each entity in this execution (MessageSorter). */
  readonly sentLabels: SentLabels;
  episodes: number;
  generation: number;
  historyBytes: number;
  peakHistoryBytes: number;
}

export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  history?: HistoryEvent[];
}

export interface InstanceQuery {
  runtimeStatus?: readonly RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  instanceIdPrefix?: string;
}

export function newInstanceRecord(
  instanceId: string,
  name: string,
  executionId: string,
  now: Date,
): InstanceRecord {
  return {
    instanceId,
    name,
    executionId,
    status: 'Pending',
    inputJson: undefined,
    outputJson: undefined,
    customStatus: undefined,
    createdTime: now,
    lastUpdatedTime: now,
    history: [],
    inbox: [],
    nextEventId: 0,
    actionsSeen: 0,
    parent: undefined,
    failure: undefined,
    episodeRunning: false,
    retriesByTask: new Map(),
    retriesByTimer: new Map(),
    timers: new Map(),
    timerByActionIndex: new Map(),
    longTimers: new Map(),
    lockSet: undefined,
    lockRequestId: undefined,
    sentLabels: new Map(),
    episodes: 0,
    generation: 0,
    historyBytes: 0,
    peakHistoryBytes: 0,
  };
}

export class InstanceStore {
  private readonly instances = new Map<string, InstanceRecord>();

  get(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId);
  }

  put(record: InstanceRecord): void {
    this.instances.set(record.instanceId, record);
  }

  delete(instanceId: string): boolean {
    return this.instances.delete(instanceId);
  }

  all(): InstanceRecord[] {
    return [...this.instances.values()];
  }

  query(filter: InstanceQuery = {}): InstanceRecord[] {
    return this.all().filter((r) => {
      if (
        filter.runtimeStatus &&
        filter.runtimeStatus.length > 0 &&
        !filter.runtimeStatus.includes(r.status)
      ) {
        return false;
      }
      if (filter.createdTimeFrom && r.createdTime < filter.createdTimeFrom) return false;
      if (filter.createdTimeTo && r.createdTime > filter.createdTimeTo) return false;
      if (filter.instanceIdPrefix && !r.instanceId.startsWith(filter.instanceIdPrefix)) return false;
      return true;
    });
  }
}

export function recordHistoryBytes(record: InstanceRecord): void {
  record.historyBytes = historyByteLength(record.history);
  record.peakHistoryBytes = Math.max(record.peakHistoryBytes, record.historyBytes);
}

/** The status document of the HTTP API (input and output keys always present, as the SDK requires). */
export function statusOf(
  record: InstanceRecord,
  options: { showHistory?: boolean; showInput?: boolean } = {},
) {
  const status: InstanceStatus = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status,
    createdTime: record.createdTime.toISOString(),
    lastUpdatedTime: record.lastUpdatedTime.toISOString(),
    input: options.showInput === false ? null : (parseJsonText(record.inputJson) ?? null),
    output: parseJsonText(record.outputJson) ?? null,
    customStatus: record.customStatus ?? null,
  };
  if (options.showHistory) status.history = record.history.map((e) => ({ ...e }));
  return status;
}
