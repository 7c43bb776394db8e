import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventHubProducerClient, type RetryOptions } from '@azure/event-hubs';
import { create_container, type EventContext, message } from 'rhea';
import { type EventHubsServer, type ReceivedEvent, startEventHubsServer } from '../../local/eventhubs';

const fastRetries: RetryOptions = {
  maxRetries: 3,
  retryDelayInMs: 10,
  maxRetryDelayInMs: 50,
  timeoutInMs: 5_000,
};

let server: EventHubsServer;
let hubCounter = 0;

// One server for the file; each test uses its own hub so counts and offsets start from zero.
const hubs = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`hub${i}`, 3]));
before(async () => {
  server = await startEventHubsServer({ hubs });
});
after(async () => {
  await server.stop();
});

// The producer applies its client-level retryOptions to every call (per-call ones are ignored).
async function withProducer<T>(
  fn: (p: EventHubProducerClient, hub: string) => Promise<T>,
  retryOptions: RetryOptions = fastRetries,
): Promise<T> {
  const hub = `hub${hubCounter++}`;
  const producer = new EventHubProducerClient(server.connectionString(hub), { retryOptions });
  try {
    return await fn(producer, hub);
  } finally {
    await producer.close();
  }
}

test('hub and partition properties come from $management', async () => {
  await withProducer(async (producer, hub) => {
    const props = await producer.getEventHubProperties();
    assert.equal(props.name, hub);
    assert.deepEqual(props.partitionIds, ['0', '1', '2']);
    assert.ok(props.createdOn instanceof Date && !Number.isNaN(props.createdOn.getTime()));
    assert.deepEqual(await producer.getPartitionIds(), ['0', '1', '2']);

    const empty = await producer.getPartitionProperties('2');
    assert.equal(empty.partitionId, '2');
    assert.equal(empty.eventHubName, hub);
    assert.equal(empty.isEmpty, true);
    assert.equal(empty.lastEnqueuedSequenceNumber, -1);

    await producer.sendBatch([{ body: { n: 1 } }, { body: { n: 2 } }], { partitionId: '2' });
    const [, second] = server.events(hub);
    assert.ok(second);
    const filled = await producer.getPartitionProperties('2');
    assert.equal(filled.isEmpty, false);
    assert.equal(filled.beginningSequenceNumber, 0);
    assert.equal(filled.lastEnqueuedSequenceNumber, 1);
    assert.equal(filled.lastEnqueuedOffset, second.offset);
    assert.equal(filled.lastEnqueuedOnUtc.getTime(), second.enqueuedTime.getTime());
  });
});

test('unknown hubs and partitions are refused the way the service refuses them', async () => {
  const codeOf = (err: unknown): string | undefined => (err as { code?: string }).code;
  const producer = new EventHubProducerClient(server.connectionString('no-such-hub'), {
    retryOptions: fastRetries,
  });
  try {
    const before = server.counters.sends;
    await assert.rejects(
      producer.getEventHubProperties(),
      (err) => codeOf(err) === 'MessagingEntityNotFoundError',
    );
    await assert.rejects(
      producer.sendBatch([{ body: 1 }]),
      (err) => codeOf(err) === 'MessagingEntityNotFoundError',
    );
    assert.equal(server.counters.sends, before); // refused at attach, nothing was transferred
  } finally {
    await producer.close();
  }
  await withProducer(async (known) => {
    await assert.rejects(
      known.getPartitionProperties('9'),
      (err) => codeOf(err) === 'ArgumentOutOfRangeError',
    );
    await assert.rejects(
      known.sendBatch([{ body: 1 }], { partitionId: '9' }),
      (err) => codeOf(err) === 'ArgumentOutOfRangeError',
    );
  });
});

