import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ENRICHMENT_FIELD_NAMES } from '../../domain/summary/schema';
import { readSummaryLines } from '../../domain/summary/serialize';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'enrichment');
const TAGS = join(FIXTURES, 'ServiceTags_Public_20261123.json');
const LABELS = join(FIXTURES, 'labels.csv');

function flowlog(args: readonly string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An NSG v2 flow log: a VM in the hub VNet talking to Google DNS, Azure Storage and a Tor exit. */
function flowLogFile(dir: string): string {
  const tuples = [
    '1795996800,10.1.0.4,8.8.8.8,40000,53,U,O,A,B,,,,',
    '1795996801,10.1.0.4,8.8.8.8,40001,53,U,O,A,E,1,70,1,120',
    '1795996802,10.1.0.4,20.38.98.10,40002,443,T,O,A,C,10,1500,12,9000',
    '1795996803,185.220.101.4,10.1.0.4,50000,22,T,I,D,B,,,,',
  ];
  const record = {
    time: '2026-11-30T00:01:00.0000000Z',
    resourceId: '/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG',
    properties: {
      Version: 2,
      flows: [{ rule: 'UserRule_Test', flows: [{ mac: '000D3A000001', flowTuples: tuples }] }],
    },
  };
  const path = join(dir, 'PT1H.json');
  writeFileSync(path, JSON.stringify({ records: [record] }));
  return path;
}

type Row = Record<string, unknown>;
const rowsOf = (text: string): Row[] => readSummaryLines(text) as unknown as Row[];

describe('flowlog process: enrichment', () => {
  test('on by default: 8.8.8.8 is US / AS15169, DNS over UDP is "domain"; stderr gives the hit rate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const r = flowlog(['process', flowLogFile(dir), '--out', '-', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const google = rowsOf(r.stdout).filter((x) => x.dstIp === '8.8.8.8');
    assert.equal(google.length, 1);
    assert.equal(google[0]!.dstCountry, 'US');
    assert.equal(google[0]!.dstAsn, 15169);
    assert.equal(google[0]!.srcCountry, null, 'private addresses are never geo-looked-up');
    assert.equal(google[0]!.l7Protocol, 'domain');
    assert.equal(google[0]!.flowType, 'ExternalPublic');
    assert.match(r.stderr, /enriched: \d+ distinct addresses looked up, cache hit rate [\d.]+ %/);
  });

  test('--service-tags and --labels: service tag, labels and flow types; --stats writes the figures', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const stats = join(dir, 'stats.json');
    const out = join(dir, 'out.ndjson');
    const r = flowlog([
      'process',
      flowLogFile(dir),
      '--out',
      out,
      '--quiet',
      '--service-tags',
      TAGS,
      '--labels',
      LABELS,
      '--stats',
      stats,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = rowsOf(readFileSync(out, 'utf8'));
    const storage = rows.find((x) => x.dstIp === '20.38.98.10')!;
    assert.equal(storage.dstServiceTag, 'Storage.EastUS');
    assert.equal(storage.dstAzureRegion, 'eastus');
    assert.equal(storage.srcLabel, 'hub');
    assert.equal(storage.flowType, 'AzurePublic');
    assert.equal(storage.l7Protocol, 'https');
    assert.equal(rows.find((x) => x.srcIp === '185.220.101.4')!.flowType, 'MaliciousFlow');
    const report = JSON.parse(readFileSync(stats, 'utf8'));
    assert.equal(report.tuples, 4);
    assert.equal(report.summaries, rows.length);
    assert.equal(report.enrichment.enabled, true);
    assert.equal(report.enrichment.summaries, rows.length);
    assert.ok(report.enrichment.hitRate > 0 && report.enrichment.hitRate <= 1);
    assert.deepEqual(
      report.enrichment.sources.map((s: { dataset: string }) => s.dataset),
      ['GeoIP City', 'ASN', 'service tags', 'labels'],
    );
  });

  test('--threat-feed: a listed address is MaliciousFlow with the feed as its label; CSV rows override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const feed = join(dir, 'drop.txt');
    // Spamhaus DROP's shape. labels.csv has 10.1.0.0/16 (hub, vnet) and 185.220.101.0/24 (tor-exit).
    writeFileSync(feed, '; DROP\n20.38.98.0/24 ; SBL1\n10.1.0.0/16 ; SBL2\n185.220.101.0/24 ; SBL3\n');
    const out = join(dir, 'out.ndjson');
    const r = flowlog([
      'process',
      flowLogFile(dir),
      '--out',
      out,
      '--quiet',
      '--labels',
      LABELS,
      '--threat-feed',
      `drop=${feed}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rows = rowsOf(readFileSync(out, 'utf8'));
    const listed = rows.find((x) => x.dstIp === '20.38.98.10')!;
    assert.deepEqual([listed.dstLabel, listed.flowType], ['drop', 'MaliciousFlow']);
    // Where the user's rows cover an address they decide: hub stays hub, the Tor exit keeps its label.
    const dns = rows.find((x) => x.dstIp === '8.8.8.8')!;
    assert.deepEqual([dns.srcLabel, dns.flowType], ['hub', 'ExternalPublic']);
    const scan = rows.find((x) => x.srcIp === '185.220.101.4')!;
    assert.deepEqual([scan.srcLabel, scan.flowType], ['tor-exit', 'MaliciousFlow']);
    const missing = flowlog([
      'process',
      flowLogFile(dir),
      '--out',
      out,
      '--threat-feed',
      join(dir, 'nope.txt'),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /threat feeds data .*nope\.txt: cannot read the file/);
  });

  test('--no-enrich leaves every enrichment field null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const r = flowlog(['process', flowLogFile(dir), '--out', '-', '--no-enrich']);
    assert.equal(r.code, 0, r.stderr);
    const rows = rowsOf(r.stdout);
    assert.equal(rows.length, 3); // the two DNS tuples share a key
    for (const row of rows) for (const name of ENRICHMENT_FIELD_NAMES) assert.equal(row[name], null, name);
    assert.match(r.stderr, /not enriched/);
  });

  test('a corrupt --geoip file: exit 2, a message naming the file, no output written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const bad = join(dir, 'city.mmdb');
    writeFileSync(bad, 'this is not a MaxMind database'.repeat(100));
    const out = join(dir, 'out.ndjson');
    const r = flowlog(['process', flowLogFile(dir), '--out', out, '--geoip', bad]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(bad), r.stderr);
    assert.match(r.stderr, /GeoIP City data .*not a MaxMind DB file/);
    assert.equal(existsSync(out), false);
  });

  test('a missing --labels file: exit 2 naming it; a data flag with --no-enrich is a usage error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowlog-enrich-'));
    const missing = join(dir, 'nope.csv');
    const r = flowlog(['process', flowLogFile(dir), '--out', '-', '--labels', missing]);
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(missing), r.stderr);
    const both = flowlog(['process', flowLogFile(dir), '--out', '-', '--no-enrich', '--labels', LABELS]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--no-enrich cannot be combined with --labels/);
    assert.match(both.stderr, /Usage: flowlog process/);
  });

  test('process --help documents the data flags and exit codes', () => {
    const help = flowlog(['process', '--help']);
    assert.equal(help.code, 0);
    for (const flag of [
      '--geoip PATH',
      '--asn PATH',
      '--service-tags PATH',
      '--labels PATH',
      '--no-enrich',
      '--stats FILE',
    ])
      assert.ok(help.stdout.includes(flag), flag);
    assert.match(help.stdout, /Exit codes: 0 all input processed; 1 .*; 2 usage error, or\s+enrichment data/);
  });
});

describe('flowlog lookup', () => {
  test('8.8.8.8 → US, AS15169 (text and JSON)', () => {
    const text = flowlog(['lookup', '8.8.8.8']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^8\.8\.8\.8\n/);
    assert.match(text.stdout, /location\s+US/);
    assert.match(text.stdout, /AS\s+AS15169 /);
    assert.match(text.stdout, /data sources:/);
    const json = flowlog(['lookup', '8.8.8.8', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.addresses[0].geo.country, 'US');
    assert.equal(doc.addresses[0].asn.asn, 15169);
    assert.equal(doc.addresses[0].fields.Country, 'US');
    assert.ok(doc.sources.length >= 2);
  });

  test('service tags, labels and special ranges; a non-address exits 1', () => {
    const r = flowlog([
      'lookup',
      '20.38.98.10',
      '10.1.0.4',
      'not-an-ip',
      '--service-tags',
      TAGS,
      '--labels',
      LABELS,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /service tag\s+Storage\.EastUS \(eastus\) 20\.38\.98\.0\/24/);
    assert.match(r.stdout, /label\s+hub \(vnet\) 10\.1\.0\.0\/16/);
    assert.match(r.stdout, /not-an-ip\n\s+error\s+not an IPv4 or IPv6 address/);
  });

  test('--no-enrich answers from the built-in ranges only; usage errors exit 2; --help exits 0', () => {
    const r = flowlog(['lookup', '10.0.0.1', '--no-enrich', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.addresses[0].special.kind, 'private');
    assert.equal(doc.addresses[0].geo, null);
    assert.equal(flowlog(['lookup']).code, 2);
    const help = flowlog(['lookup', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: flowlog lookup <ip\.\.\.>/);
    assert.match(help.stdout, /Exit codes:/);
    assert.match(flowlog(['--help']).stdout, /\n\s+lookup\s/);
    const bad = flowlog(['lookup', '8.8.8.8', '--geoip', join(FIXTURES, 'labels.csv')]);
    assert.equal(bad.code, 2);
    assert.ok(bad.stderr.includes('labels.csv'), bad.stderr);
  });
});
