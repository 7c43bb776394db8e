import { gunzipSync, gzipSync } from 'node:zlib';
import { type EventData, EventHubProducerClient } from '@azure/event-hubs';
import { DefaultAzureCredential } from '@azure/identity';
import { adxRouting } from '../common/names';
import type { FlowSummary } from '../domain/summary/schema';
import { GROUP_LINE_START, ROW_LINE_START, type SummaryReader } from '../domain/summary/serialize';
import type { AppConfig } from './config';
import { ExternalError } from './errors';

export interface EmitStats {
  /** Summaries (rows) sent. */
  rows: number;
  /** Flow-group lines sent (FlowGroups events, before the rows). */
  groups: number;
  /** Event Hubs events they went in. */
  events: number;
  batches: number;
  bytes: number;
  /** Batches that had to be sent again after a transient failure. */
  retries: number;
  milliseconds: number;
}

export interface EmitRetryPolicy {
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Who retries a send (docs/operations.md, "Who retries what"): the SDK never (maxRetries 0, one attempt
 * of at most 10 s), this emitter a few times within the activity (a busy or throttled hub, a dropped
 * connection: about 1.5 s of backoff in all), and Durable the whole activity (5 attempts, 2 s doubling).
 * So one batch is sent at most SEND_ATTEMPTS × 5 = 20 times by one run.
 */
export const SEND_ATTEMPTS = 4;
const DEFAULT_RETRY: EmitRetryPolicy = { attempts: SEND_ATTEMPTS, firstDelayMs: 200, maxDelayMs: 2_000 };
/** The SDK's own retries are off: one owner per retry (this emitter). */
const SDK_RETRY = { maxRetries: 0, retryDelayInMs: 100, timeoutInMs: 10_000 };

interface MessagingErrorLike {
  code?: string;
  retryable?: boolean;
  name?: string;
}

/** Server busy, throttling, timeouts and dropped connections are transient; the SDK marks them retryable. */
function transient(error: unknown): boolean {
  // When its own retries run out the SDK throws an AggregateError of the attempts: judge the last one.
  if (error instanceof AggregateError && error.errors.length > 0)
    return transient(error.errors[error.errors.length - 1]);
  const e = error as MessagingErrorLike;
  if (typeof e?.retryable === 'boolean') return e.retryable;
  return e?.name === 'AbortError'
    ? false
    : /busy|throttl|timeout|ECONNRESET|ECONNREFUSED|socket|closed/i.test(String((error as Error)?.message));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How rows are packed into events: body size bound and compression. */
export interface EventPacking {
  /** Largest event body (before compression), bytes; a row longer than this goes alone. */
  readonly maxEventBytes: number;
  /** gzip each body (event property `Compression: gzip`, which ADX's data connection reads). */
  readonly gzip: boolean;
}

/**
 * Fits the smallest hub tier (Basic: 256 KB per event, properties and framing included) and keeps an
 * event a few hundred rows: one event per block of a NIC-hour instead of one per summary.
 */
export const DEFAULT_PACKING: EventPacking = { maxEventBytes: 240_000, gzip: false };

/** Event properties ADX's data connection routes by (case-sensitive; docs/azure-reference §7.1). */
export const FORMAT_PROPERTY = 'Format';
export const COMPRESSION_PROPERTY = 'Compression';
export const TABLE_PROPERTY = 'Table';
export const MAPPING_PROPERTY = 'IngestionMappingReference';
/** Rows in an event: NDJSON, which ADX's `multijson` reads as objects separated by whitespace. */
export const ROWS_FORMAT = 'multijson';

const NEWLINE = 0x0a;
/** Room for an event's AMQP framing, message id and properties inside the hub's size bound. */
const EVENT_OVERHEAD_BYTES = 512;
/** `","group":"` after a row's 32-hex id. */
const ROW_GROUP = '","group":"';

/**
 * Cuts staged NDJSON rows into event bodies of at most `maxEventBytes` at line ends (a single longer
 * row is a body of its own). Each body keeps its lines whole: a body is a valid multijson unit.
 */
export function packRows(rows: Uint8Array, maxEventBytes: number): Uint8Array[] {
  const bodies: Uint8Array[] = [];
  let start = 0;
  while (start < rows.length) {
    let end = Math.min(rows.length, start + maxEventBytes);
    if (end < rows.length) {
      // back to the end of the last whole line inside the bound
      let cut = end;
      while (cut > start && rows[cut - 1] !== NEWLINE) cut--;
      if (cut === start) {
        // one row longer than the bound: it goes alone
        cut = rows.indexOf(NEWLINE, end);
        cut = cut < 0 ? rows.length : cut + 1;
      }
      end = cut;
    }
    bodies.push(rows.subarray(start, end));
    start = end;
  }
  return bodies;
}

const ID_OPEN_BYTES = new TextEncoder().encode(ROW_LINE_START);
const GROUP_OPEN_BYTES = new TextEncoder().encode(GROUP_LINE_START);
const ROW_GROUP_BYTES = new TextEncoder().encode(ROW_GROUP);
const QUOTE = 0x22;

function startsWith(body: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > body.length) return false;
  for (let k = 0; k < prefix.length; k++) if (body[at + k] !== prefix[k]) return false;
  return true;
}

/** `{"id":"` 32 characters `","group":"` 16 characters `"`: a summary row and its group id's offset. */
function rowGroupAt(body: Uint8Array, at: number): number {
  if (!startsWith(body, at, ID_OPEN_BYTES) || !startsWith(body, at + 39, ROW_GROUP_BYTES)) return -1;
  return body[at + 66] === QUOTE ? at + 50 : -1;
}

/** `{"group":"` 16 characters `"`: a flow group's line. */
function startsGroup(body: Uint8Array, at: number): boolean {
  return startsWith(body, at, GROUP_OPEN_BYTES) && body[at + 26] === QUOTE;
}

/** A staged summary stream taken apart: its group lines and its row lines, each kept in order. */
export interface SplitStream {
  readonly groups: Uint8Array;
  readonly groupCount: number;
  readonly rows: Uint8Array;
  readonly rowCount: number;
}

/**
 * Splits a summary stream (group lines before the rows of their group, as parseChunk stages it) into its
 * group lines and its row lines. Every line is checked: one that is neither, or a row whose group line is
 * not in the stream before it, is reported with `source` and its byte offset (`base` = the stream's
 * offset in the staged file). Staged files are only written by parseChunk: that is damage to rerun.
 */
export function splitStream(stream: Uint8Array, source: string, base = 0): SplitStream {
  const groups = new Uint8Array(stream.length);
  const rows = new Uint8Array(stream.length);
  let g = 0;
  let r = 0;
  let groupCount = 0;
  let rowCount = 0;
  const declared = new Set<string>();
  const text = (from: number, to: number) => Buffer.from(stream.subarray(from, to)).toString('latin1');
  for (let at = 0; at < stream.length; ) {
    const nl = stream.indexOf(NEWLINE, at);
    const end = nl < 0 ? stream.length : nl + 1;
    const line = stream.subarray(at, end);
    const groupAt = rowGroupAt(stream, at);
    if (groupAt >= 0) {
      const group = text(groupAt, groupAt + 16);
      if (!declared.has(group))
        throw new ExternalError(
          `${source}, byte ${base + at}: summary row of group ${group} before (or without) that group's line; rerun the blob to stage its rows again`,
          false,
        );
      rows.set(line, r);
      r += line.length;
      rowCount++;
    } else if (startsGroup(stream, at)) {
      declared.add(text(at + 10, at + 26));
      groups.set(line, g);
      g += line.length;
      groupCount++;
    } else {
      throw new ExternalError(
        `${source}, byte ${base + at}: not a summary row or group line (${Buffer.from(stream.subarray(at, at + 40)).toString('utf8')}…); rerun the blob to stage its rows again`,
        false,
      );
    }
    at = end;
  }
  return { groups: groups.subarray(0, g), groupCount, rows: rows.subarray(0, r), rowCount };
}

/** Lines in an NDJSON body (every body packRows cuts from a split stream holds whole lines). */
function countLines(body: Uint8Array): number {
  let n = 0;
  for (let at = 0; at < body.length; ) {
    n++;
    const end = body.indexOf(NEWLINE, at);
    at = end < 0 ? body.length : end + 1;
  }
  return n;
}

/**
 * The summary rows of one received event, whatever its packing: gzip when its `Compression` property says
 * so, then one JSON text per line. What consumers (the live view, replay, tests) read instead of assuming
 * one summary per event.
 */
export function rowsOfEvent(body: unknown, properties?: Readonly<Record<string, unknown>>): string[] {
  let bytes: Uint8Array;
  if (body instanceof Uint8Array) bytes = body;
  else if (typeof body === 'string') return body.split('\n').filter((l) => l.trim() !== '');
  else if (body !== null && typeof body === 'object') return [JSON.stringify(body)];
  else return [];
  if (String(properties?.[COMPRESSION_PROPERTY] ?? '').toLowerCase() === 'gzip') bytes = gunzipSync(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/**
 * The summaries of one received event (see rowsOfEvent), joined with their groups by `reader`, which
 * keeps the group lines of the events read before (a FlowGroups event comes before the rows of its
 * groups, on the same partition): one reader per consumer, events fed in order.
 */
export function summariesOfEvent(
  event: {
    readonly body: unknown;
    readonly bodyBytes?: Uint8Array | undefined;
    readonly properties?: Readonly<Record<string, unknown>> | undefined;
  },
  reader: SummaryReader,
): FlowSummary[] {
  return reader.readAll(rowsOfEvent(event.bodyBytes ?? event.body, event.properties));
}

type LineKind = 'rows' | 'groups';
interface PackedEvent {
  readonly kind: LineKind;
  readonly lines: number;
  readonly event: EventData;
}

/**
 * Sends staged summary rows to Event Hubs: one producer per worker; rows packed several to an event
 * (NDJSON bodies up to `maxEventBytes`, optionally gzip, with the `Format: multijson` property), events
 * in size-aware batches (createBatch/tryAdd, the hub's limit); partition key = the blob key so one blob's
 * rows stay in order; messageId = the first row's id and the event's row count (the same for a resend).
 * Delivery is at-least-once; the row ids make it exactly-once downstream (ADX's dedup view).
 */
export class SummaryEmitter {
  private readonly producer: EventHubProducerClient;

  constructor(
    producer: EventHubProducerClient,
    private readonly retry: EmitRetryPolicy = DEFAULT_RETRY,
    private readonly packing: EventPacking = DEFAULT_PACKING,
  ) {
    this.producer = producer;
  }

  static fromConfig(config: AppConfig, retry?: EmitRetryPolicy): SummaryEmitter {
    const packing: EventPacking = { maxEventBytes: config.eventMaxBytes, gzip: config.eventGzip };
    const hub = config.eventHub;
    const producer =
      hub.kind === 'connection-string'
        ? // An in-flight send on a dropped connection waits out timeoutInMs (60 s by default): 10 s here.
          new EventHubProducerClient(hub.connectionString, hub.hubName, { retryOptions: SDK_RETRY })
        : new EventHubProducerClient(hub.endpoint, hub.hubName, new DefaultAzureCredential(), {
            retryOptions: SDK_RETRY,
          });
    return new SummaryEmitter(producer, retry, packing);
  }

  /**
   * Sends a summary stream (as parseChunk stages it): its group lines as FlowGroups events first, then
   * its rows as FlowSummaries events, in batches in that order on one partition, so a consumer (and ADX)
   * has a row's group before the row. `source` names them in errors. A line that is neither kind, or a
   * row without its group line, fails the send permanently before anything is sent (splitStream).
   */
  async emitRows(stream: Uint8Array, partitionKey: string, source: string): Promise<EmitStats> {
    const started = Date.now();
    const stats: EmitStats = {
      rows: 0,
      groups: 0,
      events: 0,
      batches: 0,
      bytes: 0,
      retries: 0,
      milliseconds: 0,
    };
    // Every line is checked before anything is sent: a damaged staged file sends nothing.
    const split = splitStream(stream, source);
    let batch = await this.producer.createBatch({ partitionKey });
    // The hub's own bound (1 MB Standard, 256 KB Basic; AMQP framing and properties on top of the body)
    // wins over the setting when smaller, so a small hub gets smaller events, never a refusal.
    const bound = Math.max(
      1024,
      Math.min(this.packing.maxEventBytes, batch.maxSizeInBytes - EVENT_OVERHEAD_BYTES),
    );
    let pending: PackedEvent[] = [];
    const add = async (e: PackedEvent): Promise<boolean> => {
      if (batch.tryAdd(e.event)) {
        pending.push(e);
        return true;
      }
      if (batch.count === 0) return false;
      await this.send(partitionKey, pending, stats);
      batch = await this.producer.createBatch({ partitionKey });
      pending = [];
      return add(e);
    };
    /** Sends the lines in `body` as events within `limit` bytes each. */
    const sendBodies = async (body: Uint8Array, kind: LineKind, limit: number): Promise<void> => {
      for (const part of packRows(body, limit)) {
        const e = this.eventOf(part, kind);
        if (!(await add(e))) {
          // Larger than the hub takes even alone: split it, down to a single line.
          if (e.lines <= 1)
            throw new ExternalError(
              `${source}: one ${kind === 'groups' ? 'group line' : 'summary row'} of ${part.length} bytes is larger than the hub accepts in an event`,
              false,
            );
          await sendBodies(part, kind, Math.max(1, Math.floor(part.length / 2)));
        }
      }
    };
    await sendBodies(split.groups, 'groups', bound);
    await sendBodies(split.rows, 'rows', bound);
    if (pending.length > 0) await this.send(partitionKey, pending, stats);
    stats.milliseconds = Date.now() - started;
    return stats;
  }

  /**
   * One event of rows or of group lines, routed to its ADX table and mapping; messageId = the first
   * line's id (group lines: `g` + group id) and the line count: the same for a resend.
   */
  private eventOf(body: Uint8Array, kind: LineKind): PackedEvent {
    const lines = countLines(body);
    const route = adxRouting[kind];
    const firstId =
      kind === 'rows'
        ? Buffer.from(body.buffer, body.byteOffset + 7, 32).toString('latin1')
        : `g${Buffer.from(body.buffer, body.byteOffset + 10, 16).toString('latin1')}`;
    return {
      kind,
      lines,
      event: {
        body: this.packing.gzip ? gzipSync(body) : body,
        messageId: `${firstId}+${lines}`,
        contentType: 'application/x-ndjson',
        properties: {
          [FORMAT_PROPERTY]: ROWS_FORMAT,
          [TABLE_PROPERTY]: route.table,
          [MAPPING_PROPERTY]: route.mapping,
          ...(this.packing.gzip ? { [COMPRESSION_PROPERTY]: 'gzip' } : {}),
        },
      },
    };
  }

  /** Sends one batch's events, retrying transient failures with exponential backoff (a fresh batch each time). */
  private async send(partitionKey: string, events: readonly PackedEvent[], stats: EmitStats): Promise<void> {
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const batch = await this.producer.createBatch({ partitionKey });
        for (const e of events) batch.tryAdd(e.event);
        await this.producer.sendBatch(batch);
        stats.events += events.length;
        for (const e of events) stats[e.kind] += e.lines;
        stats.batches++;
        stats.bytes += batch.sizeInBytes;
        return;
      } catch (cause) {
        const retryable = transient(cause);
        if (!retryable || attempt >= this.retry.attempts)
          throw new ExternalError(
            `Event Hubs send failed after ${attempt} attempt(s): ${(cause as Error).message}`,
            retryable,
            { cause },
          );
        stats.retries++;
        await sleep(delay * (0.5 + Math.random() / 2));
        delay = Math.min(this.retry.maxDelayMs, delay * 2);
      }
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

const emitters = new Map<string, SummaryEmitter>();

/** The worker's emitter for this config (one producer per worker). */
export function emitterFor(config: AppConfig): SummaryEmitter {
  const key = `${config.eventHub.kind === 'connection-string' ? config.eventHub.connectionString : config.eventHub.endpoint}|${config.eventHub.hubName}`;
  let emitter = emitters.get(key);
  if (!emitter) {
    emitter = SummaryEmitter.fromConfig(config);
    emitters.set(key, emitter);
  }
  return emitter;
}

export async function closeEmitters(): Promise<void> {
  const all = [...emitters.values()];
  emitters.clear();
  await Promise.all(all.map((e) => e.close()));
}
