// Offline Event Hubs: a loopback AMQP server for the real @azure/event-hubs client.
export type { Counters } from './context';
export type { FaultControls, SendErrorCondition } from './faults';
export {
  DEFAULT_MAX_MESSAGE_SIZE,
  type EventHubsServer,
  type EventHubsServerOptions,
  type EventSubscription,
  startEventHubsServer,
} from './server';
export type { EventListener, ReceivedEvent } from './store';
