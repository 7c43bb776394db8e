import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { EventHubConsumerClient, EventHubProducerClient, earliestEventPosition } from '@azure/event-hubs';
import { startEventHubsServer } from '../../local/eventhubs';

const execFileAsync = promisify(execFile);

function connectCode(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

test('stop() drops connected clients, closes the listener, and the clients still close', async () => {
  const server = await startEventHubsServer({ hubs: { h: 1 } });
  const producer = new EventHubProducerClient(server.connectionString('h'), {
    retryOptions: { maxRetries: 0, timeoutInMs: 2_000 }, // bounds how long the cut-off send below waits
  });
  const consumer = new EventHubConsumerClient('$default', server.connectionString('h'));
  let received = 0;
  const subscription = consumer.subscribe(
    '0',
    {
      processEvents: async (events) => {
        received += events.length;
      },
      processError: async () => {},
    },
    { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
  );
  try {
    await producer.sendBatch([{ body: 'hello' }]);
    const deadline = Date.now() + 5_000;
    while (received < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received, 1);
    assert.equal(server.openConnections(), 2);

    server.faults.delayReplies(60_000); // a pending delayed reply must not outlive stop()
    const pending = producer.sendBatch([{ body: 'never acknowledged' }]).then(
      () => 'sent',
      (err: { code?: string }) => err.code ?? 'failed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await server.stop();
    await server.stop(); // idempotent
    assert.equal(server.openConnections(), 0);
    assert.equal(await connectCode(server.port), 'ECONNREFUSED');
    assert.notEqual(await pending, 'sent');
  } finally {
    await subscription.close();
    await Promise.all([producer.close(), consumer.close()]);
    await server.stop();
  }
});

test('a process that runs the server with real clients exits by itself after stop()', async (t) => {
  const script = `
    const { startEventHubsServer } = require(${JSON.stringify(require.resolve('../../local/eventhubs'))});
    const { EventHubProducerClient, EventHubConsumerClient, earliestEventPosition } = require('@azure/event-hubs');
    (async () => {
      const t0 = Date.now();
      const server = await startEventHubsServer({ hubs: { h: 2 } });
      const producer = new EventHubProducerClient(server.connectionString('h'));
      await producer.getEventHubProperties();
      const t1 = Date.now();
      await producer.sendBatch([{ body: { n: 1 } }], { partitionKey: 'k' });
      const t2 = Date.now();
      await producer.sendBatch([{ body: { n: 2 } }], { partitionKey: 'k' });
      const t3 = Date.now();
      const consumer = new EventHubConsumerClient('$default', server.connectionString('h'));
      let got = 0;
      const sub = consumer.subscribe({
        processEvents: async (events) => { got += events.length; },
        processError: async () => {},
      }, { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 });
      while (got < 2) await new Promise((r) => setTimeout(r, 10));
      await sub.close();
      await Promise.all([producer.close(), consumer.close()]);
      await server.stop();
      console.log(JSON.stringify({ got, firstManagementMs: t1 - t0, firstSendMs: t2 - t1, warmSendMs: t3 - t2 }));
    })();`;
  const started = performance.now();
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: `${__dirname}/../..`,
    timeout: 30_000, // killed (and rejected) if anything keeps it alive
  });
  const result = JSON.parse(stdout.trim()) as { got: number; firstManagementMs: number; warmSendMs: number };
  assert.equal(result.got, 2);
  t.diagnostic(`child run ${Math.round(performance.now() - started)} ms: ${stdout.trim()}`);
});
