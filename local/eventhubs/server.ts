// A loopback AMQP 1.0 server that the real @azure/event-hubs client talks to, for tests and the
// local runtime. It routes links to the per-concern handlers and owns sockets and timers, so that
// stop() leaves nothing running. See docs offline-testing.md §2.

import { once } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import { type Connection, create_container, type EventContext, type Receiver, type Sender } from 'rhea';
import { CBS_ADDRESS, handleCbsRequest } from './cbs';
import { type Consumer, openConsumer, pump } from './consumer';
import type { Counters, ServerContext } from './context';
import { type FaultControls, Faults } from './faults';
import { handleManagementRequest, MANAGEMENT_ADDRESS } from './management';
import { handleSend, type ProducerTarget, resolveProducerTarget } from './sender';
import { settle } from './settle';
import { type EventListener, HubStore, type ReceivedEvent } from './store';

/** The real service's limit for one event or one batch on Standard and above. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024;

export interface EventHubsServerOptions {
  /** Hub name to partition count, e.g. `{ summaries: 4 }`. */
  readonly hubs: Readonly<Record<string, number>>;
  /** Advertised as the link's max_message_size and enforced; default 1 MiB. */
  readonly maxMessageSize?: number;
  /** Default 0: a random free port on 127.0.0.1. */
  readonly port?: number;
  /** Keep at most this many events per hub, oldest dropped first (default: all). */
  readonly retainEvents?: number;
}

export interface EventHubsServer {
  readonly port: number;
  /** `Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true;EntityPath=HUB` */
  connectionString(hub: string): string;
  /** Events stored in the hub so far, in arrival order across partitions. */
  events(hub: string): ReceivedEvent[];
  /**
   * Calls `listener` for every event stored from now on; returns the unsubscribe function. A listener that
   * reads only some fields of JSON bodies may name them: the emulator process then forwards only those
   * (in-process the whole body is passed either way).
   */
  onEvent(listener: EventListener, subscription?: EventSubscription): () => void;
  readonly faults: FaultControls;
  /** Live counters (the same object keeps updating). */
  readonly counters: Readonly<Counters>;
  /** Number of AMQP connections currently open. */
  openConnections(): number;
  /** Closes the listener, drops open connections, cancels delayed replies; idempotent. */
  stop(): Promise<void>;
}

export interface EventSubscription {
  readonly bodyFields?: readonly string[];
}

let serverCounter = 0;

type ReceiverRole = { kind: 'cbs' } | { kind: 'management' } | { kind: 'producer'; target: ProducerTarget };

/** rhea internals used to cut a connection the way a network failure does (rhea 3.0.x). */
interface ConnectionInternals {
  socket?: Socket;
  abort_socket?: (socket: Socket) => void;
}

