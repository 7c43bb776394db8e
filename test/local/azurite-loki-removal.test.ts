import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import { type AzuriteHandle, LOKI_SINGLE_REMOVE_MAX, startAzurite } from '../../local/azurite';

// What local/azurite.ts changes in LokiJS: findAndRemove of a few documents updates the binary indexes in
// place instead of rebuilding them (the emulator's GC bursts of issue 12), with the same documents gone.

interface Doc {
  id: string;
  group: string;
  n: number;
}
interface LokiCollection {
  insert(doc: Doc): Doc;
  find(query?: object): Doc[];
  findAndRemove(query: object): void;
  binaryIndices: Record<string, { values: number[]; dirty: boolean }>;
}
interface LokiDb {
  addCollection(name: string, options: { indices: string[] }): LokiCollection;
}
interface LokiModule {
  new (name: string): LokiDb;
  LokiOps: Record<string, (a: unknown, b: unknown) => boolean>;
}

let az: AzuriteHandle;

before(async () => {
  // Starting Azurite installs the fix; a quick GC so the second test sees deleted blobs' data freed.
  az = await startAzurite({ blobGcIntervalMs: 50 });
});

after(async () => {
  await az.stop();
});

function lokiModule(): LokiModule {
  const path = require.resolve('lokijs', { paths: [dirname(require.resolve('azurite/package.json'))] });
  return require(path) as LokiModule;
}

function loki(): LokiDb {
  const Loki = lokiModule();
  return new Loki('removal-test');
}

const ids = (docs: readonly Doc[]) => docs.map((d) => d.id).sort();

test('findAndRemove of a few documents keeps every binary index exact without rebuilding it', () => {
  const coll = loki().addCollection('docs', { indices: ['id', 'group', 'n'] });
  const model = new Map<string, Doc>();
  for (let i = 0; i < 500; i++) {
    const doc = { id: `e${String(i).padStart(4, '0')}`, group: `g${i % 7}`, n: (i * 37) % 101 };
    coll.insert({ ...doc });
    model.set(doc.id, doc);
  }
  coll.find({ id: 'e0001' }); // builds the indexes
  const before = { id: coll.binaryIndices['id']!.values, group: coll.binaryIndices['group']!.values };

  for (let i = 0; i < 500; i += 3) {
    coll.findAndRemove({ id: `e${String(i).padStart(4, '0')}` });
    model.delete(`e${String(i).padStart(4, '0')}`);
  }
  // Updated in place: the same arrays, not dirty (a batch removal replaces them with a full sort).
  assert.equal(coll.binaryIndices['id']!.values, before.id);
  assert.equal(coll.binaryIndices['group']!.values, before.group);
  assert.equal(coll.binaryIndices['id']!.dirty, false);

  // Every indexed query answers what the model says.
  assert.deepEqual(ids(coll.find()), [...model.keys()].sort());
  for (let g = 0; g < 7; g++)
    assert.deepEqual(
      ids(coll.find({ group: `g${g}` })),
      ids([...model.values()].filter((d) => d.group === `g${g}`)),
    );
  for (const n of [0, 5, 50, 100])
    assert.deepEqual(ids(coll.find({ n: { $gte: n } })), ids([...model.values()].filter((d) => d.n >= n)));
  assert.deepEqual(ids(coll.find({ id: 'e0000' })), []);
  assert.deepEqual(ids(coll.find({ id: 'e0001' })), ['e0001']);

  // Many matches at once take LokiJS's batch path, with the same result.
  const group = [...model.values()].filter((d) => d.group === 'g3');
  assert.ok(group.length > LOKI_SINGLE_REMOVE_MAX);
  coll.findAndRemove({ group: 'g3' });
  for (const d of group) model.delete(d.id);
  assert.deepEqual(ids(coll.find()), [...model.keys()].sort());
  assert.deepEqual(ids(coll.find({ n: { $lt: 30 } })), ids([...model.values()].filter((d) => d.n < 30)));
});

