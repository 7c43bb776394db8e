import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readAppConfig } from '../../adapters/config';
import { ExternalError } from '../../adapters/errors';
import { SEND_ATTEMPTS, SummaryEmitter, type SummaryEvent } from '../../adapters/event-hubs';
import { seededRandom } from '../../domain/simulate/simulate';
import { type EventHubsServer, startEventHubsServer } from '../../local/eventhubs';

const HUBS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;
let server: EventHubsServer;
before(async () => {
  // A small batch limit: several batches per emit with a few dozen summaries.
  server = await startEventHubsServer({
    hubs: Object.fromEntries(HUBS.map((h) => [h, 2])),
    maxMessageSize: 4096,
  });
});
after(async () => server.stop());

/** The emitter as the app builds it (SDK retry settings included), for one hub of the test server. */
function emitterFor(hub: string): SummaryEmitter {
  const config = readAppConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    FLOWLOG_SOURCE_ACCOUNTS: 'acct',
    FLOWLOG_SOURCE_CONNECTION_STRINGS: JSON.stringify({ acct: 'UseDevelopmentStorage=true' }),
    EventHubConnection: server.connectionString(hub),
  });
  return SummaryEmitter.fromConfig(config, { attempts: SEND_ATTEMPTS, firstDelayMs: 5, maxDelayMs: 20 });
}

function summaries(n: number, prefix: string): SummaryEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(4, '0')}`,
    resourceId: `/r/${i % 3}`,
    body: Buffer.from(JSON.stringify({ id: `${prefix}-${i}`, pad: 'x'.repeat(300) })),
  }));
}

describe('SummaryEmitter', () => {
  test('several batches per emit: every summary arrives once, with its id and partition key', async () => {
    const emitter = emitterFor('a');
    try {
      const events = summaries(40, 'a');
      const stats = await emitter.emit(events);
      assert.equal(stats.events, 40);
      assert.ok(stats.batches >= 6, `${stats.batches} batches`);
      const stored = server.events('a');
      assert.deepEqual(stored.map((e) => e.messageId).sort(), events.map((e) => e.id).sort());
      for (const e of stored) assert.equal(e.partitionKey, `/r/${Number(String(e.messageId).slice(2)) % 3}`);
    } finally {
      await emitter.close();
    }
  });

  test('one owner per retry: a batch the hub keeps refusing is sent exactly SEND_ATTEMPTS times', async () => {
    const emitter = emitterFor('b');
    try {
      const before = server.counters.sends;
      server.faults.failNextSends(100, 'com.microsoft:server-busy');
      const error = await emitter.emit(summaries(1, 'b')).then(
        () => undefined,
        (e: unknown) => e,
      );
      server.faults.reset();
      assert.ok(error instanceof ExternalError, String(error));
      assert.equal(error.retryable, true, 'Durable retries the activity');
      assert.match(error.message, new RegExp(`after ${SEND_ATTEMPTS} attempt`));
      // No SDK retries under the emitter's: the server saw one transfer per attempt.
      assert.equal(server.counters.sends - before, SEND_ATTEMPTS);
      assert.equal(server.events('b').length, 0);
    } finally {
      await emitter.close();
    }
  });

  test('a busy hub is ridden out inside the activity; a refusal retrying cannot cure is not retried', async () => {
    const emitter = emitterFor('c');
    try {
      server.faults.failNextSends(2, 'com.microsoft:server-busy');
      const stats = await emitter.emit(summaries(3, 'c'));
      assert.equal(stats.retries, 2);
      assert.equal(server.events('c').length, 3);
      const before = server.counters.sends;
      server.faults.failNextSends(1, 'amqp:not-found');
      const error = await emitter.emit(summaries(1, 'c2')).then(
        () => undefined,
        (e: unknown) => e,
      );
      server.faults.reset();
      assert.ok(error instanceof ExternalError, String(error));
      assert.equal(error.retryable, false, 'recorded for an operator, not retried');
      assert.equal(server.counters.sends - before, 1);
    } finally {
      await emitter.close();
    }
  });

  test('concurrent emits on one producer with refused sends: every summary reported sent is stored', async () => {
    const emitter = emitterFor('d');
    try {
      server.faults.failSendProbability(0.25, seededRandom(9));
      const calls = Array.from({ length: 8 }, (_, i) => summaries(30, `d${i}`));
      const results = await Promise.all(
        calls.map((c) =>
          emitter.emit(c).then(
            (s) => s.events,
            () => 0,
          ),
        ),
      );
      server.faults.reset();
      const stored = new Set(server.events('d').map((e) => String(e.messageId)));
      for (const [i, events] of results.entries()) {
        if (events === 0) continue;
        for (const s of calls[i]!) assert.ok(stored.has(s.id), `${s.id} reported sent but not stored`);
      }
      assert.ok(results.some((n) => n > 0));
      assert.ok(server.counters.faultsInjected > 0);
    } finally {
      await emitter.close();
    }
  });
});