test('the server enforces max_message_size on what it receives', async () => {
  // The SDK never sends more than the advertised size, so a bare rhea client plays a rogue producer.
  const small = await startEventHubsServer({ hubs: { tiny: 1 }, maxMessageSize: 1024 });
  const connection = create_container().connect({ host: '127.0.0.1', port: small.port, reconnect: false });
  try {
    const sender = connection.open_sender({ target: { address: 'tiny' } });
    await new Promise((r) => sender.once('sendable', r));
    assert.equal(sender.max_message_size, 1024); // as advertised on attach
    const outcome = (bytes: number) =>
      new Promise<{ condition?: string; description?: string } | 'accepted'>((resolve) => {
        const batch = message.encode({
          body: message.data_sections([message.encode({ body: message.data_section(Buffer.alloc(bytes)) })]),
        });
        const delivery = sender.send(batch, undefined, 0x80013700);
        const onSettled = (ctx: EventContext) => {
          if (ctx.delivery !== delivery) return;
          sender.removeListener('accepted', onSettled);
          sender.removeListener('rejected', onSettled);
          const state = ctx.delivery.remote_state as { error?: { condition?: string } } | undefined;
          resolve(state?.error ?? 'accepted');
        };
        sender.on('accepted', onSettled);
        sender.on('rejected', onSettled);
      });
    assert.equal(await outcome(500), 'accepted');
    const refused = await outcome(2000);
    assert.notEqual(refused, 'accepted');
    assert.equal(refused === 'accepted' ? undefined : refused.condition, 'amqp:link:message-size-exceeded');
    assert.equal(small.events('tiny').length, 1);
    assert.equal(small.events('tiny')[0]?.bodyBytes?.length, 500);
  } finally {
    connection.close();
    await new Promise((r) => connection.once('connection_close', r));
    await small.stop();
  }
});

test('createBatch carries the 1 MiB limit and tryAdd refuses what would cross it', async () => {
  await withProducer(async (producer, hub) => {
    const batch = await producer.createBatch({ partitionKey: 'big' });
    assert.equal(batch.maxSizeInBytes, 1024 * 1024);

    const chunk = 100 * 1024;
    let added = 0;
    while (batch.tryAdd({ body: Buffer.alloc(chunk, added), messageId: `m${added}` })) added++;
    assert.equal(added, 10); // 10 x 100 KiB plus framing fits, an 11th does not
    assert.ok(batch.sizeInBytes <= batch.maxSizeInBytes);
    assert.ok(batch.sizeInBytes + chunk > batch.maxSizeInBytes);

    const lone = await producer.createBatch();
    assert.equal(lone.tryAdd({ body: Buffer.alloc(1024 * 1024) }), false); // too large even alone
    assert.equal(lone.count, 0);

    await producer.sendBatch(batch);
    const events = server.events(hub);
    assert.equal(events.length, 10);
    assert.deepEqual(
      events.map((e) => [e.messageId, e.bodyBytes?.length, e.bodyBytes?.[0]]),
      Array.from({ length: 10 }, (_, i) => [`m${i}`, chunk, i]),
    );
  });

  const small = await startEventHubsServer({ hubs: { tiny: 1 }, maxMessageSize: 64 * 1024 });
  const producer = new EventHubProducerClient(small.connectionString('tiny'));
  try {
    assert.equal((await producer.createBatch()).maxSizeInBytes, 64 * 1024);
  } finally {
    await producer.close();
    await small.stop();
  }
});

test('a batched send with a partition key and message ids arrives with them', async () => {
  await withProducer(async (producer, hub) => {
    const seen: ReceivedEvent[] = [];
    const unsubscribe = server.onEvent((e) => {
      if (e.hub === hub) seen.push(e);
    });
    const batch = await producer.createBatch({ partitionKey: 'nsg-a' });
    for (let i = 0; i < 3; i++) {
      assert.ok(
        batch.tryAdd({
          body: { window: '2026-11-30T10:00Z', flows: i },
          messageId: `sum-${i}`,
          contentType: 'application/json',
          properties: { schema: 'v1', index: i },
        }),
      );
    }
    await producer.sendBatch(batch);
    await producer.sendBatch([{ body: { flows: 3 }, messageId: 'sum-3' }], { partitionKey: 'nsg-a' });
    await producer.sendBatch([{ body: 'pinned', messageId: 'p' }], { partitionId: '1' });
    unsubscribe();

    const events = server.events(hub);
    assert.deepEqual(seen, events);
    const keyed = events.filter((e) => e.partitionKey === 'nsg-a');
    assert.deepEqual(
      keyed.map((e) => e.messageId),
      ['sum-0', 'sum-1', 'sum-2', 'sum-3'],
    );
    // Same key, same partition, consecutive sequence numbers and growing offsets.
    assert.equal(new Set(keyed.map((e) => e.partitionId)).size, 1);
    assert.deepEqual(
      keyed.map((e) => e.sequenceNumber),
      [0, 1, 2, 3],
    );
    const offsets = keyed.map((e) => Number(e.offset));
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
    );
    assert.equal(new Set(offsets).size, 4);
    assert.deepEqual(keyed[1]?.body, { window: '2026-11-30T10:00Z', flows: 1 });
    assert.equal(keyed[1]?.contentType, 'application/json');
    assert.deepEqual(keyed[1]?.properties, { schema: 'v1', index: 1 });
    // The three events of one batch share one enqueue time.
    assert.equal(new Set(keyed.slice(0, 3).map((e) => e.enqueuedTime.getTime())).size, 1);

    const pinned = events.find((e) => e.messageId === 'p');
    assert.equal(pinned?.partitionId, '1');
    assert.equal(pinned?.partitionKey, undefined);
    assert.equal(pinned?.body, 'pinned');
    assert.equal(server.counters.faultsInjected, 0);
  });
});

