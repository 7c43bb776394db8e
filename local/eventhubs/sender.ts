// Producer links: the client attaches a sender to `HUB` or `HUB/Partitions/N` and transfers
// batches (message_format 0x80013700). The server stores each accepted batch in one partition.

import { type AmqpError, message as amqpMessage, type Delivery, type EventContext, type Message } from 'rhea';
import { BATCH_MESSAGE_FORMAT, type DecodedSend, decodeBatch, describeMessage } from './codec';
import type { ServerContext } from './context';
import { entityNotFound, partitionOutOfRange } from './errors';
import { settle } from './settle';
import type { Hub, Partition } from './store';

export interface ProducerTarget {
  readonly hub: Hub;
  /** Set when the link targets one partition; otherwise the key or round-robin decides. */
  readonly partition: Partition | undefined;
}

/** Resolves `HUB` or `HUB/Partitions/N`, or gives the error the link is refused with. */
export function resolveProducerTarget(ctx: ServerContext, address: string): ProducerTarget | AmqpError {
  const match = /^([^/]+)(?:\/Partitions\/([^/]+))?$/.exec(address);
  const hub = match?.[1] === undefined ? undefined : ctx.store.hub(match[1]);
  if (match === null || hub === undefined) return entityNotFound(address);
  const partitionId = match[2];
  if (partitionId === undefined) return { hub, partition: undefined };
  const partition = ctx.store.partition(hub.name, partitionId);
  if (partition === undefined) return partitionOutOfRange(hub, partitionId);
  return { hub, partition };
}

export function handleSend(ctx: ServerContext, target: ProducerTarget, context: EventContext): void {
  const delivery = context.delivery;
  if (delivery === undefined) return;
  ctx.counters.sends++;

  const fault = ctx.faults.takeSendFault();
  if (fault?.kind === 'reject') {
    ctx.counters.faultsInjected++;
    ctx.reply(() => reject(delivery, fault.error.condition, fault.error.description));
    return;
  }

  let decoded: DecodedSend;
  try {
    decoded = decodeSend(ctx, delivery, context.message);
  } catch (err) {
    const [condition, description] =
      err instanceof TooLarge
        ? ['amqp:link:message-size-exceeded', err.message]
        : ['com.microsoft:argument-error', `malformed message: ${(err as Error).message}`];
    ctx.reply(() => reject(delivery, condition, description));
    return;
  }

  if (fault?.kind === 'drop') {
    ctx.counters.faultsInjected++;
    if (fault.afterStoring) store(ctx, target, decoded);
    // Out of rhea's frame processing, so the cut is not re-entrant; the delivery stays unsettled.
    const { connection } = context;
    setImmediate(() => ctx.dropConnection(connection));
    return;
  }
  store(ctx, target, decoded);
  ctx.reply(() => settle(delivery, { kind: 'accepted' }));
}

class TooLarge extends Error {}

function decodeSend(ctx: ServerContext, delivery: Delivery, message: Message | undefined): DecodedSend {
  if (delivery.format === BATCH_MESSAGE_FORMAT) {
    // rhea hands non-zero formats over undecoded: the "message" is the transfer payload.
    const payload: unknown = message;
    if (!Buffer.isBuffer(payload)) throw new Error('batch payload is not binary');
    if (payload.length > ctx.maxMessageSize) {
      throw new TooLarge(
        `The received message (${payload.length} bytes) exceeds the limit (${ctx.maxMessageSize} bytes).`,
      );
    }
    return decodeBatch(payload);
  }
  if (delivery.format === 0 && message !== undefined) {
    const key = describeMessage(message).partitionKey;
    return { inner: [{ message, size: amqpMessage.encode(message).length }], partitionKey: key };
  }
  throw new Error(`unsupported message format ${delivery.format}`);
}

function store(ctx: ServerContext, target: ProducerTarget, decoded: DecodedSend): void {
  const partition = target.partition ?? ctx.store.choosePartition(target.hub, decoded.partitionKey);
  const batch = decoded.inner.map(({ message, size }) => {
    const fields = describeMessage(message);
    // The batch-level key applies to every event, as the service does.
    const partitionKey = fields.partitionKey ?? decoded.partitionKey;
    return { fields: { ...fields, partitionKey }, message, size };
  });
  ctx.counters.batches++;
  ctx.counters.events += batch.length;
  ctx.store.append(target.hub, partition, batch);
}

function reject(delivery: Delivery, condition: string, description: string): void {
  settle(delivery, { kind: 'rejected', error: { condition, description } });
}
