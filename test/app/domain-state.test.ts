import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compareSequencers, normalizeETag, readBlobCreated } from '../../domain/blob-event';
import { blobKey, parseBlobUrl } from '../../domain/blob-ref';
import {
  type BlobState,
  claim,
  commitRun,
  emptyBlobState,
  failRunWith,
  isStale,
  lagBytes,
  newGeneration,
  observe,
  rerun,
  retryBackoffMs,
} from '../../domain/blob-state';
import { boundariesInRange, cursorAt, INITIAL_CURSOR } from '../../domain/framing/blocks';
import { splitIntoChunks } from '../../domain/read-chunks';
import { REAL_FIXTURES } from '../support/summarize';

const NAME =
  'resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json';
const ref = { account: 'flowlogs1', container: 'insights-logs-networksecuritygroupflowevent', name: NAME };
const served = { accounts: new Set(['flowlogs1']), containers: new Set([ref.container]) };

function event(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return {
    id: 'e1',
    topic: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/flowlogs1',
    subject: `/blobServices/default/containers/${ref.container}/blobs/${NAME}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: '2026-11-30T09:01:02Z',
    data: {
      api: 'PutBlockList',
      eTag: '"0x8D4BCC2E4835CD0"',
      contentLength: 5000,
      sequencer: '0000000000000000000000000000245B0000000000000a2f',
      url: `https://flowlogs1.blob.core.windows.net/${ref.container}/${NAME}`,
      ...data,
    },
    ...overrides,
  };
}

describe('Event Grid BlobCreated', () => {
  test('accepted: Event Grid schema, CloudEvents schema; eTag unquoted', () => {
    const a = readBlobCreated(event(), served.accounts, served.containers);
    assert.equal(a.kind, 'accepted');
    assert.deepEqual(
      a.kind === 'accepted' && [
        a.event.account,
        a.event.container,
        a.event.name,
        a.event.contentLength,
        a.event.eTag,
      ],
      ['flowlogs1', ref.container, NAME, 5000, '0x8D4BCC2E4835CD0'],
    );
    const cloud = {
      specversion: '1.0',
      type: 'Microsoft.Storage.BlobCreated',
      source: event().topic,
      subject: event().subject,
      id: 'c1',
      time: 't',
      data: event().data,
    };
    assert.equal(readBlobCreated(cloud, served.accounts, served.containers).kind, 'accepted');
  });

  test('ignored with a reason: other types, APIs, accounts, containers, names', () => {
    const reasons = [
      readBlobCreated(
        event({ eventType: 'Microsoft.Storage.BlobDeleted' }),
        served.accounts,
        served.containers,
      ),
      readBlobCreated(event({}, { api: 'PutBlock' }), served.accounts, served.containers),
      readBlobCreated(
        event({ topic: '/subscriptions/s/providers/Microsoft.Storage/storageAccounts/other' }),
        served.accounts,
        served.containers,
      ),
      readBlobCreated(
        event({ subject: `/blobServices/default/containers/other/blobs/${NAME}` }),
        served.accounts,
        served.containers,
      ),
      readBlobCreated(
        event({ subject: `/blobServices/default/containers/${ref.container}/blobs/x/PT5M.json` }),
        served.accounts,
        served.containers,
      ),
      readBlobCreated(
        event({
          subject: `/blobServices/default/containers/${ref.container}/blobs/${NAME.replace('N/', 'M/')}`,
        }),
        served.accounts,
        served.containers,
      ),
      readBlobCreated(
        event(
          {
            subject: `/blobServices/default/containers/${ref.container}/blobs/resourceId=/x/../../../secret/${NAME}`,
          },
          { url: undefined },
        ),
        served.accounts,
        served.containers,
      ),
    ].map((v) => (v.kind === 'ignored' ? v.reason : 'accepted'));
    assert.deepEqual(reasons, [
      'event type Microsoft.Storage.BlobDeleted',
      'api PutBlock does not commit a blob',
      'account other is not configured',
      'container other is not a flow-log container',
      'not a PT1H.json flow-log blob',
      'subject and url name different blobs',
      `blob name ${JSON.stringify(`resourceId=/x/../../../secret/${NAME}`.slice(0, 117) + '...')} has a ".." path segment`,
    ]);
  });

  test('the documented generic samples are read, and ignored as not flow logs', () => {
    for (const f of [
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_eventgrid-schema.json',
      'eventgrid-blobcreated_GENERIC-not-flowlog_msdocs_cloudevents-schema.json',
    ]) {
      const raw = JSON.parse(readFileSync(join(REAL_FIXTURES, f), 'utf8')) as unknown[];
      const v = readBlobCreated(raw[0], new Set(['my-storage-account']), new Set(['testcontainer']));
      assert.equal(v.kind, 'ignored');
    }
    assert.equal(normalizeETag('"0x8D4BCC2E4835CD0"'), '0x8D4BCC2E4835CD0');
    assert.ok(compareSequencers('0a2f', '0000000000000000000000000000245B0000000000000a2f') < 0);
    assert.equal(compareSequencers('00ff', 'ff'), 0);
  });

  test('blob keys are instance-id safe, stable and distinct; URLs parse path- and host-style', () => {
    const key = blobKey(ref);
    assert.match(key, /^flowlogs1-2026113009-[0-9a-f]{32}$/);
    assert.equal(blobKey({ ...ref }), key);
    assert.notEqual(blobKey({ ...ref, container: 'insights-logs-flowlogflowevent' }), key);
    assert.deepEqual(
      parseBlobUrl(`https://flowlogs1.blob.core.windows.net/${ref.container}/${NAME.replace('=', '%3D')}`),
      ref,
    );
    assert.deepEqual(parseBlobUrl(`http://127.0.0.1:10000/devstoreaccount1/${ref.container}/${NAME}`), {
      ...ref,
      account: 'devstoreaccount1',
    });
    assert.equal(parseBlobUrl('not a url'), undefined);
  });
});

