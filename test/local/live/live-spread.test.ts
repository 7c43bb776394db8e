import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
// The session module installs the Functions host shim before the app loads.
import { commitOffsetMs, LiveSession, liveEmulatorMode } from '../../../local/live/session';
import { SimulatedTraffic, type TrafficRecord, type TrafficSource } from '../../../local/live/traffic';
import { EMULATORS_SETTING, NSG_CONTAINER, VNET_CONTAINER } from '../../../local/offline-stack';

test('commitOffsetMs: stream i of n commits at i/n of the interval', () => {
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => commitOffsetMs(i, 4, 60_000)),
    [0, 15_000, 30_000, 45_000],
  );
  assert.equal(commitOffsetMs(0, 1, 60_000), 0);
  assert.equal(commitOffsetMs(5, 4, 1000), 250);
});

test('liveEmulatorMode: a child process unless FLOWLOG_LOCAL_EMULATORS or the caller says otherwise', () => {
  const saved = process.env[EMULATORS_SETTING];
  try {
    delete process.env[EMULATORS_SETTING];
    assert.equal(liveEmulatorMode(), 'child');
    assert.equal(liveEmulatorMode('in-process'), 'in-process');
    process.env[EMULATORS_SETTING] = 'in-process';
    assert.equal(liveEmulatorMode(), 'in-process');
    process.env[EMULATORS_SETTING] = 'thread';
    assert.throws(() => liveEmulatorMode(), /FLOWLOG_LOCAL_EMULATORS must be/);
  } finally {
    if (saved === undefined) delete process.env[EMULATORS_SETTING];
    else process.env[EMULATORS_SETTING] = saved;
  }
});

/**
 * Runs two ticks of 4 NICs and returns, per tick, when each stream's append began relative to the
 * tick's first one. The first read of the traffic waits until the writer is observed.
 */
async function appendStarts(spreadCommits: boolean, intervalMs: number) {
  const simulated = new SimulatedTraffic({
    nsgs: 2,
    vnets: 2,
    seed: 3,
    flowsPerMinute: 4,
    minutesPerHour: 10,
    start: new Date('2026-11-30T01:00:00Z'),
  });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const streamOf = new Map<string, number>();
  const ticks: TrafficRecord[][] = [];
  const traffic: TrafficSource = {
    description: simulated.description,
    streams: simulated.streams,
    get exhausted() {
      return simulated.exhausted;
    },
    async next() {
      await gate;
      if (ticks.length >= 2) return [];
      const records = await simulated.next();
      for (const r of records) streamOf.set(r.name, r.stream);
      ticks.push(records);
      return records;
    },
  };
  const session = await LiveSession.start({
    traffic,
    intervalMs,
    enrich: false,
    durationMs: 0,
    spreadCommits,
    frameEveryMs: 100,
  });
  const starts: { stream: number; ordinal: number; at: number }[] = [];
  try {
    assert.equal(session.offlineStack.emulators, process.env[EMULATORS_SETTING] ?? 'child');
    for (const container of [NSG_CONTAINER, VNET_CONTAINER]) {
      const writer = session.offlineStack.writer.forContainer(container);
      const append = writer.appendRecord.bind(writer);
      writer.appendRecord = (name, json) => {
        starts.push({
          stream: streamOf.get(name)!,
          ordinal: starts.filter((s) => s.stream === streamOf.get(name)).length,
          at: Date.now(),
        });
        return append(name, json);
      };
    }
    open();
    const deadline = Date.now() + 20_000;
    while (starts.length < 8) {
      assert.ok(Date.now() < deadline, `${starts.length} of 8 appends began`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await session.stop();
  }
  return [0, 1].map((tick) => {
    const ofTick = starts.filter((s) => s.ordinal === tick).sort((a, b) => a.stream - b.stream);
    const first = Math.min(...ofTick.map((s) => s.at));
    return ofTick.map((s) => s.at - first);
  });
}

describe('flowlog live spreads its NICs over the tick', () => {
  test('spread (the default): NIC i of 4 begins its append i quarters into the tick, every tick', async () => {
    const interval = 800;
    for (const offsets of await appendStarts(true, interval)) {
      assert.equal(offsets.length, 4);
      // Offsets count from the tick's first append, which may begin a little after the tick's due time
      // (reading the traffic); the others are timed from the due time and may fire late on a loaded machine.
      for (let i = 1; i < 4; i++) {
        assert.ok(offsets[i]! > offsets[i - 1]!, `offsets ${offsets.join(', ')}`);
        assert.ok(offsets[i]! >= (i * interval) / 4 - 60, `offsets ${offsets.join(', ')}`);
        assert.ok(offsets[i]! < (i * interval) / 4 + 150, `offsets ${offsets.join(', ')}`);
      }
    }
  });

  test('not spread: every NIC begins at the start of the tick', async () => {
    for (const offsets of await appendStarts(false, 800)) {
      assert.equal(offsets.length, 4);
      assert.ok(Math.max(...offsets) < 100, `offsets ${offsets.join(', ')}`);
    }
  });
});