test('blobs deleted one by one while others are written: the rest read back whole, the GC frees the deleted', async () => {
  const container = az.blobServiceClient().getContainerClient('removal');
  await container.create();
  const body = (i: number) => Buffer.from(`blob ${i} `.repeat(20 + (i % 5)));
  const names = Array.from({ length: 120 }, (_, i) => `staging/${i}.ndjson`);
  for (const [i, name] of names.entries())
    await container.getBlockBlobClient(name).upload(body(i), body(i).length);
  const deleted = names.filter((_, i) => i % 2 === 0);
  for (const name of deleted) {
    await container.deleteBlob(name);
    // Writes between the deletes, as the app's runs do: new extents while the GC frees old ones.
    await container.getBlockBlobClient(`${name}.next`).upload(Buffer.from('next'), 4);
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // a few GC passes
  for (const [i, name] of names.entries()) {
    const blob = container.getBlockBlobClient(name);
    if (i % 2 === 0) assert.equal(await blob.exists(), false, name);
    else assert.deepEqual(await blob.downloadToBuffer(), body(i), name);
  }
  const listed: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix: 'staging/' })) listed.push(b.name);
  const expected = [...names.filter((_, i) => i % 2 === 1), ...deleted.map((n) => `${n}.next`)];
  assert.deepEqual(listed.sort(), expected.sort());
});

interface Row {
  account: string;
  container: string;
  name: string;
  snapshot: string;
  n: number;
}

test('a lookup of several fields starts from its most selective index and answers as LokiJS does', () => {
  const Loki = lokiModule();
  const coll = new Loki('lookup-test').addCollection('blobs', {
    indices: ['account', 'container', 'name', 'snapshot'],
  }) as unknown as {
    insert(r: Row): Row;
    find(q: object): Row[];
    findOne(q: object): Row | null;
    count(q: object): number;
    chain(): { find(q: object): { data(): Row[] } };
  };
  const rows: Row[] = [];
  for (let i = 0; i < 2000; i++) {
    // One account, two containers; names unique except a few with a snapshot besides the base blob.
    const row = { account: 'dev', container: `c${i % 2}`, name: `b${i}`, snapshot: '', n: i };
    rows.push(row);
    coll.insert({ ...row });
    if (i % 500 === 0) {
      const snap = { ...row, snapshot: `2026-12-04T0${i / 500}:00:00Z`, n: i + 10_000 };
      rows.push(snap);
      coll.insert({ ...snap });
    }
  }
  const ops = Loki.LokiOps;
  const eq = ops['$eq']!;
  let comparisons = 0;
  ops['$eq'] = (a, b) => {
    comparisons++;
    return eq(a, b);
  };
  try {
    const one = coll.findOne({ account: 'dev', container: 'c1', name: 'b1777', snapshot: '' });
    assert.equal(one?.n, 1777);
    // Only the candidates of the name's range are filtered, not the 2,000 documents of the account.
    assert.ok(comparisons < 20, `${comparisons} comparisons`);
    comparisons = 0;
    assert.equal(coll.findOne({ account: 'dev', container: 'c0', name: 'b1777', snapshot: '' }), null);
    assert.equal(coll.findOne({ account: 'dev', container: 'c1', name: 'nothing' }), null);
    assert.ok(comparisons < 20, `${comparisons} comparisons`);
  } finally {
    ops['$eq'] = eq;
  }
  // Every kind of answer equals LokiJS's own ($and is evaluated as written, first field's index first).
  const queries: object[] = [
    { account: 'dev', container: 'c0', name: 'b1000', snapshot: '' },
    { account: 'dev', container: 'c0', name: 'b1000' }, // base blob and its snapshot: two, in LokiJS's order
    { account: 'dev', container: 'c1', name: 'b1000' },
    { account: 'dev', container: 'c0', name: 'b500', snapshot: { $gt: '' } },
    { account: 'dev', container: 'c1' },
    { container: 'c0', n: 4 },
    { account: 'other', name: 'b3' },
  ];
  for (const q of queries) {
    const asWritten = { $and: Object.entries(q).map(([k, v]) => ({ [k]: v })) };
    const expected = coll.chain().find(asWritten).data();
    assert.deepEqual(coll.find(q), expected, JSON.stringify(q));
    assert.deepEqual(coll.findOne(q), expected[0] ?? null, JSON.stringify(q));
    assert.equal(coll.count(q), expected.length, JSON.stringify(q));
  }
});