describe('per-blob state', () => {
  const obs = (contentLength: number) => ({ ref, contentLength, eTag: 'e', sequencer: 's', at: 't' });
  const cursor = { byteOffset: 998, blockIndex: 3, recordOrdinal: 2, fingerprint: 'f' };
  const stats = { blocks: 2, records: 2, tuples: 10, summaries: 5, events: 5, problems: 0 };
  const T0 = '2026-11-30T10:00:00.000Z';
  const claimAs = (s: BlobState, instanceId: string, o?: ReturnType<typeof obs>, at = T0) =>
    claim(s, { instanceId, ref, at, stuckAfterMs: 60_000, ...(o ? { observation: o } : {}) });
  /** A state whose run `instanceId` holds token 1. */
  const held = (s: BlobState, instanceId = 'run-a') => {
    const r = claimAs(s, instanceId);
    assert.equal(r.verdict.kind, 'granted');
    return r.state;
  };
  const commit = (token: number, readLength: number, c = cursor, offsets = [12, 500], at = T0, seen = 0) => ({
    token,
    generation: 0,
    cursor: c,
    readLength,
    observationsAtBegin: seen,
    eTag: 'e',
    newRecordOffsets: offsets,
    stats,
    at,
  });

  test('a claim records the observation; commit advances and says whether more came meanwhile', () => {
    let s = claimAs(emptyBlobState(), 'run-a', obs(1000)).state;
    assert.equal(lagBytes(s), 998);
    assert.equal(s.run?.token, 1);
    s = claimAs(s, 'event-2', obs(1500)).state;
    assert.equal(s.run?.instanceId, 'run-a', 'the second claim is covered by the active run');
    const first = commitRun(s, commit(1, 1000));
    assert.deepEqual(first.verdict, { ok: true, more: true }, 'an observation of 1500 came after the plan');
    assert.equal(first.state.run?.token, 1, 'going round again keeps the token');
    assert.equal(first.state.stats.runs, 1);
    assert.deepEqual(first.state.recordOffsets, [12, 500]);
    assert.equal(isStale(first.state, 1000), true);
    assert.equal(isStale(first.state, 1500), false);
    // An older event (sequencer before the last one seen) for data already read is stale; a newer,
    // shorter one may be a rewrite and is not.
    const seen = observe(first.state, { ...obs(1000), sequencer: '00000000000000000000000000000020' });
    assert.equal(isStale(seen, 800, '00000000000000000000000000000010'), true);
    assert.equal(isStale(seen, 800, '00000000000000000000000000000030'), false);
    const again = commitRun(first.state, commit(1, 1500, { ...cursor, byteOffset: 1498 }, [998]));
    assert.deepEqual(again.verdict, { ok: true, more: false });
    assert.equal(again.state.run, null, 'the run is over: the blob is free');
    assert.equal(lagBytes(again.state), 0);
    assert.deepEqual(again.state.recordOffsets, [12, 500, 998]);
    assert.equal(claimAs(again.state, 'event-3', obs(1500)).verdict.kind, 'up-to-date');
  });

  test('only an observation made after the round began sends it round again', () => {
    // Observed 1500 before the round began, but the plan listed 1000 (a blob that shrank unnoticed):
    // going round again would find nothing more, forever.
    const s = claimAs(claimAs(emptyBlobState(), 'a', obs(1000)).state, 'b', obs(1500)).state;
    assert.equal(s.observations, 2);
    const r = commitRun(s, commit(1, 1000, cursor, [12, 500], T0, s.observations));
    assert.deepEqual(r.verdict, { ok: true, more: false });
    assert.equal(r.state.run, null);
  });

  test('a new generation starts from byte 0; a commit of the old one is refused and recorded', () => {
    const s = held(emptyBlobState());
    const renewed = newGeneration(s, 1, 'ids differ');
    assert.deepEqual(renewed.verdict, { ok: true, generation: 1 });
    assert.deepEqual(renewed.state.cursor, INITIAL_CURSOR);
    const stale = commitRun(renewed.state, commit(1, 1));
    assert.equal(stale.verdict.ok, false);
    assert.match(
      stale.verdict.ok ? '' : stale.verdict.error,
      /generation 0 refused: the blob is at generation 1/,
    );
    assert.equal(stale.state.run, null);
    assert.equal(stale.state.failurePermanent, true);
  });

  test('even the holder cannot move the cursor backwards or record an offset twice', () => {
    const first = commitRun(held(claimAs(emptyBlobState(), 'a', obs(1500)).state, 'a'), commit(1, 1000));
    assert.equal(first.state.run?.token, 1);
    const overlapping = commitRun(first.state, commit(1, 1500, { ...cursor, byteOffset: 1498 }, [500, 998]));
    assert.deepEqual(overlapping.state.recordOffsets, [12, 500, 998], 'offset 500 is not recorded twice');
    const again = claimAs(overlapping.state, 'b', obs(1600)).state;
    const backwards = commitRun(again, commit(2, 1600, { ...cursor, byteOffset: 500 }, []));
    assert.equal(backwards.verdict.ok, false);
    assert.match(
      backwards.verdict.ok ? '' : backwards.verdict.error,
      /would move the cursor backwards from byte 1498 to 500/,
    );
    assert.equal(backwards.state.cursor.byteOffset, 1498);
    assert.equal(backwards.state.run, null, 'the refused run no longer holds the blob');
  });

  test('failures are recorded, back off automatic runs, and are cleared by success', () => {
    const s = held(claimAs(emptyBlobState(), 'x', obs(100)).state, 'x');
    assert.equal(s.run?.instanceId, 'x', 'the same instance claiming again keeps its token');
    const failed = failRunWith(s, { token: 1, error: 'boom', permanent: false, at: T0 });
    assert.deepEqual(
      [failed.state.failureCount, failed.state.lastError, failed.state.run],
      [1, 'boom', null],
    );
    assert.equal(isStale({ ...failed.state, readLength: 100 }, 100), false, 'a failed blob is never stale');
    const soon = claimAs(failed.state, 'e2', obs(200), '2026-11-30T10:00:30.000Z');
    assert.deepEqual(soon.verdict, { kind: 'backing-off', until: '2026-11-30T10:01:00.000Z', error: 'boom' });
    const later = claimAs(failed.state, 'e3', obs(200), '2026-11-30T10:01:00.000Z');
    assert.equal(later.verdict.kind, 'granted');
    const twice = failRunWith(later.state, { token: 2, error: 'boom again', permanent: false, at: T0 });
    assert.equal(retryBackoffMs(twice.state.failureCount), 120_000, 'the wait doubles');
    const third = claimAs(twice.state, 'e4', obs(300), '2026-11-30T11:00:00.000Z');
    assert.equal(third.verdict.kind, 'granted', 'the back-off is over');
    const permanent = failRunWith(third.state, {
      token: 3,
      error: 'not authorised',
      permanent: true,
      at: T0,
    });
    assert.deepEqual(claimAs(permanent.state, 'e5', obs(300), '2026-11-30T23:00:00.000Z').verdict, {
      kind: 'needs-operator',
      error: 'not authorised',
    });
    const operator = claim(permanent.state, {
      instanceId: 'op',
      ref,
      at: T0,
      stuckAfterMs: 60_000,
      rerunFrom: 'checkpoint',
    });
    assert.equal(operator.verdict.kind, 'granted');
    assert.equal(operator.state.lastError, null);
    const done = commitRun(operator.state, commit(4, 300, { ...cursor, byteOffset: 298 }));
    assert.deepEqual([done.state.failureCount, done.state.lastError], [0, null]);
  });

  test('rerun from checkpoint, start and record N', () => {
    const s = commitRun(held(emptyBlobState()), commit(1, 1000)).state;
    assert.deepEqual(rerun(s, 'checkpoint').cursor, cursor);
    assert.deepEqual(rerun(s, 'start').cursor, INITIAL_CURSOR);
    const r1 = rerun(s, { record: 1 });
    assert.deepEqual(
      [r1.cursor.byteOffset, r1.cursor.recordOrdinal, r1.cursor.blockIndex, r1.recordOffsets],
      [500, 1, -1, [12]],
    );
    assert.throws(() => rerun(s, { record: 5 }), /record 5 has not been read yet \(2 records known\)/);
    const refused = claim(s, { instanceId: 'op', ref, at: T0, stuckAfterMs: 1, rerunFrom: { record: 5 } });
    assert.deepEqual(refused.verdict, {
      kind: 'refused',
      error: 'record 5 has not been read yet (2 records known); rerun from start instead',
    });
  });
});

