// Consumer links: the client attaches a receiver to `HUB/ConsumerGroups/GROUP/Partitions/N` with a
// selector filter for its start position, then grants credit. The server sends stored events, one
// per credit, and keeps sending as new events arrive.

import type { AmqpError, Sender } from 'rhea';
import { ANNOTATION, asRecord, deliveryMessage } from './codec';
import type { ServerContext } from './context';
import { entityNotFound, partitionOutOfRange } from './errors';
import type { Partition, StoredEvent } from './store';

export interface Consumer {
  readonly sender: Sender;
  readonly hub: string;
  readonly consumerGroup: string;
  readonly partition: Partition;
  /** Sequence number of the next event to deliver (partition.events[next - partition.trimmed]). */
  next: number;
}

const SELECTOR_FILTER = 'apache.org:selector-filter:string';

/** Resolves the link source to a consumer positioned by its filter, or gives the refusal error. */
export function openConsumer(ctx: ServerContext, sender: Sender): Consumer | AmqpError {
  const address = String(sender.source?.address ?? '');
  const match = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/.exec(address);
  const [, hubName = '', consumerGroup = '', partitionId = ''] = match ?? [];
  const hub = ctx.store.hub(hubName);
  if (match === null || hub === undefined) return entityNotFound(address);
  const partition = ctx.store.partition(hubName, partitionId);
  if (partition === undefined) return partitionOutOfRange(hub, partitionId);
  const selector = findSelector(sender.source?.filter);
  const index = selector === undefined ? 0 : startIndex(partition.events, selector);
  if (typeof index === 'string') return { condition: 'com.microsoft:argument-error', description: index };
  return { sender, hub: hubName, consumerGroup, partition, next: partition.trimmed + index };
}

/** Sends as many pending events as the link has credit for. */
export function pump(consumer: Consumer): void {
  const { sender, partition } = consumer;
  // A reader behind the retention continues from the oldest retained event, as on the service.
  if (consumer.next < partition.trimmed) consumer.next = partition.trimmed;
  while (
    consumer.next - partition.trimmed < partition.events.length &&
    sender.is_open() &&
    sender.sendable()
  ) {
    const stored = partition.events[consumer.next++ - partition.trimmed]!;
    sender.send(deliveryMessage(stored));
  }
}

function findSelector(filter: unknown): string | undefined {
  const entry = asRecord(filter)[SELECTOR_FILTER];
  if (typeof entry === 'string') return entry;
  // rhea keeps the described type: { descriptor, value }.
  const value = asRecord(entry)['value'];
  return typeof value === 'string' ? value : undefined;
}

/** Index of the first event the selector admits; a string on a selector the server cannot read. */
export function startIndex(events: readonly StoredEvent[], selector: string): number | string {
  const m = /^amqp\.annotation\.(x-opt-[a-z-]+)\s*(>=|>)\s*'([^']*)'$/.exec(selector.trim());
  if (m === null) return `unsupported selector filter: ${selector}`;
  const [, annotation, operator, raw = ''] = m;
  const inclusive = operator === '>=';
  let key: (e: StoredEvent) => number;
  let bound: number;
  switch (annotation) {
    case ANNOTATION.offset:
      if (raw === '@latest') return events.length;
      key = (e) => Number(e.event.offset);
      bound = Number(raw);
      break;
    case ANNOTATION.sequenceNumber:
      key = (e) => e.event.sequenceNumber;
      bound = Number(raw);
      break;
    case ANNOTATION.enqueuedTime:
      key = (e) => e.event.enqueuedTime.getTime();
      bound = Number(raw);
      break;
    default:
      return `unsupported filter annotation ${annotation}`;
  }
  if (Number.isNaN(bound)) return `unreadable filter value '${raw}'`;
  const index = events.findIndex((e) => (inclusive ? key(e) >= bound : key(e) > bound));
  return index === -1 ? events.length : index;
}
