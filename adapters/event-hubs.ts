import { type EventData, EventHubProducerClient } from '@azure/event-hubs';
import { DefaultAzureCredential } from '@azure/identity';
import type { AppConfig } from './config';
import { ExternalError } from './errors';

export interface EmitStats {
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

/** One summary as an event: its serialized JSON, its id (messageId) and its resourceId (partition key). */
export interface SummaryEvent {
  readonly id: string;
  readonly resourceId: string;
  readonly body: Uint8Array;
}

/**
 * Sends summaries to Event Hubs: one producer per worker, size-aware batches (createBatch/tryAdd, the
 * hub's 1 MiB limit), partition key = resourceId so one resource's summaries stay in order, body = the
 * summary JSON, messageId = its id. Delivery is at-least-once; the ids make it exactly-once downstream.
 */
export class SummaryEmitter {
  private readonly producer: EventHubProducerClient;

  constructor(
    producer: EventHubProducerClient,
    private readonly retry: EmitRetryPolicy = DEFAULT_RETRY,
  ) {
    this.producer = producer;
  }

  static fromConfig(config: AppConfig, retry?: EmitRetryPolicy): SummaryEmitter {
    const hub = config.eventHub;
    const producer =
      hub.kind === 'connection-string'
        ? // An in-flight send on a dropped connection waits out timeoutInMs (60 s by default): 10 s here.
          new EventHubProducerClient(hub.connectionString, hub.hubName, { retryOptions: SDK_RETRY })
        : new EventHubProducerClient(hub.endpoint, hub.hubName, new DefaultAzureCredential(), {
            retryOptions: SDK_RETRY,
          });
    return new SummaryEmitter(producer, retry);
  }

  async emit(summaries: readonly SummaryEvent[]): Promise<EmitStats> {
    const started = Date.now();
    const stats: EmitStats = { events: 0, batches: 0, bytes: 0, retries: 0, milliseconds: 0 };
    const byResource = new Map<string, SummaryEvent[]>();
    for (const s of summaries) {
      let list = byResource.get(s.resourceId);
      if (!list) {
        list = [];
        byResource.set(s.resourceId, list);
      }
      list.push(s);
    }
    for (const [partitionKey, list] of byResource) {
      let batch = await this.producer.createBatch({ partitionKey });
      let pending: EventData[] = [];
      for (const s of list) {
        const event: EventData = {
          body: s.body,
          messageId: s.id,
          contentType: 'application/json',
        };
        if (batch.tryAdd(event)) {
          pending.push(event);
          continue;
        }
        if (batch.count === 0)
          throw new ExternalError(`summary ${s.id} is larger than an Event Hubs batch may be`, false);
        await this.send(partitionKey, pending, stats);
        batch = await this.producer.createBatch({ partitionKey });
        pending = [];
        if (!batch.tryAdd(event))
          throw new ExternalError(`summary ${s.id} is larger than an Event Hubs batch may be`, false);
        pending.push(event);
      }
      if (pending.length > 0) await this.send(partitionKey, pending, stats);
    }
    stats.milliseconds = Date.now() - started;
    return stats;
  }

  /** Sends one batch's events, retrying transient failures with exponential backoff (a fresh batch each time). */
  private async send(partitionKey: string, events: readonly EventData[], stats: EmitStats): Promise<void> {
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const batch = await this.producer.createBatch({ partitionKey });
        for (const e of events) batch.tryAdd(e);
        await this.producer.sendBatch(batch);
        stats.events += events.length;
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
