import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { simulateToFolder } from '../../cli/commands/simulate';
import { readSummaryLines } from '../../domain/summary/serialize';
import { REAL_FIXTURES } from '../support/summarize';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'enrichment');
const work = mkdtempSync(join(tmpdir(), 'flowlog-workers-'));
after(() => rmSync(work, { recursive: true, force: true }));

function flowlog(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The output's lines, sorted: the workers' batches interleave, the rows must not change. */
/**
 * The row lines of an output, sorted (group lines are per batch: their number depends on how files were
 * batched), after checking that the whole output reads back (every row after its group's line).
 */
function sortedLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const rows = text.split('\n').filter((l) => l.startsWith('{"id":'));
  assert.equal(readSummaryLines(text).length, rows.length);
  return rows.sort();
}

describe('flowlog process --workers', () => {
  const data = join(work, 'data');
  const ready = simulateToFolder(data, {
    nsgs: 2,
    vnets: 2,
    hours: 1,
    flowsPerMinute: 40,
    seed: 3,
    start: new Date('2026-11-30T00:00:00Z'),
  });

  test('the same rows, stats and problems as one thread; each file summarized once', async () => {
    await ready;
    // Bad input next to the simulated blobs: reported with file and offset, the rest still processed.
    copyFileSync(
      join(REAL_FIXTURES, 'nsg-v1_msdocs_nsg-flow-logs-overview_v1-sample_MALFORMED-nested-records.json'),
      join(data, 'malformed.json'),
    );
    writeFileSync(join(data, 'truncated.json'), '{"records":[{"time":"x","resourceId":"r","properties":{');
    const one = join(work, 'one.ndjson');
    const two = join(work, 'two.ndjson');
    const a = flowlog(['process', data, '--out', one, '--quiet', '--stats', join(work, 'one.json')]);
    const b = flowlog(['process', data, '--out', two, '--workers', '3', '--stats', join(work, 'two.json')]);
    assert.equal(a.code, 1, a.stderr);
    assert.equal(b.code, 1, b.stderr);
    const rows = sortedLines(one);
    assert.ok(rows.length > 1000);
    assert.deepEqual(sortedLines(two), rows);
    const ids = rows.map((l) => (JSON.parse(l) as { id: string }).id);
    assert.equal(new Set(ids).size, ids.length);
    const problems = (stderr: string) =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('flowlog: ') && !l.includes(' files, '))
        .sort();
    assert.deepEqual(problems(b.stderr), problems(a.stderr));
    assert.equal(problems(b.stderr).length, 2);
    assert.match(b.stderr, /summaries in [\d.]+ s on 3 workers/);
    const statsOne = JSON.parse(readFileSync(join(work, 'one.json'), 'utf8')) as Record<string, unknown>;
    const statsTwo = JSON.parse(readFileSync(join(work, 'two.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(statsOne['workers'], 1);
    assert.equal(statsTwo['workers'], 3);
    for (const key of ['files', 'records', 'tuples', 'summaries', 'problems', 'recordsFailed', 'bytes'])
      assert.equal(statsTwo[key], statsOne[key], key);
  });

  test('with enrichment: one data load serves every worker; the same enriched rows', async () => {
    await ready;
    const enrich = ['--service-tags', join(FIXTURES, 'ServiceTags_Public_20261123.json')];
    const labels = ['--labels', join(FIXTURES, 'labels.csv')];
    const clean = join(work, 'clean');
    mkdirSync(clean, { recursive: true });
    for (const f of ['nsg-v2_sumologic_blob_fixtures.json', 'nsg-v1_msdocs_flow-logs-read_block-sample.json'])
      copyFileSync(join(REAL_FIXTURES, f), join(clean, f));
    const one = join(work, 'e1.ndjson');
    const two = join(work, 'e2.ndjson');
    const a = flowlog(['process', data, clean, '--out', one, '--quiet', ...enrich, ...labels]);
    const b = flowlog([
      'process',
      data,
      clean,
      '--out',
      two,
      '--quiet',
      '--workers',
      '2',
      ...enrich,
      ...labels,
    ]);
    assert.equal(a.code, 1, a.stderr); // the bad files of the first test are still in `data`
    assert.equal(b.code, 1, b.stderr);
    const rows = sortedLines(one);
    assert.deepEqual(sortedLines(two), rows);
    const parsed = readSummaryLines(readFileSync(one, 'utf8'));
    assert.equal(parsed.length, rows.filter((l) => l.startsWith('{"id":')).length);
    assert.ok(parsed.every((r) => r.flowType !== null));
    assert.ok(parsed.some((r) => r.dstCountry !== null));
    assert.match(b.stderr, /on 2 workers; 2 problems .*; enriched: \d+ distinct addresses/);
  });

  test('enrichment data that fails to load stops every worker: exit 2 naming the file, no output', async () => {
    await ready;
    const missing = join(work, 'no-such-labels.csv');
    const out = join(work, 'never.ndjson');
    const r = flowlog(['process', data, '--out', out, '--workers', '2', '--labels', missing]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no-such-labels\.csv/);
    assert.equal(existsSync(out) ? readFileSync(out, 'utf8') : '', '');
  });

  test('usage: --workers must be a positive number or auto', async () => {
    await ready;
    const zero = flowlog(['process', data, '--out', '-', '--workers', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--workers \(a number or auto\) must be a positive whole number/);
    const auto = flowlog(['process', join(data, 'malformed.json'), '--out', '-', '--workers', 'auto']);
    assert.equal(auto.code, 1, auto.stderr); // one file: summarized on the main thread
    assert.equal(readSummaryLines(auto.stdout).length, 9);
  });
});
