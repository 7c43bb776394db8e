import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { summarizeBytes } from '../support/summarize';

// Elastic License 2.0 samples are not copied into this repository; read them from ../shared when present.
const SHARED = join(__dirname, '..', '..', '..', 'shared', 'samples', 'real');
const present = existsSync(join(SHARED, 'SOURCES.md'));

test('Elastic NSG v2 testdata blob (read from ../shared)', {
  skip: !present && 'shared samples absent',
}, () => {
  const name = 'nsg-v2_elastic-integrations_azure_network_watcher_nsg_testdata.json';
  const { stats, problems } = summarizeBytes(readFileSync(join(SHARED, name)), name);
  assert.deepEqual(problems, []);
  assert.deepEqual([stats.records, stats.tuples, stats.summaries], [2, 11, 11]);
});

test('Elastic VNet testdata blob (read from ../shared)', {
  skip: !present && 'shared samples absent',
}, () => {
  const name = 'vnet-v4_elastic-integrations_azure_network_watcher_vnet_testdata.json';
  const { stats, problems } = summarizeBytes(readFileSync(join(SHARED, name)), name);
  assert.deepEqual(problems, []);
  assert.deepEqual([stats.records, stats.tuples, stats.summaries], [1, 19, 12]);
});

test('Elastic NDJSON pipeline records: each line is one record block', {
  skip: !present && 'shared samples absent',
}, () => {
  for (const name of [
    'nsg-v2_elastic-integrations_pipeline-test-nsg.ndjson',
    'vnet-v4_elastic-integrations_pipeline-test-vnet.ndjson',
  ]) {
    const lines = readFileSync(join(SHARED, name), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    // A line is a record, so the lines joined with commas are a block range of records.
    const { stats, problems, summaries } = summarizeBytes(Buffer.from(lines.join(',')), name, {
      start: 'array-body',
    });
    assert.deepEqual(
      problems.map((p) => p.message),
      [],
    );
    assert.equal(stats.records, lines.length);
    assert.ok(stats.tuples > 0);
    assert.equal(
      summaries.reduce((n, s) => n + s.tuples, 0),
      stats.tuples,
    );
    for (const s of summaries) assert.match(s.macAddress, /^[0-9A-F]{12}$/, 'MAC upper-cased');
  }
});
