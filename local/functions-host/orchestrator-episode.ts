/**
 * One orchestrator episode: the orchestrationTrigger payload the Durable extension sends to the Node
 * worker, the call through the worker path, and the decoding of what the SDK answers (an
 * OrchestratorState, or an OrchestrationFailureError whose message carries the state after
 * "$OutOfProcData$:").
 */
import type { CapturedRegistration } from './core-shim';
import type { HistoryEvent } from './history';
import { type FunctionInvoker, triggerOf } from './invoke';
import { fromTypedData } from './typed-data';

export type ReplaySchemaName = 'V1' | 'V2' | 'V3' | 'V4';

/** The numbers of durable-functions' ReplaySchema enum (lib/src/orchestrations/ReplaySchema.js). */
export const replaySchemaNumber: Record<ReplaySchemaName, number> = { V1: 0, V2: 1, V3: 2, V4: 3 };

/** Action types of durable-functions (lib/src/actions/ActionType.js). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface WireRetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** An action as it arrives after the JSON round trip (fields of lib/src/actions/*.js). */
export interface WireAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: WireRetryOptions;
  instanceId?: string;
  operation?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  lockRequestId?: string;
  lockSet?: Array<{ name: string; key: string }>;
  compoundActions?: WireAction[];
}

export interface WireOrchestratorState {
  isDone: boolean;
  actions: unknown;
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

export type EpisodeOutcome =
  | { kind: 'state'; state: WireOrchestratorState }
  | { kind: 'failed'; message: string; state: WireOrchestratorState | undefined; stack: string | undefined };

export interface EpisodeRequest {
  readonly instanceId: string;
  readonly history: readonly HistoryEvent[];
  readonly input: unknown;
  readonly parentInstanceId: string | undefined;
  readonly schema: ReplaySchemaName;
}

const outOfProcDataLabel = '\n\n$OutOfProcData$:';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asState(value: unknown): WireOrchestratorState | undefined {
  if (!isRecord(value) || typeof value['isDone'] !== 'boolean') return undefined;
  return value as unknown as WireOrchestratorState;
}

/** The orchestrationTrigger binding data, as JSON text (Timestamps become strings, as on the wire). */
export function orchestrationTriggerPayload(request: EpisodeRequest): string {
  return JSON.stringify({
    history: request.history,
    input: request.input,
    instanceId: request.instanceId,
    isReplaying: false,
    parentInstanceId: request.parentInstanceId,
    upperSchemaVersion: replaySchemaNumber[request.schema],
    // Needed from V3 on; these are the extension's defaults for the Azure Storage backend.
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  });
}

export async function runEpisode(
  invoker: FunctionInvoker,
  registration: CapturedRegistration,
  request: EpisodeRequest,
): Promise<EpisodeOutcome> {
  const trigger = triggerOf(registration);
  try {
    const response = await invoker.invoke(registration, {
      inputData: [{ name: trigger.name, data: { string: orchestrationTriggerPayload(request) } }],
    });
    const state = asState(fromTypedData(response.returnValue));
    if (state === undefined) {
      return {
        kind: 'failed',
        message:
          'The orchestrator did not return an OrchestratorState (is it registered with df.app.orchestration?)',
        state: undefined,
        stack: undefined,
      };
    }
    return { kind: 'state', state };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error ? err.stack : undefined;
    const at = message.indexOf(outOfProcDataLabel);
    if (at < 0) return { kind: 'failed', message, state: undefined, stack };
    let state: WireOrchestratorState | undefined;
    try {
      state = asState(JSON.parse(message.slice(at + outOfProcDataLabel.length)));
    } catch {
      state = undefined;
    }
    // The SDK builds OrchestrationFailureError(orchestratorReturned, state): the text before the label
    // is just "false"/"true"; the orchestrator's error message travels in state.error.
    return { kind: 'failed', message: state?.error ?? message.slice(0, at), state, stack };
  }
}

/**
 * The atomic actions in order. Under V1 the SDK already flattened Task.all/Task.any into groups; from
 * V2 on they arrive as WhenAll/WhenAny compound actions. Either way the order is the order in which the
 * SDK numbered the tasks, which is what event ids must follow.
 */
export function flattenActions(actions: unknown): WireAction[] {
  const flat: WireAction[] = [];
  const visit = (item: unknown): void => {
    if (Array.isArray(item)) {
      for (const inner of item) visit(inner);
      return;
    }
    if (!isRecord(item) || typeof item['actionType'] !== 'number') return;
    const action = item as unknown as WireAction;
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      visit(action.compoundActions ?? []);
      return;
    }
    flat.push(action);
  };
  visit(actions);
  return flat;
}
