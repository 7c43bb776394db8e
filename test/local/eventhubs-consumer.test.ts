import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type ReceivedEventData,
  type SubscribeOptions,
} from '@azure/event-hubs';
import { create_container, type EventContext, types } from 'rhea';
import { type EventHubsServer, startEventHubsServer } from '../../local/eventhubs';

let server: EventHubsServer;
before(async () => {
  server = await startEventHubsServer({ hubs: { flows: 2, live: 1, positions: 1, credit: 1 } });
});
after(async () => {
  await server.stop();
});

async function until(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function send(hub: string, fn: (p: EventHubProducerClient) => Promise<void>): Promise<void> {
  const producer = new EventHubProducerClient(server.connectionString(hub));
  try {
    await fn(producer);
  } finally {
    await producer.close();
  }
}

/** Subscribes (to one partition or all), runs `fn` with the live list of received events, closes. */
async function consume(
  hub: string,
  partitionId: string | undefined,
  options: SubscribeOptions,
  fn: (received: ReceivedEventData[]) => Promise<void>,
): Promise<void> {
  const consumer = new EventHubConsumerClient('$default', server.connectionString(hub));
  const received: ReceivedEventData[] = [];
  const errors: Error[] = [];
  const handlers = {
    processEvents: async (events: ReceivedEventData[]) => {
      received.push(...events);
    },
    processError: async (err: Error) => {
      errors.push(err);
    },
  };
  const subscription =
    partitionId === undefined
      ? consumer.subscribe(handlers, options)
      : consumer.subscribe(partitionId, handlers, options);
  try {
    await fn(received);
    assert.deepEqual(errors, []);
  } finally {
    await subscription.close();
    await consumer.close();
  }
}

test('a consumer reads every partition from earliest, with the service annotations', async () => {
  await send('flows', async (p) => {
    await p.sendBatch(
      Array.from({ length: 5 }, (_, i) => ({ body: { p: 0, i }, messageId: `a${i}` })),
      { partitionId: '0' },
    );
    await p.sendBatch(
      Array.from({ length: 3 }, (_, i) => ({ body: { p: 1, i }, messageId: `b${i}` })),
      { partitionId: '1' },
    );
  });
  const stored = server.events('flows');

  await consume(
    'flows',
    undefined,
    { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
    async (got) => {
      await until('8 events', () => got.length >= 8);
      assert.equal(got.length, 8);
      for (const partitionId of ['0', '1']) {
        const mine = stored.filter((e) => e.partitionId === partitionId);
        const theirs = got.filter((e) => mine.some((m) => m.messageId === e.messageId));
        assert.deepEqual(
          theirs.map((e) => [e.messageId, e.sequenceNumber, e.offset, e.enqueuedTimeUtc.getTime(), e.body]),
          mine.map((e) => [e.messageId, e.sequenceNumber, e.offset, e.enqueuedTime.getTime(), e.body]),
        );
        assert.equal(typeof theirs[0]?.offset, 'string');
      }
      assert.deepEqual(
        got.filter((e) => String(e.messageId).startsWith('a')).map((e) => e.sequenceNumber),
        [0, 1, 2, 3, 4],
      );
    },
  );
});

test('events sent while subscribed arrive live, with their partition key', async () => {
  await send('live', async (p) => p.sendBatch([{ body: 'first' }], { partitionKey: 'nsg-1' }));
  await consume(
    'live',
    '0',
    { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
    async (got) => {
      await until('the first event', () => got.length === 1);
      await send('live', async (p) =>
        p.sendBatch([{ body: 'second', messageId: 'm2' }], { partitionKey: 'nsg-1' }),
      );
      await until('the second event', () => got.length === 2);
      assert.deepEqual(
        got.map((e) => [e.body, e.sequenceNumber, e.partitionKey]),
        [
          ['first', 0, 'nsg-1'],
          ['second', 1, 'nsg-1'],
        ],
      );
      assert.equal(got[1]?.messageId, 'm2');
    },
  );
});

test('start positions by sequence number and by offset select the right events', async () => {
  await send('positions', async (p) =>
    p.sendBatch(
      Array.from({ length: 5 }, (_, i) => ({ body: i })),
      { partitionId: '0' },
    ),
  );
  const offsetOf1 = server.events('positions')[1]?.offset;
  assert.ok(offsetOf1 !== undefined);

  await consume(
    'positions',
    '0',
    { startPosition: { sequenceNumber: 2 }, maxWaitTimeInSeconds: 1 },
    async (got) => {
      await until('events after #2', () => got.length >= 2);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        got.map((e) => e.body),
        [3, 4],
      );
    },
  );
  await consume(
    'positions',
    '0',
    { startPosition: { offset: offsetOf1, isInclusive: true }, maxWaitTimeInSeconds: 1 },
    async (got) => {
      await until('events from offset of #1', () => got.length >= 4);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(
        got.map((e) => e.body),
        [1, 2, 3, 4],
      );
    },
  );
});

test('the server sends no more than the link credit, and @latest skips stored events', async () => {
  await send('credit', async (p) =>
    p.sendBatch(
      Array.from({ length: 5 }, (_, i) => ({ body: i })),
      { partitionId: '0' },
    ),
  );
  // A bare rhea client, so credit is under the test's control.
  const container = create_container();
  const connection = container.connect({ host: '127.0.0.1', port: server.port, reconnect: false });
  const selector = (expr: string) => ({
    'apache.org:selector-filter:string': types.wrap_described(expr, 0x468c00000004),
  });
  const bodies: number[] = [];
  const latest: number[] = [];
  try {
    const receiver = connection.open_receiver({
      source: {
        address: 'credit/ConsumerGroups/$default/Partitions/0',
        filter: selector("amqp.annotation.x-opt-offset > '-1'"),
      },
      credit_window: 0,
    });
    receiver.on('message', (ctx: EventContext) => {
      bodies.push(JSON.parse(String(ctx.message?.body?.content)) as number);
    });
    await new Promise((r) => receiver.once('receiver_open', r));
    receiver.add_credit(2);
    await until('two events', () => bodies.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(bodies, [0, 1]); // nothing beyond the credit
    receiver.add_credit(10);
    await until('the rest', () => bodies.length === 5);
    assert.deepEqual(bodies, [0, 1, 2, 3, 4]);

    const tail = connection.open_receiver({
      source: {
        address: 'credit/ConsumerGroups/$default/Partitions/0',
        filter: selector("amqp.annotation.x-opt-offset > '@latest'"),
      },
      credit_window: 10,
    });
    tail.on('message', (ctx: EventContext) => {
      latest.push(JSON.parse(String(ctx.message?.body?.content)) as number);
    });
    await new Promise((r) => tail.once('receiver_open', r));
    await send('credit', async (p) => p.sendBatch([{ body: 5 }], { partitionId: '0' }));
    await until('the new event on both links', () => latest.length === 1 && bodies.length === 6);
    assert.deepEqual(latest, [5]);
    assert.deepEqual(bodies, [0, 1, 2, 3, 4, 5]);
  } finally {
    connection.close();
    await new Promise((r) => connection.once('connection_close', r));
  }
});
