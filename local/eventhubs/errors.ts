// The errors the service refuses links and requests with (the SDK maps them by condition and text).

import type { AmqpError } from 'rhea';
import type { Hub } from './store';

/** The SDK turns this description into MessagingEntityNotFoundError. */
export function entityNotFound(address: string): AmqpError {
  return {
    condition: 'amqp:not-found',
    description: `The messaging entity '${address}' could not be found.`,
  };
}

/** ArgumentOutOfRangeError in the SDK. */
export function partitionOutOfRange(hub: Hub, partitionId: string): AmqpError {
  return {
    condition: 'com.microsoft:argument-out-of-range',
    description: `The specified partition '${partitionId}' is invalid for '${hub.name}'. It should be between 0 and ${hub.partitions.length - 1}.`,
  };
}
