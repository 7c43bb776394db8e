import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readAppConfig } from '../../adapters/config';
import { ExternalError } from '../../adapters/errors';
import {
  COMPRESSION_PROPERTY,
  FORMAT_PROPERTY,
  MAPPING_PROPERTY,
  packRows,
  ROWS_FORMAT,
  rowsOfEvent,
  SEND_ATTEMPTS,
  SummaryEmitter,
  TABLE_PROPERTY,
} from '../../adapters/event-hubs';
import { adxRouting } from '../../common/names';
import { murmur128Hex } from '../../domain/hash';
import { seededRandom } from '../../domain/simulate/simulate';
import { type EventHubsServer, startEventHubsServer } from '../../local/eventhubs';

const HUBS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
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
function emitterFor(hub: string, settings: Record<string, string> = {}): SummaryEmitter {
  const config = readAppConfig({
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    FLOWLOG_SOURCE_ACCOUNTS: 'acct',
    FLOWLOG_SOURCE_CONNECTION_STRINGS: JSON.stringify({ acct: 'UseDevelopmentStorage=true' }),
    EventHubConnection: server.connectionString(hub),
    // ~3 rows of ~330 bytes per event: several events per batch and several batches per emit.
    FLOWLOG_EVENT_MAX_BYTES: '1000',
    ...settings,
  });
  return SummaryEmitter.fromConfig(config, { attempts: SEND_ATTEMPTS, firstDelayMs: 5, maxDelayMs: 20 });
}

/**
 * `n` rows as parseChunk stages them (one JSON object per line, id then group first), in three flow
 * groups whose lines come before their first row, and the row and group ids.
 */
function rows(n: number, prefix: string): { bytes: Uint8Array; ids: string[]; groups: string[] } {
  const ids = Array.from({ length: n }, (_, i) => murmur128Hex(`${prefix}-${i}`));
  const groups: string[] = [];
  let text = '';
  for (const [i, id] of ids.entries()) {
    const group = murmur128Hex(`${prefix}-group-${Math.floor((3 * i) / n)}`).slice(0, 16);
    if (!groups.includes(group)) {
      groups.push(group);
      text += `${JSON.stringify({ group, resourceId: `/r/${prefix}`, rule: 'R' })}\n`;
    }
    text += `${JSON.stringify({ id, group, n: i, pad: 'x'.repeat(280) })}\n`;
  }
  return { bytes: new TextEncoder().encode(text), ids, groups };
}

/** Every row stored on a hub (FlowSummaries events), in arrival order, with the event it came in. */
function storedRows(hub: string): { id: string; messageId: string; partitionKey: string | undefined }[] {
  return server
    .events(hub)
    .filter((e) => e.properties[TABLE_PROPERTY] === adxRouting.rows.table)
    .flatMap((e) =>
      rowsOfEvent(e.bodyBytes ?? e.body, e.properties).map((line) => ({
        id: (JSON.parse(line) as { id: string }).id,
        messageId: String(e.messageId),
        partitionKey: e.partitionKey,
      })),
    );
}

/** Every group line stored on a hub (FlowGroups events), in arrival order. */
function storedGroups(hub: string): string[] {
  return server
    .events(hub)
    .filter((e) => e.properties[TABLE_PROPERTY] === adxRouting.groups.table)
    .flatMap((e) =>
      rowsOfEvent(e.bodyBytes ?? e.body, e.properties).map((l) => (JSON.parse(l) as { group: string }).group),
    );
}

