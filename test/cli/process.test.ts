import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { blobIdOf } from '../../domain/blob-identity';
import { type FlowSummary, GROUP_FIELDS, ROW_FIELDS } from '../../domain/summary/schema';
import { readSummaryLines } from '../../domain/summary/serialize';
import { REAL_FIXTURES } from '../support/summarize';

const ROOT = join(__dirname, '..', '..');

function flowlog(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('flowlog process', () => {
  test('a folder with good and bad files: every good record out, one line per problem, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-cli-'));
    mkdirSync(join(dir, 'nested'));
    copyFileSync(
      join(REAL_FIXTURES, 'nsg-v2_sumologic_blob_fixtures.json'),
      join(dir, 'nested', 'good.json'),
    );
    copyFileSync(
      join(REAL_FIXTURES, 'nsg-v1_msdocs_nsg-flow-logs-overview_v1-sample_MALFORMED-nested-records.json'),
      join(dir, 'malformed.json'),
    );
    writeFileSync(
      join(dir, 'truncated.json'),
      '{"records":[{"time":"x","resourceId":"r","properties":{"Version":2,"flows":[',
    );
    writeFileSync(join(dir, 'ignored.txt'), 'not json');
    const out = join(dir, 'out.ndjson');
    const r = flowlog(['process', dir, '--out', out]);
    assert.equal(r.code, 1);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const rows = readSummaryLines(lines);
    assert.equal(rows.length, 108 + 9);
    // Each flow group's line once (one batch), before its first row.
    const groupLines = lines.filter((l) => l.startsWith('{"group":'));
    assert.equal(groupLines.length, new Set(rows.map((x) => x.group)).size);
    assert.equal(lines.length, rows.length + groupLines.length);
    // Compact rows: the fields a row knows, in contract order; null ones are left out; the group's
    // fields are in its line only.
    const firstRow = lines.find((l) => l.startsWith('{"id":'))!;
    assert.deepEqual(
      Object.keys(JSON.parse(firstRow) as Record<string, unknown>),
      ROW_FIELDS.map((f) => f.name).filter((n) => rows[0]![n as keyof FlowSummary] !== null),
    );
    assert.deepEqual(
      Object.keys(JSON.parse(lines[0]!) as Record<string, unknown>),
      GROUP_FIELDS.map((f) => f.name).filter((n) => rows[0]![n as keyof FlowSummary] !== null),
    );
    assert.deepEqual(
      [...new Set(rows.map((x) => x.blob))].sort(),
      [blobIdOf('malformed.json'), blobIdOf('nested/good.json')].sort(),
    );
    const problems = r.stderr.split('\n').filter((l) => l.startsWith('flowlog: ') && !l.includes(' files, '));
    assert.deepEqual(problems.length, 2, r.stderr);
    assert.match(
      problems[0]!,
      /malformed\.json, byte 3371, record 2: found a \{"records":\[\.\.\.\]\} wrapper/,
    );
    assert.match(problems[1]!, /truncated\.json, byte 12: the document ends inside this record/);
    assert.match(r.stderr, /3 files, 11 records, 162 tuples → 117 summaries/);
  });

  test('stdout output, window option, exit 0 on clean input', () => {
    const r = flowlog([
      'process',
      join(REAL_FIXTURES, 'nsg-v1_msdocs_flow-logs-read_block-sample.json'),
      '--out',
      '-',
      '--window',
      '3600',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = readSummaryLines(r.stdout);
    // With hour windows the 20:58 and 20:59 rows of each key merge.
    assert.equal(rows.length, 3);
    assert.ok(rows.every((x) => x.windowSeconds === 3600 && x.windowStart === '2017-06-16T20:00:00Z'));
    assert.equal(
      rows.reduce((n, x) => n + x.tuples, 0),
      40,
    );
  });

  test('usage errors exit 2 with the usage text; --help exits 0', () => {
    const missing = flowlog(['process', REAL_FIXTURES]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--out FILE \(or - for stdout\) is required/);
    assert.match(missing.stderr, /Usage: flowlog process/);
    assert.equal(flowlog(['process', REAL_FIXTURES, '--out', '-', '--window', '0']).code, 2);
    assert.equal(flowlog(['nonsense']).code, 2);
    const help = flowlog(['process', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes: 0 all input processed; 1 some input/);
    assert.match(flowlog(['--help']).stdout, /Commands:\n\s+process/);
  });
});

describe('flowlog simulate', () => {
  test('--long-tail-space internet: a long tail anywhere in public IPv4 (and IPv6); a wrong value is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-sim-tail-'));
    const args = [
      '--nsgs',
      '1',
      '--vnets',
      '1',
      '--flows-per-minute',
      '40',
      '--seed',
      '3',
      '--long-tail',
      '100000',
    ];
    assert.equal(flowlog(['simulate', '--out', dir, ...args, '--long-tail-space', 'internet']).code, 0);
    const out = join(dir, 'out.ndjson');
    assert.equal(flowlog(['process', dir, '--out', out, '--no-enrich']).code, 0);
    const rows = readSummaryLines(readFileSync(out, 'utf8'));
    const remote = new Set(rows.filter((r) => r.direction === 'Outbound').map((r) => r.dstIp));
    const firstOctets = new Set([...remote].filter((ip) => !ip.includes(':')).map((ip) => ip.split('.')[0]));
    assert.ok(firstOctets.size > 50, `${firstOctets.size} distinct first octets`);
    assert.ok(
      [...remote].some((ip) => ip.includes(':')),
      'IPv6 in the tail',
    );
    const bad = flowlog(['simulate', '--out', dir, ...args, '--long-tail-space', 'moon']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--long-tail-space must be octets or internet/);
  });

  test('deterministic per seed, Azure layout, both log types, processes cleanly', () => {
    const a = mkdtempSync(join(tmpdir(), 'flowlog-sim-a-'));
    const b = mkdtempSync(join(tmpdir(), 'flowlog-sim-b-'));
    const args = ['--nsgs', '1', '--vnets', '1', '--hours', '2', '--flows-per-minute', '5', '--seed', '42'];
    assert.equal(flowlog(['simulate', '--out', a, ...args]).code, 0);
    assert.equal(flowlog(['simulate', '--out', b, ...args]).code, 0);
    const out = join(a, 'out.ndjson');
    const r = flowlog(['process', a, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const rows = readSummaryLines(readFileSync(out, 'utf8'));
    assert.ok(rows.some((x) => x.logType === 'nsg') && rows.some((x) => x.logType === 'vnet'));
    assert.ok(
      rows.some((x) => /T01:/.test(x.windowStart)) && new Set(rows.map((x) => x.blob)).size === 4,
      'second hour present: 2 NICs x 2 hours = 4 blobs',
    );
    assert.ok(
      rows.every((x) => /^[0-9a-f]{16}$/.test(x.blob)),
      'blob: the 16-hex id of the blob identity',
    );
    assert.ok(rows.some((x) => x.decision === 'Deny'));
    assert.ok(
      rows.some((x) => x.srcIp.includes(':') || x.dstIp.includes(':')),
      'IPv6 present',
    );
    assert.ok(rows.some((x) => x.flowsEnded > 0 && x.bytesSrcToDst > 0));
    const again = join(b, 'out.ndjson');
    flowlog(['process', b, '--out', again]);
    assert.equal(readFileSync(again, 'utf8'), readFileSync(out, 'utf8'));
  });
});
