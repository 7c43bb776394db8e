import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventHubProducerClient } from '@azure/event-hubs';
import { TABLE_PROPERTY } from '../../adapters/event-hubs';
import { adxRouting } from '../../common/names';
import '../../local/functions-host';
import { names } from '../../common/names';
import { blobCreatedEvent } from '../../local/azure-writer';
import type { ReceivedEvent } from '../../local/eventhubs';
import { EmulatorProcessError, LOCAL_HUB, NSG_CONTAINER, startOfflineStack } from '../../local/offline-stack';
import { simulatedNsgBlob } from '../app/support';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('emulators in a child process: a committed block reaches the hub, and stop leaves no process', async () => {
  const stack = await startOfflineStack({ emulators: 'child', host: { clock: 'real' } });
  const child = stack.emulatorProcess;
  assert.ok(child !== undefined, 'child mode has an emulator process');
  assert.equal(stack.emulators, 'child');
  assert.notEqual(child.pid, process.pid);
  assert.ok(alive(child.pid));
  let stopped = false;
  try {
    const events: ReceivedEvent[] = [];
    stack.eventHubs.onEvent((e) => events.push(e));
    const blob = simulatedNsgBlob(3, 2, 5);
    const commit = await stack.writer.appendRecord(blob.name, blob.records[0]!);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, blob.name, commit),
    );
    await stack.host.waitForIdle({ timeoutMs: 30_000 });
    await until('the summaries on the hub', () => events.length > 1, 10_000);
    const [groups, rows] = [events[0]!, events[1]!];
    assert.equal(groups.hub, LOCAL_HUB);
    assert.ok(groups.messageId !== undefined);
    // The group lines first (FlowGroups), then the rows that name them (FlowSummaries), across the
    // process boundary with their routing properties.
    const text = (e: ReceivedEvent) =>
      e.bodyBytes !== undefined ? e.bodyBytes.toString('utf8') : JSON.stringify(e.body);
    assert.equal(groups.properties[TABLE_PROPERTY], adxRouting.groups.table);
    assert.match(text(groups), /^\{"group":"[0-9a-f]{16}"/);
    assert.equal(rows.properties[TABLE_PROPERTY], adxRouting.rows.table);
    assert.match(text(rows), /^\{"id":"[0-9a-f]{32}","group":"[0-9a-f]{16}"/);
    assert.ok(stack.eventHubs.counters.events >= events.length);
    assert.throws(() => stack.eventHubs.events(LOCAL_HUB), EmulatorProcessError);

    // The child's CPU is its own, not this process's.
    const usage = await child.usage();
    assert.equal(usage.pid, child.pid);
    assert.ok(usage.cpu.user + usage.cpu.system > 0);

    // A fault crosses the boundary: the next send is refused, and the emitter's retry gets it through.
    stack.eventHubs.faults.failNextSends(1);
    const before = events.length;
    const next = await stack.writer.appendRecord(blob.name, blob.records[1]!);
    await stack.host.sendEventGridEvent(
      names.blobCreated,
      blobCreatedEvent(stack.account, NSG_CONTAINER, blob.name, next),
    );
    await stack.host.waitForIdle({ timeoutMs: 30_000 });
    await until('the second block on the hub', () => events.length > before, 10_000);
    assert.equal(stack.eventHubs.counters.faultsInjected, 1);
    assert.deepEqual(stack.host.durable.listInstances({ runtimeStatus: ['Failed'] }), []);

    // JSON bodies can be cut down to the fields a listener reads before they cross the channel.
    const projected: ReceivedEvent[] = [];
    const whole: ReceivedEvent[] = [];
    stack.eventHubs.onEvent((e) => projected.push(e), { bodyFields: ['a'] });
    stack.eventHubs.onEvent((e) => whole.push(e));
    const producer = new EventHubProducerClient(stack.eventHubs.connectionString(LOCAL_HUB));
    try {
      await producer.sendBatch([{ body: { a: 1, b: 'two' } }]);
    } finally {
      await producer.close();
    }
    await until('the JSON event', () => projected.length === 1 && whole.length === 1, 10_000);
    assert.deepEqual(projected[0]!.body, { a: 1 });
    assert.deepEqual(whole[0]!.body, { a: 1, b: 'two' });

    await stack.stop();
    stopped = true;
    assert.equal(alive(child.pid), false, 'the emulator process is gone after stop');
  } finally {
    if (!stopped) await stack.stop();
  }
});

test('the emulator process exits when the process that started it is killed', async () => {
  const script = join(__dirname, 'fixtures', 'child-stack-parent.ts');
  const parent = spawn(process.execPath, ['--require', 'tsx/cjs', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  parent.stdout.setEncoding('utf8');
  parent.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  try {
    await until('the parent to report its emulator process', () => /child (\d+)\n/.test(out), 60_000);
    const pid = Number(/child (\d+)\n/.exec(out)![1]);
    assert.ok(alive(pid));
    parent.kill('SIGKILL');
    await until('the orphaned emulator process to exit', () => !alive(pid), 10_000);
  } finally {
    parent.kill('SIGKILL');
  }
});