describe('SummaryEmitter', () => {
  test('packRows: whole lines, bodies within the bound, a longer row alone, nothing lost', () => {
    const text = ['{"id":"a"}', `{"id":"b","pad":"${'x'.repeat(50)}"}`, '{"id":"c"}', '{"id":"d"}']
      .map((l) => `${l}\n`)
      .join('');
    const bytes = new TextEncoder().encode(text);
    const bodies = packRows(bytes, 30).map((b) => new TextDecoder().decode(b));
    assert.deepEqual(bodies, [
      '{"id":"a"}\n',
      `{"id":"b","pad":"${'x'.repeat(50)}"}\n`,
      '{"id":"c"}\n{"id":"d"}\n',
    ]);
    assert.equal(bodies.join(''), text);
    assert.deepEqual(packRows(bytes, 1 << 20).length, 1);
    assert.deepEqual(packRows(new Uint8Array(0), 100), []);
  });

  test('several rows per event, several events per batch, several batches per emit: every row once', async () => {
    const emitter = emitterFor('a');
    try {
      const { bytes, ids, groups } = rows(40, 'a');
      const stats = await emitter.emitRows(bytes, 'blob-key-a', 'test rows');
      assert.equal(stats.rows, 40);
      assert.equal(stats.groups, 3);
      assert.deepEqual(storedGroups('a'), groups, 'every group line once');
      // The group lines go first: a consumer (and ADX) has a row's group before the row.
      const kinds = server.events('a').map((e) => e.properties[TABLE_PROPERTY]);
      assert.equal(kinds[0], adxRouting.groups.table);
      assert.ok(kinds.slice(1).every((t) => t === adxRouting.rows.table));
      // ~2-3 rows of ~370 bytes per 1000-byte event, and one event of the three group lines.
      assert.ok(stats.events >= 14 && stats.events <= 22, `${stats.events} events for 40 rows of ~370 bytes`);
      assert.ok(stats.batches >= 3, `${stats.batches} batches`);
      const stored = storedRows('a');
      assert.deepEqual(
        stored.map((r) => r.id),
        ids,
        'every row once, in order',
      );
      for (const e of server.events('a')) {
        assert.equal(e.partitionKey, 'blob-key-a');
        assert.equal(e.properties[FORMAT_PROPERTY], ROWS_FORMAT);
        assert.equal(e.properties[COMPRESSION_PROPERTY], undefined);
        const inEvent = rowsOfEvent(e.bodyBytes ?? e.body, e.properties);
        const first = JSON.parse(inEvent[0]!) as { id?: string; group: string };
        if (e.properties[TABLE_PROPERTY] === adxRouting.groups.table) {
          assert.equal(e.properties[MAPPING_PROPERTY], adxRouting.groups.mapping);
          assert.equal(String(e.messageId), `g${first.group}+${inEvent.length}`);
        } else {
          assert.equal(e.properties[MAPPING_PROPERTY], adxRouting.rows.mapping);
          assert.equal(String(e.messageId), `${first.id}+${inEvent.length}`);
        }
      }
    } finally {
      await emitter.close();
    }
  });

  test('a hub with smaller messages than the setting gets smaller events, never a refusal', async () => {
    // The test hub takes 4 KB messages; the setting allows 240 KB events: bodies are cut to the hub.
    const emitter = emitterFor('e', { FLOWLOG_EVENT_MAX_BYTES: '240000' });
    try {
      const { bytes, ids } = rows(40, 'e');
      const stats = await emitter.emitRows(bytes, 'k', 'test rows');
      assert.equal(stats.rows, 40);
      assert.ok(stats.events >= 4, `${stats.events} events`);
      for (const e of server.events('e')) assert.ok((e.bodyBytes?.length ?? 0) <= 4096);
      assert.deepEqual(
        storedRows('e').map((r) => r.id),
        ids,
      );
    } finally {
      await emitter.close();
    }
  });

  test('gzip: bodies compressed with the Compression property; rows read back the same', async () => {
    const emitter = emitterFor('g', { FLOWLOG_EVENT_GZIP: 'true', FLOWLOG_EVENT_MAX_BYTES: '240000' });
    try {
      // 40 rows, 13 KB, cut to the test hub's 4 KB messages before compression.
      const { bytes, ids } = rows(40, 'g');
      const stats = await emitter.emitRows(bytes, 'k', 'test rows');
      assert.equal(stats.rows, 40);
      const stored = server.events('g');
      assert.equal(stored.length, stats.events);
      for (const e of stored) assert.equal(e.properties[COMPRESSION_PROPERTY], 'gzip');
      const wire = stored.reduce((n, e) => n + (e.bodyBytes?.length ?? 0), 0);
      assert.ok(wire < bytes.length / 4, `${wire} bytes on the wire for ${bytes.length} bytes of rows`);
      assert.deepEqual(
        storedRows('g').map((r) => r.id),
        ids,
      );
    } finally {
      await emitter.close();
    }
  });

  test('a staged line that is not a summary row fails permanently, naming the file and byte, before sending', async () => {
    const emitter = emitterFor('f');
    try {
      const { bytes } = rows(5, 'f');
      const broken = new Uint8Array([...bytes, ...new TextEncoder().encode('not a row\n')]);
      const error = await emitter.emitRows(broken, 'k', 'staged rows x.ndjson').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof ExternalError, String(error));
      assert.equal(error.retryable, false);
      assert.match(
        error.message,
        new RegExp(`^staged rows x\\.ndjson, byte ${bytes.length}: not a summary row or group line`),
      );
      assert.equal(server.events('f').length, 0, 'nothing sent');
      // A row whose group line is not before it: refused the same way, naming the group.
      const text = new TextDecoder().decode(bytes);
      const firstGroupLine = text.indexOf('\n') + 1;
      const orphan = new TextEncoder().encode(text.slice(firstGroupLine));
      const missing = await emitter.emitRows(orphan, 'k', 'staged rows y.ndjson').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(missing instanceof ExternalError && !missing.retryable, String(missing));
      assert.match(
        missing.message,
        /^staged rows y\.ndjson, byte 0: summary row of group [0-9a-f]{16} before/,
      );
      assert.equal(server.events('f').length, 0, 'nothing sent');
    } finally {
      await emitter.close();
    }
  });

  test('one owner per retry: a batch the hub keeps refusing is sent exactly SEND_ATTEMPTS times', async () => {
    const emitter = emitterFor('b');
    try {
      const before = server.counters.sends;
      server.faults.failNextSends(100, 'com.microsoft:server-busy');
      const error = await emitter.emitRows(rows(1, 'b').bytes, 'k', 'test').then(
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
      const stats = await emitter.emitRows(rows(3, 'c').bytes, 'k', 'test');
      assert.equal(stats.retries, 2);
      assert.equal(storedRows('c').length, 3);
      const before = server.counters.sends;
      server.faults.failNextSends(1, 'amqp:not-found');
      const error = await emitter.emitRows(rows(1, 'c2').bytes, 'k', 'test').then(
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
      const calls = Array.from({ length: 8 }, (_, i) => rows(30, `d${i}`));
      const results = await Promise.all(
        calls.map((c) =>
          emitter.emitRows(c.bytes, 'k', 'test').then(
            (s) => s.rows,
            () => 0,
          ),
        ),
      );
      server.faults.reset();
      const stored = new Set(storedRows('d').map((r) => r.id));
      for (const [i, sent] of results.entries()) {
        if (sent === 0) continue;
        for (const id of calls[i]!.ids) assert.ok(stored.has(id), `${id} reported sent but not stored`);
      }
      assert.ok(results.some((n) => n > 0));
      assert.ok(server.counters.faultsInjected > 0);
    } finally {
      await emitter.close();
    }
  });
});
