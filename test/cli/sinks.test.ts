import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileSink } from '../../cli/sinks';

describe('fileSink', () => {
  test('replaces an existing file (moved aside and deleted, nothing left behind)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-sink-'));
    const out = join(dir, 'out.ndjson');
    writeFileSync(out, 'old content that is longer than the new one\n'.repeat(1000));
    const sink = await fileSink(out);
    await sink.writeBytes(new TextEncoder().encode('new\n'));
    await sink.close();
    assert.equal(readFileSync(out, 'utf8'), 'new\n');
    assert.deepEqual(readdirSync(dir), ['out.ndjson']);
  });

  test('a new file, a symbolic link (written through) and /dev/null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-sink-'));
    const fresh = await fileSink(join(dir, 'fresh.ndjson'));
    await fresh.writeBytes(new TextEncoder().encode('a\n'));
    await fresh.close();
    assert.equal(readFileSync(join(dir, 'fresh.ndjson'), 'utf8'), 'a\n');
    writeFileSync(join(dir, 'target.ndjson'), 'old\n');
    symlinkSync(join(dir, 'target.ndjson'), join(dir, 'link.ndjson'));
    const link = await fileSink(join(dir, 'link.ndjson'));
    await link.writeBytes(new TextEncoder().encode('b\n'));
    await link.close();
    assert.equal(readFileSync(join(dir, 'target.ndjson'), 'utf8'), 'b\n');
    const devNull = await fileSink('/dev/null');
    await devNull.writeBytes(new Uint8Array(10));
    await devNull.close();
    assert.equal(readFileSync('/dev/null', 'utf8'), '');
  });
});
