/**
 * The Input of the EventSent events an orchestration writes for entity messages, in the shape the
 * Durable extension serializes them (Azure/azure-functions-durable-extension,
 * src/WebJobs.Extensions.DurableTask/EntityScheduler/RequestMessage.cs and ReleaseMessage.cs at
 * a7c6d69): `op`, `signal` only when true, `input` only when there is one, `id`, `parent`,
 * `parentExecution`, then `Timestamp` and `Predecessor` as MessageSorter.LabelOutgoingMessage fills
 * them in (per destination: the orchestration's current time, moved one tick past the previous
 * message to the same entity, whose time becomes the Predecessor). Lock requests add `lockset`
 * (EntityId objects) and leave out `pos` 0; releases are `{ parent, id }`.
 * The durable-functions SDK reads only `id` from these events, so the shape matters for history size
 * and for anyone reading histories, not for replay.
 */

/** .NET ticks (100 ns) per millisecond. */
const ticksPerMs = 10_000n;
/** Ticks between 0001-01-01 and 1970-01-01. */
const unixEpochTicks = 621_355_968_000_000_000n;

/** The orchestration side of MessageSorter: the last label sent to each entity, per execution. */
export type SentLabels = Map<string, bigint>;

/** Newtonsoft.Json's default text of a DateTime: UTC ones end in Z, fraction digits trimmed. */
export function dotNetDateTimeText(ticks: bigint, utc: boolean): string {
  const sinceEpochTicks = ticks - unixEpochTicks;
  const ms = sinceEpochTicks / ticksPerMs;
  const seconds = new Date(Number(ms)).toISOString().slice(0, 19);
  const fraction = (sinceEpochTicks % (1000n * ticksPerMs)).toString().padStart(7, '0').replace(/0+$/, '');
  return `${seconds}${fraction === '' ? '' : `.${fraction}`}${utc ? 'Z' : ''}`;
}

/** DateTime.MinValue (an unlabelled Predecessor) as Newtonsoft.Json writes it. */
export const dotNetMinDateTime = '0001-01-01T00:00:00';

function ticksOf(date: Date): bigint {
  return BigInt(date.getTime()) * ticksPerMs + unixEpochTicks;
}

/** Timestamp and Predecessor for a message to `target` sent at `now` (LabelOutgoingMessage). */
export function labelOutgoing(
  labels: SentLabels,
  target: string,
  now: Date,
): { Timestamp: string; Predecessor: string } {
  let timestamp = ticksOf(now);
  const last = labels.get(target);
  if (last !== undefined && timestamp <= last) timestamp = last + 1n;
  labels.set(target, timestamp);
  return {
    Timestamp: dotNetDateTimeText(timestamp, true),
    Predecessor: last === undefined ? dotNetMinDateTime : dotNetDateTimeText(last, true),
  };
}

export interface OperationRequest {
  readonly requestId: string;
  readonly operation: string;
  readonly signal: boolean;
  readonly inputJson: string | undefined;
  readonly parentInstanceId: string;
  readonly parentExecutionId: string;
}

/** EventSent.Input of a call or signal. */
export function operationRequestJson(
  request: OperationRequest,
  labels: SentLabels,
  target: string,
  now: Date,
): string {
  return JSON.stringify({
    op: request.operation,
    ...(request.signal ? { signal: true } : {}),
    ...(request.inputJson === undefined ? {} : { input: request.inputJson }),
    id: request.requestId,
    parent: request.parentInstanceId,
    parentExecution: request.parentExecutionId,
    ...labelOutgoing(labels, target, now),
  });
}

/** EventSent.Input of a lock request (sent to the first entity of the sorted lock set). */
export function lockRequestJson(
  request: { requestId: string; lockSet: ReadonlyArray<{ name: string; key: string }> },
  parent: { instanceId: string; executionId: string },
  labels: SentLabels,
  target: string,
  now: Date,
): string {
  return JSON.stringify({
    op: null,
    id: request.requestId,
    parent: parent.instanceId,
    parentExecution: parent.executionId,
    ...labelOutgoing(labels, target, now),
    lockset: request.lockSet.map((e) => ({ name: e.name.toLowerCase(), key: e.key })),
  });
}

/** EventSent.Input of a lock release. */
export function releaseJson(parentInstanceId: string, lockRequestId: string): string {
  return JSON.stringify({ parent: parentInstanceId, id: lockRequestId });
}
