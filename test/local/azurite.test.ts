import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { odata, RestError } from '@azure/data-tables';
import { type AzuriteHandle, startAzurite } from '../../local/azurite';

const execFileAsync = promisify(execFile);

let az: AzuriteHandle;

before(async () => {
  az = await startAzurite();
});

after(async () => {
  await az.stop();
});

const blockId = (n: number): string => Buffer.from(`block-${String(n).padStart(6, '0')}`).toString('base64');

test('block blob grows the way a flow log does and reads back exactly', async () => {
  const container = az.blobServiceClient().getContainerClient('insights-logs-flowlogflowevent');
  await container.create();
  const blob = container.getBlockBlobClient(
    'resourceId=/X/y=2026/m=11/d=30/h=10/m=00/macAddress=00/PT1H.json',
  );

  const header = Buffer.from('{"records":['); // 12 B
  const footer = Buffer.from(']}'); // 2 B
  const r1 = Buffer.from('{"time":"2026-11-30T10:00:00Z","n":1}');
  const r2 = Buffer.from(',{"time":"2026-11-30T10:01:00Z","n":2}');
  const fresh = Buffer.from(',{"time":"2026-11-30T10:02:00Z","n":3,"pad":"xyz"}');
  assert.equal(header.length, 12);
  assert.equal(footer.length, 2);

  const H = blockId(0);
  const F = blockId(999999);
  await blob.stageBlock(H, header, header.length);
  await blob.stageBlock(F, footer, footer.length);
  await blob.commitBlockList([H, F]);

  const committed: string[] = [H];
  const records = [r1, r2];
  for (const [i, rec] of records.entries()) {
    const id = blockId(i + 1);
    await blob.stageBlock(id, rec, rec.length);
    committed.push(id);
    await blob.commitBlockList([...committed, F]); // footer id re-committed last
  }
  const staleEtag = (await blob.getProperties()).etag;
  assert.ok(staleEtag);

  const NEW = blockId(3);
  await blob.stageBlock(NEW, fresh, fresh.length);
  const commit = await blob.commitBlockList([...committed, NEW, F]);
  assert.notEqual(commit.etag, staleEtag);

  const list = await blob.getBlockList('committed');
  assert.deepEqual(
    list.committedBlocks?.map((b) => [b.name, b.size]),
    [
      [H, 12],
      [blockId(1), r1.length],
      [blockId(2), r2.length],
      [NEW, fresh.length],
      [F, 2],
    ],
  );
  assert.deepEqual(list.uncommittedBlocks ?? [], []);

  const whole = await blob.downloadToBuffer();
  assert.deepEqual(whole, Buffer.concat([header, r1, r2, fresh, footer]));
  assert.deepEqual(
    (JSON.parse(whole.toString('utf8')) as { records: { n: number }[] }).records.map((r) => r.n),
    [1, 2, 3],
  );

  // Ranged read of just the new block, as the incremental reader does.
  const offset = header.length + r1.length + r2.length;
  const ranged = await blob.downloadToBuffer(offset, fresh.length);
  assert.deepEqual(ranged, fresh);
  const tail = await blob.downloadToBuffer(whole.length - 2, 2);
  assert.equal(tail.toString(), ']}');

  // A writer that lost the race: the stale etag is refused with 412 ConditionNotMet.
  await assert.rejects(
    blob.commitBlockList([...committed, F], { conditions: { ifMatch: staleEtag } }),
    (err: unknown) => {
      assert.ok(err instanceof Error);
      const e = err as Error & { statusCode?: number; code?: string };
      assert.equal(e.statusCode, 412);
      assert.equal(e.code, 'ConditionNotMet');
      return true;
    },
  );
  await assert.rejects(
    blob.download(offset, fresh.length, { conditions: { ifMatch: staleEtag } }),
    (err: unknown) => (err as { statusCode?: number }).statusCode === 412,
  );
  // The refused commit changed nothing.
  assert.equal((await blob.getBlockList('committed')).committedBlocks?.length, 5);
});

