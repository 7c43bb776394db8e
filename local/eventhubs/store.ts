// In-memory hubs, partitions and the events they hold, with the numbering the service gives them.

import type { Message } from 'rhea';

/** One event as the server stored it, decoded for assertions. */
export interface ReceivedEvent {
  readonly hub: string;
  readonly partitionId: string;
  readonly sequenceNumber: number;
  /** Byte position of the event in its partition, as a decimal string (the v6 SDK's offset type). */
  readonly offset: string;
  readonly enqueuedTime: Date;
  /** JSON-parsed when the body is UTF-8 JSON, else the raw bytes; AMQP value bodies as decoded. */
  readonly body: unknown;
  /** The body's bytes when it was a data section. */
  readonly bodyBytes: Buffer | undefined;
  readonly messageId: string | number | Buffer | undefined;
  readonly correlationId: string | number | Buffer | undefined;
  readonly contentType: string | undefined;
  readonly partitionKey: string | undefined;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface StoredEvent {
  readonly event: ReceivedEvent;
  /** The inner message as sent, replayed to consumers with the service annotations added. */
  readonly message: Message;
}

export interface Partition {
  readonly id: string;
  /** The retained events; events[0] has sequence number `trimmed`. */
  readonly events: StoredEvent[];
  /** Events dropped from the front by retention (what a hub's retention period does). */
  trimmed: number;
  nextOffset: number;
}

export interface Hub {
  readonly name: string;
  readonly createdAt: Date;
  readonly partitions: Partition[];
  /** Every stored event of the hub, in arrival order across partitions. */
  readonly arrivals: ReceivedEvent[];
  roundRobin: number;
}

export type EventListener = (event: ReceivedEvent) => void;

/** What the sender hands over per inner message; the store adds numbering and time. */
export type NewEvent = Omit<
  ReceivedEvent,
  'hub' | 'partitionId' | 'sequenceNumber' | 'offset' | 'enqueuedTime'
>;

export class HubStore {
  private readonly hubs = new Map<string, Hub>();
  private readonly listeners = new Set<EventListener>();
  /** Called after events are appended to a partition (consumers pump on it). */
  onAppend: (hub: string, partitionId: string) => void = () => {};

  /**
   * @param retainEvents keep at most this many events per hub (oldest dropped first, like the service's
   *   retention); unbounded by default. Long local runs set it so memory stays flat.
   */
  constructor(
    partitionCounts: Readonly<Record<string, number>>,
    private readonly retainEvents = Number.POSITIVE_INFINITY,
  ) {
    for (const [name, count] of Object.entries(partitionCounts)) {
      if (!Number.isInteger(count) || count < 1 || count > 1024) {
        throw new RangeError(`hub ${name}: partition count must be an integer in 1..1024, got ${count}`);
      }
      const partitions = Array.from({ length: count }, (_, i) => ({
        id: String(i),
        events: [],
        trimmed: 0,
        nextOffset: 0,
      }));
      this.hubs.set(name, { name, createdAt: new Date(), partitions, arrivals: [], roundRobin: 0 });
    }
  }

  /** Drops the oldest events past the retention, in slices so a long run does not shift on every append. */
  private applyRetention(hub: Hub, partition: Partition): void {
    if (!Number.isFinite(this.retainEvents)) return;
    const perPartition = Math.max(1, Math.ceil(this.retainEvents / hub.partitions.length));
    if (partition.events.length > perPartition * 1.25) {
      const drop = partition.events.length - perPartition;
      partition.events.splice(0, drop);
      partition.trimmed += drop;
    }
    if (hub.arrivals.length > this.retainEvents * 1.25)
      hub.arrivals.splice(0, hub.arrivals.length - this.retainEvents);
  }

  hub(name: string): Hub | undefined {
    return this.hubs.get(name);
  }

  partition(hub: string, partitionId: string): Partition | undefined {
    return this.hubs.get(hub)?.partitions.find((p) => p.id === partitionId);
  }

  hubNames(): string[] {
    return [...this.hubs.keys()];
  }

  /**
   * Picks the partition for a send to the hub itself: a key hashes to a fixed partition, no key goes
   * round-robin per batch. The hash is a stand-in (FNV-1a), not the service's: never assert numbers.
   */
  choosePartition(hub: Hub, partitionKey: string | undefined): Partition {
    const count = hub.partitions.length;
    let index: number;
    if (partitionKey === undefined) {
      index = hub.roundRobin;
      hub.roundRobin = (hub.roundRobin + 1) % count;
    } else {
      let h = 0x811c9dc5;
      for (const byte of Buffer.from(partitionKey, 'utf8')) {
        h ^= byte;
        h = Math.imul(h, 0x01000193) >>> 0;
      }
      index = h % count;
    }
    return hub.partitions[index]!;
  }

  /** Appends a batch to one partition atomically, then notifies listeners and consumers. */
  append(
    hub: Hub,
    partition: Partition,
    batch: readonly { fields: NewEvent; message: Message; size: number }[],
  ) {
    const enqueuedTime = new Date();
    const stored: ReceivedEvent[] = [];
    for (const { fields, message, size } of batch) {
      const event: ReceivedEvent = {
        ...fields,
        hub: hub.name,
        partitionId: partition.id,
        sequenceNumber: partition.trimmed + partition.events.length,
        offset: String(partition.nextOffset),
        enqueuedTime,
      };
      partition.nextOffset += size;
      partition.events.push({ event, message });
      hub.arrivals.push(event);
      stored.push(event);
    }
    this.applyRetention(hub, partition);
    for (const event of stored) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          // A failing test listener must not break the AMQP exchange; surface it as uncaught instead.
          setImmediate(() => {
            throw err;
          });
        }
      }
    }
    this.onAppend(hub.name, partition.id);
  }

  addListener(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