describe('chunks and cursor boundaries', () => {
  const blocks = [12, 100, 100, 100, 2].map((size, i) => ({ name: `b${i}`, size }));

  test('chunks are whole blocks bounded by bytes; a large block is a chunk alone', () => {
    assert.deepEqual(splitIntoChunks(blocks, 12, 312, 250), [
      { start: 12, end: 212, blocks: 2 },
      { start: 212, end: 312, blocks: 1 },
    ]);
    assert.deepEqual(splitIntoChunks(blocks, 112, 312, 50), [
      { start: 112, end: 212, blocks: 1 },
      { start: 212, end: 312, blocks: 1 },
    ]);
    assert.deepEqual(splitIntoChunks([], 0, 500, 100), [{ start: 0, end: 500, blocks: 1 }]);
  });

  test('the cursor after a read comes from the boundary table', () => {
    const table = boundariesInRange(blocks, 112, 312);
    assert.deepEqual(
      table.map((b) => [b.end, b.blockIndex]),
      [
        [212, 3],
        [312, 4],
      ],
    );
    const c = cursorAt(table, { ...INITIAL_CURSOR, byteOffset: 112, blockIndex: 2 }, 312, 9);
    assert.deepEqual([c.byteOffset, c.blockIndex, c.recordOrdinal], [312, 4, 9]);
    const mid = cursorAt(table, { ...INITIAL_CURSOR, byteOffset: 112, blockIndex: 2 }, 250, 8);
    assert.deepEqual([mid.byteOffset, mid.blockIndex], [250, 4]);
  });
});