test('server-busy is retried by the SDK and the batch lands once', async () => {
  await withProducer(async (producer, hub) => {
    await producer.getPartitionIds(); // warm the connection so timings below are about the retries
    const before = { ...server.counters };
    server.faults.failNextSends(2, 'com.microsoft:server-busy');
    await producer.sendBatch([{ body: { ok: true }, messageId: 'busy-1' }], { partitionKey: 'k' });
    assert.equal(server.counters.sends - before.sends, 3);
    assert.equal(server.counters.faultsInjected - before.faultsInjected, 2);
    assert.equal(server.counters.batches - before.batches, 1);
    assert.deepEqual(
      server.events(hub).map((e) => e.messageId),
      ['busy-1'],
    );
  });
});

test('retries run out: the ServerBusyError of every attempt surfaces together', async () => {
  await withProducer(
    async (producer, hub) => {
      const before = server.counters.sends;
      server.faults.failNextSends(10);
      try {
        await assert.rejects(producer.sendBatch([{ body: 1 }]), (err: unknown) => {
          // core-amqp throws an AggregateError with one error per attempt once retries run out.
          assert.ok(err instanceof AggregateError);
          assert.deepEqual(
            err.errors.map((e: { code?: string }) => e.code),
            ['ServerBusyError', 'ServerBusyError', 'ServerBusyError'],
          );
          return true;
        });
      } finally {
        server.faults.reset();
      }
      assert.equal(server.counters.sends - before, 3); // first attempt + 2 retries
      assert.deepEqual(server.events(hub), []);
    },
    { ...fastRetries, maxRetries: 2 },
  );
});

test('a permanent error surfaces at once, without retries', async () => {
  await withProducer(async (producer, hub) => {
    await producer.getPartitionIds();
    const before = server.counters.sends;
    server.faults.failNextSends(1, 'amqp:resource-limit-exceeded', 'quota gone');
    await assert.rejects(producer.sendBatch([{ body: 'x' }]), (err: unknown) => {
      const e = err as { code?: string; message?: string; retryable?: boolean };
      assert.equal(e.code, 'QuotaExceededError');
      assert.equal(e.message, 'quota gone');
      assert.equal(e.retryable, false);
      return true;
    });
    assert.equal(server.counters.sends - before, 1);
    assert.deepEqual(server.events(hub), []);
    // The link is still usable afterwards.
    await producer.sendBatch([{ body: 'y', messageId: 'after' }]);
    assert.deepEqual(
      server.events(hub).map((e) => e.messageId),
      ['after'],
    );
  });
});

test('a dropped connection is recovered by the SDK; a lost acknowledgement duplicates', async (t) => {
  // @azure/event-hubs 6.0.4 does not fail an in-flight send when its connection drops: it waits
  // out retryOptions.timeoutInMs, then retries on a new connection. Keep that short here.
  const timeoutInMs = 1_000;
  await withProducer(
    async (producer, hub) => {
      await producer.sendBatch([{ body: 0, messageId: 'warm' }], { partitionId: '0' });
      const before = { ...server.counters };
      server.faults.dropConnectionOnNextSend();
      const t0 = performance.now();
      await producer.sendBatch([{ body: 1, messageId: 'lost-then-resent' }], { partitionId: '0' });
      t.diagnostic(
        `recovered after ${Math.round(performance.now() - t0)} ms (send timeout ${timeoutInMs} ms)`,
      );
      assert.deepEqual(
        server.events(hub).map((e) => e.messageId),
        ['warm', 'lost-then-resent'],
      );
      assert.equal(server.counters.sends - before.sends, 2);
      assert.equal(server.counters.faultsInjected - before.faultsInjected, 1);

      // Stored, then the connection dies before the outcome reaches the client: the retry duplicates.
      server.faults.dropConnectionOnNextSend({ afterStoring: true });
      await producer.sendBatch([{ body: 2, messageId: 'dup' }], { partitionId: '0' });
      const events = server.events(hub);
      assert.deepEqual(
        events.map((e) => e.messageId),
        ['warm', 'lost-then-resent', 'dup', 'dup'],
      );
      assert.deepEqual(
        events.map((e) => e.sequenceNumber),
        [0, 1, 2, 3],
      );
    },
    { ...fastRetries, timeoutInMs },
  );
});

