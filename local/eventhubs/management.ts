// $management READ requests for hub and partition properties. Replies carry AMQP maps.

import { type Connection, type Message, types } from 'rhea';
import { asRecord, asString } from './codec';
import type { ServerContext } from './context';
import { partitionOutOfRange } from './errors';
import { type Reply, respond } from './reply';

export const MANAGEMENT_ADDRESS = '$management';

const HUB_TYPE = 'com.microsoft:eventhub';
const PARTITION_TYPE = 'com.microsoft:partition';

export function handleManagementRequest(ctx: ServerContext, connection: Connection, request: Message): void {
  respond(ctx, connection, request, read(ctx, asRecord(request.application_properties)));
}

function read(ctx: ServerContext, props: Record<string, unknown>): Reply {
  if (props['operation'] !== 'READ') {
    return {
      status: 501,
      description: `unsupported operation ${String(props['operation'])}`,
      condition: 'amqp:not-implemented',
    };
  }
  const name = asString(props['name']) ?? '';
  const hub = ctx.store.hub(name);
  if (hub === undefined) {
    return {
      status: 404,
      description: `The messaging entity '${name}' could not be found.`,
      condition: 'amqp:not-found',
    };
  }
  if (props['type'] === HUB_TYPE) {
    return {
      status: 200,
      description: 'OK',
      body: {
        name: hub.name,
        type: HUB_TYPE,
        created_at: hub.createdAt,
        partition_count: types.wrap_int(hub.partitions.length),
        partition_ids: hub.partitions.map((p) => p.id),
      },
    };
  }
  if (props['type'] === PARTITION_TYPE) {
    const id = String(props['partition'] ?? '');
    const partition = ctx.store.partition(name, id);
    if (partition === undefined) {
      const { condition, description = '' } = partitionOutOfRange(hub, id);
      return { status: 400, description, condition };
    }
    const last = partition.events.at(-1)?.event;
    return {
      status: 200,
      description: 'OK',
      body: {
        name: hub.name,
        type: PARTITION_TYPE,
        partition: partition.id,
        begin_sequence_number: types.wrap_long(partition.events.length > 0 ? partition.trimmed : -1),
        last_enqueued_sequence_number: types.wrap_long(last?.sequenceNumber ?? -1),
        last_enqueued_offset: last?.offset ?? '-1',
        last_enqueued_time_utc: last?.enqueuedTime ?? new Date(0),
        is_partition_empty: partition.events.length === 0,
      },
    };
  }
  return {
    status: 400,
    description: `unknown entity type ${String(props['type'])}`,
    condition: 'com.microsoft:argument-error',
  };
}