test('table upsert, merge and filtered query', async () => {
  const table = az.tableClient('checkpoints');
  await table.createTable();
  await table.upsertEntity({ partitionKey: 'blob', rowKey: 'a', offset: 100, etag2: 'x' }, 'Replace');
  await table.upsertEntity({ partitionKey: 'blob', rowKey: 'b', offset: 7 }, 'Replace');
  await table.upsertEntity({ partitionKey: 'other', rowKey: 'c', offset: 1 }, 'Replace');
  await table.upsertEntity({ partitionKey: 'blob', rowKey: 'a', offset: 250 }, 'Merge');

  const a = await table.getEntity<{ offset: number; etag2: string }>('blob', 'a');
  assert.equal(a.offset, 250);
  assert.equal(a.etag2, 'x'); // merge kept the untouched property

  await table.upsertEntity({ partitionKey: 'blob', rowKey: 'a', offset: 300 }, 'Replace');
  const replaced = await table.getEntity<{ offset: number; etag2?: string }>('blob', 'a');
  assert.equal(replaced.offset, 300);
  assert.equal(replaced.etag2, undefined);

  const rows: [string, number][] = [];
  for await (const e of table.listEntities<{ offset: number }>({
    queryOptions: { filter: odata`PartitionKey eq ${'blob'} and offset gt ${5}` },
  })) {
    rows.push([e.rowKey ?? '', e.offset]);
  }
  rows.sort();
  assert.deepEqual(rows, [
    ['a', 300],
    ['b', 7],
  ]);

  await assert.rejects(table.getEntity('blob', 'missing'), (err: unknown) => {
    assert.ok(err instanceof RestError);
    assert.equal(err.statusCode, 404);
    return true;
  });
});

test('instances run side by side with separate ports and data, and stop cleanly', async () => {
  const [one, two] = await Promise.all([startAzurite(), startAzurite()]);
  try {
    assert.notEqual(one.blobEndpoint, two.blobEndpoint);
    assert.notEqual(one.tableEndpoint, two.tableEndpoint);
    assert.notEqual(one.blobEndpoint, az.blobEndpoint);
    assert.match(one.connectionString, /BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;/);
    assert.match(one.connectionString, /TableEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;/);

    await one.blobServiceClient().getContainerClient('only-in-one').create();
    await one.blobServiceClient().getContainerClient('only-in-one').uploadBlockBlob('x', 'hello', 5);
    const names = async (h: AzuriteHandle): Promise<string[]> => {
      const out: string[] = [];
      for await (const c of h.blobServiceClient().listContainers()) out.push(c.name);
      return out;
    };
    assert.deepEqual(await names(one), ['only-in-one']);
    assert.deepEqual(await names(two), []);
  } finally {
    await Promise.all([one.stop(), two.stop()]);
    await one.stop(); // idempotent
  }

  // The listeners are gone: a fresh TCP connection to either port is refused.
  for (const endpoint of [one.blobEndpoint, one.tableEndpoint]) {
    const port = Number(new URL(endpoint).port);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  }
});

test('stop leaves no sockets or servers behind', async () => {
  const countTcp = (): number =>
    process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap').length;
  const baseline = countTcp();
  const h = await startAzurite();
  try {
    await h.blobServiceClient().getContainerClient('leak-check').create();
    await h.tableClient('leakcheck').createTable();
    assert.ok(countTcp() >= baseline + 2); // two listeners at least
  } finally {
    await h.stop();
  }
  await new Promise((r) => setImmediate(r));
  assert.ok(countTcp() <= baseline, `${countTcp()} TCP handles after stop, ${baseline} before`);
});

test('a process that starts, uses and stops Azurite exits by itself', async () => {
  const script = `
    const { startAzurite } = require(${JSON.stringify(require.resolve('../../local/azurite'))});
    (async () => {
      const h = await startAzurite();
      await h.blobServiceClient().getContainerClient('exit-check').create();
      await h.tableClient('exitcheck').createTable();
      await h.stop();
      console.log('stopped');
    })();`;
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '-e', script], {
    timeout: 20_000, // killed (and rejected) if a handle keeps it alive
  });
  assert.equal(stdout.trim(), 'stopped');
});
