import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from '@azure/event-hubs';
import { startEventHubsServer } from '../../local/eventhubs';

test('retention: a hub keeps its newest events, numbering goes on, readers start at the oldest kept', async () => {
  const server = await startEventHubsServer({ hubs: { h: 1 }, retainEvents: 10 });
  const producer = new EventHubProducerClient(server.connectionString('h'), {
    retryOptions: { maxRetries: 1, timeoutInMs: 5000 },
  });
  try {
    for (let i = 0; i < 50; i++) await producer.sendBatch([{ body: { n: i } }]);
    const kept = server.events('h');
    assert.ok(kept.length >= 10 && kept.length <= 13, `kept ${kept.length}`);
    assert.equal(kept.at(-1)?.sequenceNumber, 49);
    assert.deepEqual((kept.at(-1)?.body as { n: number } | undefined)?.n, 49);
    const props = await producer.getPartitionProperties('0');
    assert.equal(props.lastEnqueuedSequenceNumber, 49);
    assert.ok(props.beginningSequenceNumber >= 37 && props.beginningSequenceNumber <= 40);

    const consumer = new EventHubConsumerClient('$Default', server.connectionString('h'));
    const seen: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const sub = consumer.subscribe(
        '0',
        {
          processEvents: async (events) => {
            for (const e of events) seen.push(e.sequenceNumber);
            if (seen.includes(49)) await sub.close().then(resolve, reject);
          },
          processError: async (err) => reject(err),
        },
        { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
      );
    });
    await consumer.close();
    assert.equal(seen[0], props.beginningSequenceNumber);
    assert.deepEqual(
      seen,
      Array.from({ length: 50 - seen[0]! }, (_, i) => seen[0]! + i),
    );
  } finally {
    await producer.close();
    await server.stop();
  }
});
