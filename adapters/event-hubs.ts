import { gunzipSync, gzipSync } from 'node:zlib';
import { type EventData, EventHubProducerClient } from '@azure/event-hubs';
import { DefaultAzureCredential } from '@azure/identity';
import type { FlowSummary } from '../domain/summary/schema';
import { parseSummaryRow } from '../domain/summary/serialize';
import type { AppConfig } from './config';
import { ExternalError } from './errors';

export interface EmitStats {
  /** Summaries (rows) sent. */
  rows: number;
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
/** Rows in an event: NDJSON, which ADX's `multijson` reads as objects separated by whitespace. */
export const ROWS_FORMAT = 'multijson';

const NEWLINE = 0x0a;
/** Room for an event's AMQP framing, message id and properties inside the hub's size bound. */
const EVENT_OVERHEAD_BYTES = 512;
const ID_OPEN = '{"id":"';

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

const ID_OPEN_BYTES = new TextEncoder().encode(ID_OPEN);
const QUOTE = 0x22;

/** True when body[at...] starts a summary row: `{"id":"` and 32 characters to the closing quote. */
function startsRow(body: Uint8Array, at: number): boolean {
  if (at + 40 > body.length) return false;
  for (let k = 0; k < ID_OPEN_BYTES.length; k++) if (body[at + k] !== ID_OPEN_BYTES[k]) return false;
  return body[at + 39] === QUOTE;
}

/**
 * Rows in an NDJSON body, every line checked to start a summary row; a line that does not is reported
 * with `source` and its byte offset (`base` = the body's offset in the staged file).
 */
function countRows(body: Uint8Array, base: number, source: string): number {
  let n = 0;
  for (let at = 0; at < body.length; ) {
    if (!startsRow(body, at))
      throw new ExternalError(
        `${source}, byte ${base + at}: not a summary row (${Buffer.from(body.subarray(at, at + 40)).toString('utf8')}…); rerun the blob to stage its rows again`,
        false,
      );
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

/** The summaries of one received event (see rowsOfEvent), missing nullable fields as null. */
export function summariesOfEvent(event: {
  readonly body: unknown;
  readonly bodyBytes?: Uint8Array | undefined;
  readonly properties?: Readonly<Record<string, unknown>> | undefined;
}): FlowSummary[] {
  return rowsOfEvent(event.bodyBytes ?? event.body, event.properties).map(parseSummaryRow);
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
   * Sends NDJSON rows (serializeSummary lines, as parseChunk stages them). `source` names them in errors.
   * A row that is not a summary line (`{"id":"<32 hex>"…`) fails the send permanently before anything
   * is sent: staged files are only ever written by parseChunk, so that is damage to rerun, not retry.
   */
  async emitRows(rows: Uint8Array, partitionKey: string, source: string): Promise<EmitStats> {
    const started = Date.now();
    const stats: EmitStats = { rows: 0, events: 0, batches: 0, bytes: 0, retries: 0, milliseconds: 0 };
    let batch = await this.producer.createBatch({ partitionKey });
    // The hub's own bound (1 MB Standard, 256 KB Basic; AMQP framing and properties on top of the body)
    // wins over the setting when smaller, so a small hub gets smaller events, never a refusal.
    const bound = Math.max(
      1024,
      Math.min(this.packing.maxEventBytes, batch.maxSizeInBytes - EVENT_OVERHEAD_BYTES),
    );
    let pending: { event: EventData; rows: number }[] = [];
    const add = async (e: { event: EventData; rows: number }): Promise<boolean> => {
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
    /** Sends the rows in `body` (at `at` in the staged file) as events within `limit` bytes each. */
    const sendBodies = async (body: Uint8Array, at: number, limit: number): Promise<void> => {
      let offset = at;
      for (const part of packRows(body, limit)) {
        const e = this.eventOf(part, offset, source);
        if (!(await add(e))) {
          // Larger than the hub takes even alone: split it, down to a single row.
          if (e.rows <= 1)
            throw new ExternalError(
              `${source}, byte ${offset}: one summary row of ${part.length} bytes is larger than the hub accepts in an event`,
              false,
            );
          await sendBodies(part, offset, Math.max(1, Math.floor(part.length / 2)));
        }
        offset += part.length;
      }
    };
    // Every line is checked before anything is sent: a damaged staged file sends nothing.
    countRows(rows, 0, source);
    await sendBodies(rows, 0, bound);
    if (pending.length > 0) await this.send(partitionKey, pending, stats);
    stats.milliseconds = Date.now() - started;
    return stats;
  }

  /** One event of rows (`body`, at `at` in the staged file). */
  private eventOf(body: Uint8Array, at: number, source: string): { event: EventData; rows: number } {
    const count = countRows(body, at, source);
    const firstId = Buffer.from(body.buffer, body.byteOffset + 7, 32).toString('latin1');
    return {
      rows: count,
      event: {
        body: this.packing.gzip ? gzipSync(body) : body,
        messageId: `${firstId}+${count}`,
        contentType: 'application/x-ndjson',
        properties: {
          [FORMAT_PROPERTY]: ROWS_FORMAT,
          ...(this.packing.gzip ? { [COMPRESSION_PROPERTY]: 'gzip' } : {}),
        },
      },
    };
  }

  /** Sends one batch's events, retrying transient failures with exponential backoff (a fresh batch each time). */
  private async send(
    partitionKey: string,
    events: readonly { event: EventData; rows: number }[],
    stats: EmitStats,
  ): Promise<void> {
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const batch = await this.producer.createBatch({ partitionKey });
        for (const e of events) batch.tryAdd(e.event);
        await this.producer.sendBatch(batch);
        stats.events += events.length;
        for (const e of events) stats.rows += e.rows;
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
