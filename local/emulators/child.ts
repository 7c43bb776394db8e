/**
 * The emulator process: Azurite (Blob + Table) and the Event Hubs AMQP test server, forked by the offline
 * stack in 'child' mode so they run on a core of their own (local/README.md). It serves the parent over
 * the IPC channel only (protocol.ts) and exits as soon as that channel closes, so a parent that dies,
 * even by SIGKILL, leaves nothing behind.
 */
import { type AzuriteHandle, startAzurite } from '../azurite';
import { type EventHubsServer, type ReceivedEvent, startEventHubsServer } from '../eventhubs';
import type { ChildMessage, ParentMessage, ProcessUsage, WireEvent } from './protocol';

/** Forwarded events are batched: one IPC message per this many ms instead of one per event. */
const FLUSH_MS = 20;

let azurite: AzuriteHandle | undefined;
let eventHubs: EventHubsServer | undefined;
const subscriptions = new Map<number, { fields: readonly string[] | undefined; off: () => void }>();
const pending = new Map<number, WireEvent[]>();
let flushTimer: NodeJS.Timeout | undefined;

const send = (message: ChildMessage): void => {
  if (process.connected) process.send?.(message);
};

// The parent decides when the emulators stop: Ctrl-C reaches the whole process group, and the parent
// keeps using storage and the hub while it drains.
process.on('SIGINT', () => undefined);
// The channel closes when the parent exits or is killed: nothing here is worth keeping.
process.on('disconnect', () => process.exit(0));

function project(body: unknown, fields: readonly string[] | undefined): unknown {
  if (fields === undefined || body === null || typeof body !== 'object') return body;
  const source = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in source) out[f] = source[f];
  return out;
}

function toWire(e: ReceivedEvent, fields: readonly string[] | undefined): WireEvent {
  return {
    hub: e.hub,
    partitionId: e.partitionId,
    sequenceNumber: e.sequenceNumber,
    offset: e.offset,
    enqueuedTime: e.enqueuedTime.getTime(),
    bodyIsBytes: e.bodyBytes !== undefined && e.body === e.bodyBytes,
    body: project(e.body, fields),
    messageId: e.messageId,
    correlationId: e.correlationId,
    contentType: e.contentType,
    partitionKey: e.partitionKey,
    properties: e.properties,
  };
}

function flush(): void {
  flushTimer = undefined;
  if (eventHubs === undefined) return;
  const batches = [...pending].map(([sub, events]) => ({ sub, events }));
  pending.clear();
  send({
    kind: 'events',
    batches,
    counters: { ...eventHubs.counters },
    openConnections: eventHubs.openConnections(),
  });
}

function usage(): ProcessUsage {
  return {
    pid: process.pid,
    cpu: process.cpuUsage(),
    maxRssKb: process.resourceUsage().maxRSS,
    rssBytes: process.memoryUsage.rss(),
  };
}

async function stopAll(): Promise<void> {
  // Events stored so far reach the parent before the stop's answer does.
  if (flushTimer !== undefined) {
    clearTimeout(flushTimer);
    flush();
  }
  for (const s of subscriptions.values()) s.off();
  subscriptions.clear();
  await Promise.all([eventHubs?.stop(), azurite?.stop()]);
}

async function handle(message: ParentMessage): Promise<void> {
  switch (message.kind) {
    case 'start': {
      try {
        azurite = await startAzurite(message.azurite);
        eventHubs = await startEventHubsServer(message.eventHubs);
        send({
          kind: 'ready',
          azurite: { blobEndpoint: azurite.blobEndpoint, tableEndpoint: azurite.tableEndpoint },
          eventHubsPort: eventHubs.port,
        });
      } catch (error) {
        const e = error as Error;
        send({ kind: 'failed', message: e.message, stack: e.stack });
        await stopAll().catch(() => undefined);
        process.disconnect();
      }
      return;
    }
    case 'subscribe': {
      if (eventHubs === undefined) return;
      const fields = message.bodyFields;
      const off = eventHubs.onEvent((e) => {
        let list = pending.get(message.sub);
        if (list === undefined) {
          list = [];
          pending.set(message.sub, list);
        }
        list.push(toWire(e, fields));
        flushTimer ??= setTimeout(flush, FLUSH_MS);
      });
      subscriptions.set(message.sub, { fields, off });
      return;
    }
    case 'unsubscribe': {
      subscriptions.get(message.sub)?.off();
      subscriptions.delete(message.sub);
      pending.delete(message.sub);
      return;
    }
    case 'fault': {
      const faults = eventHubs?.faults;
      if (faults === undefined) return;
      if (message.method === 'failNextSends') faults.failNextSends(...message.args);
      else if (message.method === 'dropConnectionOnNextSend')
        faults.dropConnectionOnNextSend(...message.args);
      else if (message.method === 'delayReplies') faults.delayReplies(...message.args);
      else if (message.method === 'failSendProbability')
        faults.failSendProbability(message.args[0], undefined, message.args[2]);
      else faults.reset();
      return;
    }
    case 'call': {
      try {
        if (message.op === 'usage') {
          send({ kind: 'result', id: message.id, value: usage() });
          return;
        }
        await stopAll();
        send({ kind: 'result', id: message.id, value: usage() });
        // Closing the channel ends the process once the servers' handles are gone.
        process.disconnect();
      } catch (error) {
        send({ kind: 'error', id: message.id, message: (error as Error).message });
      }
      return;
    }
  }
}

process.on('message', (message: ParentMessage) => {
  void handle(message);
});
