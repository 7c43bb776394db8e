import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { type LiveIo, runLive } from '../../../cli/commands/live';
import type { LiveResult } from '../../../local/live/session';
import { visible } from './support';

const ENTER_ALT = '\x1b[?1049h';
const LEAVE_ALT = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/** A terminal: TTY output with a size, and a keyboard in raw mode. */
class FakeTerminal extends EventEmitter {
  text = '';
  readonly isTTY = true;
  readonly columns = 100;
  readonly rows = 30;
  write(t: string) {
    this.text += t;
    return true;
  }
}

class Sink {
  text = '';
  readonly isTTY = false;
  write(t: string) {
    this.text += t;
    return true;
  }
}

class FakeKeys extends EventEmitter {
  readonly isTTY = true;
  readonly rawModes: boolean[] = [];
  paused = true;
  setRawMode(mode: boolean) {
    this.rawModes.push(mode);
  }
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(argv: readonly string[], io: Omit<LiveIo, 'stderr' | 'onResult'>) {
  const stderr = new Sink();
  let result: LiveResult | undefined;
  const run = runLive(argv, {
    ...io,
    stderr,
    onResult: (r) => {
      result = r;
    },
  });
  return { run, stderr, result: () => result };
}

describe('flowlog live on a terminal', () => {
  test('draws frames on the alternate screen; q stops cleanly and restores the terminal, exit 0', async () => {
    const term = new FakeTerminal();
    const keys = new FakeKeys();
    const signals = new EventEmitter();
    const consoleLog = console.log;
    const live = start(['--nsgs', '1', '--vnets', '1', '--interval', '0.2'], {
      stdout: term,
      stdin: keys,
      signals,
    });
    await until('the screen', () => term.text.includes(ENTER_ALT));
    // (Loading the app can wrap console itself, once: compare with what the screen put in place.)
    const captured = console.log;
    assert.notEqual(captured, consoleLog, 'console captured while the screen is up');
    await until(
      'summaries on screen',
      () => /events→hub [\d.]+\/s/.test(visible(term.text)) && /\d+\/\d+ +0 B/.test(term.text),
    );
    await new Promise((r) => setTimeout(r, 600));
    keys.emit('data', Buffer.from('q'));
    assert.equal(await live.run, 0, live.stderr.text);

    assert.equal(live.result()?.reason, 'interrupted');
    assert.equal(live.result()?.caughtUp, true);
    assert.deepEqual(keys.rawModes, [true, false]);
    assert.equal(keys.paused, true);
    assert.equal(keys.listenerCount('data'), 0);
    assert.equal(term.listenerCount('resize'), 0);
    assert.notEqual(console.log, captured, 'console restored');
    assert.equal(signals.listenerCount('SIGINT'), 0);

    // Frames: drawn from the top, none wider than the terminal, at most its height.
    const screen = term.text.slice(term.text.indexOf(ENTER_ALT), term.text.lastIndexOf(LEAVE_ALT));
    const frames = screen.split('\x1b[H').slice(2);
    assert.ok(frames.length >= 3, `${frames.length} frames`);
    for (const frame of frames) {
      const body = frame.endsWith('\x1b[J') ? frame.slice(0, -3) : frame;
      const lines = body.split('\r\n');
      assert.ok(lines.length <= term.rows);
      for (const line of lines) assert.ok([...visible(line)].length <= term.columns, visible(line));
    }
    const last = visible(frames[frames.length - 1]!);
    assert.match(last, /── Blobs/);
    assert.match(last, /── Top talkers/);
    // After the screen: cursor shown, normal screen back, then the final frame and the summary.
    const after = term.text.slice(term.text.lastIndexOf(LEAVE_ALT) - SHOW_CURSOR.length);
    assert.ok(after.startsWith(`${SHOW_CURSOR}${LEAVE_ALT}`));
    assert.match(visible(after), /flowlog live {2}simulated 1 NSG \+ 1 VNet NICs .* stopped/);
    assert.match(visible(after), /lag at exit: 0 B \/ 0 blocks in 0 blob\(s\)/);
  });

  test('SIGINT stops cleanly (no UI): writing stops, the app catches up, exit 0', async () => {
    const out = new Sink();
    const signals = new EventEmitter();
    const live = start(['--nsgs', '1', '--vnets', '1', '--interval', '0.2'], { stdout: out, signals });
    await until('the run', () => live.stderr.text.includes('Ctrl-C stops'));
    await new Promise((r) => setTimeout(r, 1500));
    signals.emit('SIGINT');
    assert.equal(await live.run, 0, live.stderr.text);
    const result = live.result();
    assert.equal(result?.reason, 'interrupted');
    assert.equal(result?.caughtUp, true);
    assert.ok((result?.view.totals.hubEvents ?? 0) > 0);
    assert.match(live.stderr.text, /stopping: writing stopped, letting the app catch up/);
    assert.ok(!out.text.includes('\x1b['), 'no escape codes when not on a terminal');
    assert.equal(signals.listenerCount('SIGINT'), 0);
  });
});
