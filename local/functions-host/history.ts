/**
 * Durable history events in the wire shape the durable-functions SDK replays (PascalCase fields,
 * EventType numbers from lib/src/history/HistoryEventType.js), and failure details for TaskFailed.
 */

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

export type EventTypeNumber = (typeof EventType)[keyof typeof EventType];

export interface HistoryEvent {
  EventType: EventTypeNumber;
  /** The task number for events that schedule something, -1 otherwise (as DTFx writes it). */
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

export function historyEvent(
  type: EventTypeNumber,
  at: Date,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: at.toISOString(), ...fields };
}

/** The FailureDetails payload of TaskFailed / SubOrchestrationInstanceFailed. */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
  IsNonRetriable: boolean;
  Properties?: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Failure details for an error thrown by an activity. When the app registered an
 * ExceptionPropertiesProvider, durable-functions rewrote the message into a JSON payload
 * (`wrapActivityHandler`); that payload is unpacked here as the extension does.
 */
export function failureDetailsOf(error: unknown): FailureDetails {
  const asError = error instanceof Error ? error : undefined;
  const message = asError?.message ?? (typeof error === 'string' ? error : String(JSON.stringify(error)));
  try {
    const payload: unknown = JSON.parse(message);
    if (isRecord(payload) && typeof payload['errorMessage'] === 'string' && isRecord(payload['properties'])) {
      return {
        ErrorType: typeof payload['errorType'] === 'string' ? payload['errorType'] : 'Error',
        ErrorMessage: payload['errorMessage'],
        StackTrace: typeof payload['stackTrace'] === 'string' ? payload['stackTrace'] : asError?.stack,
        IsNonRetriable: payload['isNonRetriable'] === true,
        Properties: payload['properties'],
      };
    }
  } catch {
    // An ordinary message, not a JSON payload.
  }
  return {
    ErrorType: asError?.name ?? 'Error',
    ErrorMessage: message,
    StackTrace: asError?.stack,
    IsNonRetriable: false,
  };
}

/** Bytes of the history as the JSON the host would store and ship to the worker on every replay. */
export function historyByteLength(history: readonly HistoryEvent[]): number {
  return Buffer.byteLength(JSON.stringify(history), 'utf8');
}