export async function startEventHubsServer(options: EventHubsServerOptions): Promise<EventHubsServer> {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const store = new HubStore(options.hubs, options.retainEvents);
  const faults = new Faults();
  const counters: Counters = { sends: 0, batches: 0, events: 0, faultsInjected: 0 };
  const connections = new Set<Connection>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const roles = new WeakMap<Receiver, ReceiverRole>();
  const consumers = new Map<Sender, Consumer>();
  let stopped = false;

  const dropConnection = (connection: Connection): void => {
    connections.delete(connection);
    const internals = connection as unknown as ConnectionInternals;
    if (internals.socket !== undefined && typeof internals.abort_socket === 'function') {
      internals.abort_socket.call(connection, internals.socket);
    } else {
      internals.socket?.destroy();
    }
    forgetConsumers(connection);
  };

  const ctx: ServerContext = {
    store,
    faults,
    counters,
    maxMessageSize,
    reply: (fn) => {
      if (stopped) return;
      if (faults.replyDelayMs <= 0) {
        fn();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopped) fn();
      }, faults.replyDelayMs);
      timers.add(timer);
    },
    dropConnection,
  };

  const forgetConsumers = (connection: Connection): void => {
    for (const sender of [...consumers.keys()])
      if (sender.connection === connection) consumers.delete(sender);
  };

  store.onAppend = (hub, partitionId) => {
    for (const consumer of consumers.values()) {
      if (consumer.hub === hub && consumer.partition.id === partitionId) pump(consumer);
    }
  };

  // Options fall through link -> session -> connection -> container in rhea: every receiver the
  // server opens advertises max_message_size and leaves settlement to the handlers.
  const container = create_container({
    id: `flowlog-eventhubs-${process.pid}-${++serverCounter}`,
    receiver_options: { autoaccept: false, max_message_size: maxMessageSize },
  });
  container.sasl_server_mechanisms.enable_anonymous();

  container.on('connection_open', ({ connection }: EventContext) => connections.add(connection));
  container.on('connection_close', ({ connection }: EventContext) => {
    connections.delete(connection);
    forgetConsumers(connection);
  });
  container.on('disconnected', ({ connection }: EventContext) => {
    connections.delete(connection);
    forgetConsumers(connection);
  });

  container.on('receiver_open', ({ receiver }: EventContext) => {
    if (receiver === undefined) return;
    const address = String(receiver.target?.address ?? '');
    receiver.set_target({ address });
    if (receiver.source?.address !== undefined) receiver.set_source({ address: receiver.source.address });
    if (address === CBS_ADDRESS) roles.set(receiver, { kind: 'cbs' });
    else if (address === MANAGEMENT_ADDRESS) roles.set(receiver, { kind: 'management' });
    else {
      const target = resolveProducerTarget(ctx, address);
      if ('hub' in target) roles.set(receiver, { kind: 'producer', target });
      else receiver.close(target);
    }
  });

  container.on('message', (context: EventContext) => {
    const { receiver, delivery, message, connection } = context;
    const role = receiver === undefined ? undefined : roles.get(receiver);
    if (role === undefined || delivery === undefined) return;
    if (role.kind === 'producer') {
      handleSend(ctx, role.target, context);
      return;
    }
    settle(delivery, { kind: 'accepted' });
    if (message === undefined) return;
    if (role.kind === 'cbs') handleCbsRequest(ctx, connection, message);
    else handleManagementRequest(ctx, connection, message);
  });

  container.on('sender_open', ({ sender }: EventContext) => {
    if (sender === undefined) return;
    const address = String(sender.source?.address ?? '');
    sender.set_source({ address });
    if (sender.target?.address !== undefined) sender.set_target({ address: sender.target.address });
    if (address === CBS_ADDRESS || address === MANAGEMENT_ADDRESS) return; // reply link
    const consumer = openConsumer(ctx, sender);
    if (!('partition' in consumer)) {
      sender.close(consumer);
      return;
    }
    consumers.set(sender, consumer);
    pump(consumer);
  });
  container.on('sendable', ({ sender }: EventContext) => {
    const consumer = sender === undefined ? undefined : consumers.get(sender);
    if (consumer !== undefined) pump(consumer);
  });
  container.on('sender_close', ({ sender }: EventContext) => {
    if (sender !== undefined) consumers.delete(sender);
  });
  // Peers going away is routine here; without listeners rhea would log or throw on each.
  for (const event of ['error', 'connection_error', 'session_error', 'sender_error', 'receiver_error']) {
    container.on(event, () => {});
  }
  container.on('protocol_error', () => {});

  const listener: Server = container.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  listener.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await once(listener, 'listening');
  const port = (listener.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    const closed = listener.listening ? once(listener, 'close') : Promise.resolve();
    listener.close();
    for (const connection of [...connections]) dropConnection(connection);
    for (const socket of sockets) socket.destroy();
    consumers.clear();
    await closed;
    container.removeAllListeners();
  };

  return {
    port,
    connectionString: (hub) =>
      `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=x;UseDevelopmentEmulator=true;EntityPath=${hub}`,
    events: (hub) => {
      const found = store.hub(hub);
      if (found === undefined) throw new Error(`unknown hub '${hub}' (hubs: ${store.hubNames().join(', ')})`);
      return [...found.arrivals];
    },
    onEvent: (l) => store.addListener(l),
    faults,
    counters,
    openConnections: () => connections.size,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