test('delayed replies slow sends down, and a client timeout can still leave the batch stored', async () => {
  await withProducer(
    async (producer, hub) => {
      await producer.sendBatch([{ body: 'warm' }], { partitionId: '0' });
      server.faults.delayReplies(120);
      try {
        const t0 = performance.now();
        await producer.sendBatch([{ body: 'slow', messageId: 'slow' }], { partitionId: '0' });
        assert.ok(performance.now() - t0 >= 110, 'send waited for the delayed outcome');

        server.faults.delayReplies(5_000);
        await assert.rejects(
          producer.sendBatch([{ body: 'late', messageId: 'late' }], { partitionId: '0' }),
          (err: unknown) => {
            assert.equal((err as { code?: string }).code, 'OperationTimeoutError');
            return true;
          },
        );
      } finally {
        server.faults.reset();
      }
      // The server stored the batch whose outcome the client gave up waiting for.
      assert.deepEqual(
        server.events(hub).map((e) => e.body),
        ['warm', 'slow', 'late'],
      );
    },
    { maxRetries: 0, timeoutInMs: 1_500 },
  );
});

test('random faults from a seeded generator are retried to success', async () => {
  await withProducer(async (producer, hub) => {
    await producer.getPartitionIds();
    const before = { ...server.counters };
    const draws = [0.1, 0.9]; // every batch: first attempt refused, second accepted
    let i = 0;
    server.faults.failSendProbability(0.5, () => draws[i++ % draws.length]!);
    try {
      for (let n = 0; n < 5; n++) await producer.sendBatch([{ body: n }], { partitionKey: 'r' });
    } finally {
      server.faults.reset();
    }
    assert.equal(server.counters.sends - before.sends, 10);
    assert.equal(server.counters.faultsInjected - before.faultsInjected, 5);
    assert.deepEqual(
      server.events(hub).map((e) => e.body),
      [0, 1, 2, 3, 4],
    );
  });
});

// rhea writes the settlements one session makes in one tick as disposition ranges, and its first range
// takes the first delivery's outcome for the second whatever that one's is: a refused send next to an
// accepted one was reported accepted, and the batch was lost while the producer counted it sent.
test('concurrent sends with mixed outcomes: each sender learns its own outcome', async () => {
  for (const firstRefused of [false, true]) {
    await withProducer(
      async (producer, hub) => {
        await producer.getPartitionIds();
        let i = 0;
        // Sends alternate accepted / refused (or refused / accepted) in the order they arrive.
        server.faults.failSendProbability(0.5, () => ((i++ % 2 === 0) === firstRefused ? 0.1 : 0.9));
        const outcomes = await Promise.all(
          Array.from({ length: 30 }, (_, n) =>
            producer.sendBatch([{ body: n }], { partitionKey: `k${n}` }).then(
              () => true,
              () => false,
            ),
          ),
        );
        server.faults.reset();
        const stored = new Set(server.events(hub).map((e) => e.body as number));
        const reportedSent = outcomes.flatMap((ok, n) => (ok ? [n] : []));
        const reportedRefused = outcomes.flatMap((ok, n) => (ok ? [] : [n]));
        assert.equal(reportedRefused.length, 15, 'half of the sends were refused');
        assert.deepEqual(
          reportedSent.filter((n) => !stored.has(n)),
          [],
          'a send reported as sent was stored',
        );
        assert.deepEqual(
          reportedRefused.filter((n) => stored.has(n)),
          [],
          'a send reported as refused was not stored',
        );
      },
      { maxRetries: 0, timeoutInMs: 5_000 },
    );
  }
});
