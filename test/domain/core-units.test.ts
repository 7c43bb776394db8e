import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  blobIdentityForFile,
  blobIdentityFromName,
  normalizeMac,
  parseHourPath,
} from '../../domain/blob-identity';
import { murmur128Hex } from '../../domain/hash';
import {
  ENRICHMENT_FIELD_NAMES,
  emptyEnrichment,
  type FlowSummary,
  GROUP_FIELDS,
  ROW_FIELDS,
} from '../../domain/summary/schema';
import {
  readSummaryLines,
  SummaryReader,
  serializeGroup,
  serializeSummary,
  summaryLines,
  UnknownGroupError,
} from '../../domain/summary/serialize';
import { isoSeconds, toEpochSeconds, windowStartSeconds } from '../../domain/window';
import { summarizeFixture } from '../support/summarize';

describe('core units', () => {
  test('murmur3 x86 128 matches published implementations (UTF-8)', () => {
    // Vectors computed with murmurhash3js-revisited x86.hash128 over the UTF-8 bytes.
    assert.equal(murmur128Hex(''), '00000000000000000000000000000000');
    assert.equal(murmur128Hex('a'), 'a794933c5556b01b5556b01b5556b01b');
    assert.equal(murmur128Hex('hello'), '2b2444a0db91def79adb31b69adb31b6');
    assert.equal(
      murmur128Hex('The quick brown fox jumps over the lazy dog'),
      '2f1583c3ecee2c675d7bf66ce5e91d2c',
    );
    assert.equal(murmur128Hex('0123456789abcdef0123'), 'c8127e9837594e79240bb67175133d48');
    assert.equal(murmur128Hex('é漢字😀 mixed'), '0146dc5d14d14b0adba59e3042baf1f0');
  });

  test('windows: floor(seconds / window) × window; milliseconds detected', () => {
    assert.equal(toEpochSeconds(1663146003599), 1663146003);
    assert.equal(toEpochSeconds(1542110379), 1542110379);
    assert.equal(windowStartSeconds(1542110379, 60), 1542110340);
    assert.equal(windowStartSeconds(1542110400, 300), 1542110400);
    assert.equal(isoSeconds(1542110340), '2018-11-13T11:59:00Z');
  });

  test('blob identity from names, URLs and paths', () => {
    const name =
      'resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N/y=2026/m=11/d=30/h=09/m=00/macAddress=000D3AF8801A/PT1H.json';
    assert.equal(blobIdentityFromName(name), name);
    assert.equal(
      blobIdentityFromName(
        `https://acct.blob.core.windows.net/insights-logs-networksecuritygroupflowevent/${name}`,
      ),
      name,
    );
    assert.equal(
      blobIdentityFromName(`/data/insights-logs-networksecuritygroupflowevent/${name.replace('=', '%3D')}`),
      name,
    );
    assert.equal(blobIdentityForFile('sub/dir/x.json'), 'sub/dir/x.json');
    assert.equal(blobIdentityForFile('sub\\dir\\x.json'), 'sub/dir/x.json');
    assert.deepEqual(parseHourPath(name), {
      hourStart: new Date('2026-11-30T09:00:00Z'),
      macAddress: '000D3AF8801A',
    });
    assert.equal(
      parseHourPath('flowLogResourceID=/X/y=2026/m=11/d=30/h=9/m=00/macAddress=A/PT1H.json'),
      undefined,
    );
    assert.equal(normalizeMac('00-0d-3a-f8-80-1a'), '000D3AF8801A');
  });

  test('serializer: contract order, exact round trip, escaping', () => {
    const { summaries } = summarizeFixture('nsg-v2_sumologic_blob_fixtures.json');
    const rowNames = ROW_FIELDS.map((f) => f.name);
    const groupNames = GROUP_FIELDS.map((f) => f.name);
    const reader = new SummaryReader();
    for (const s of summaries.slice(0, 20)) {
      const line = serializeSummary(s);
      const groupLine = serializeGroup(s);
      // Contract order; a null field is left out and read back as null; the row names its group only.
      assert.deepEqual(
        Object.keys(JSON.parse(line)),
        rowNames.filter((n) => s[n as keyof FlowSummary] !== null),
      );
      assert.deepEqual(
        Object.keys(JSON.parse(groupLine)),
        groupNames.filter((n) => s[n as keyof FlowSummary] !== null),
      );
      assert.ok(!line.includes(':null') && !groupLine.includes(':null'), line);
      assert.ok(!line.includes('macAddress') && !line.includes('resourceId') && !line.includes('"blob"'));
      assert.equal(JSON.parse(groupLine).macAddress, s.macAddress);
      assert.equal(reader.read(groupLine), null);
      assert.deepEqual(reader.read(line), s);
    }
    // A summary stream carries each group's line once, before its first row, and reads back whole.
    const lines = summaryLines(summaries);
    const groups = new Set(summaries.map((s) => s.group));
    assert.equal(lines.length, summaries.length + groups.size);
    assert.deepEqual(readSummaryLines(lines), summaries);
    // A contract v2 row (files written before v3: the group's fields in the row) still reads whole.
    const { group: _omit, ...v2 } = summaries[0]!;
    const v2Line = JSON.stringify({ ...v2, aclId: undefined, schemaVersion: 2 });
    assert.deepEqual(new SummaryReader().read(v2Line), { ...summaries[0]!, group: '', schemaVersion: 2 });
    assert.throws(() => new SummaryReader().read('{"id":"x"}'), TypeError);
    // A row without its group line is refused, naming the group.
    assert.throws(
      () => new SummaryReader().read(serializeSummary(summaries[0]!)),
      (e: unknown) => e instanceof UnknownGroupError && e.group === summaries[0]!.group,
    );
    const first = summaries[0]!;
    const odd = {
      ...first,
      rule: 'a "quoted"\\rule\n',
      srcCountry: 'DE',
      srcLat: 52.5,
      srcAsn: 3320,
      srcLon: Number.NaN,
    };
    const parsed = JSON.parse(serializeSummary(odd));
    assert.deepEqual(
      [parsed.srcCountry, parsed.srcLat, parsed.srcAsn, parsed.srcLon],
      ['DE', 52.5, 3320, null],
    );
    assert.equal(JSON.parse(serializeGroup(odd)).rule, 'a "quoted"\\rule\n');
    // The repeated-segment cache never leaks values between groups.
    assert.equal(JSON.parse(serializeGroup(first)).rule, first.rule);
    assert.equal(JSON.parse(serializeSummary(first)).group, first.group);
  });

  test('schema: enrichment fields all null until enriched', () => {
    assert.equal(ENRICHMENT_FIELD_NAMES.length, 20);
    assert.ok(Object.values(emptyEnrichment()).every((v) => v === null));
  });

  test('domain/ is pure: no Azure SDKs, durable-functions or node I/O modules', () => {
    const root = join(__dirname, '..', '..', 'domain');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.ts')) {
          const text = readFileSync(full, 'utf8');
          const imports = [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)].map(
            (m) => m[1]!,
          );
          for (const spec of imports) {
            if (spec.startsWith('.')) continue;
            offenders.push(`${full.slice(root.length + 1)} imports ${spec}`);
          }
          if (/\bprocess\.(env|argv|stdout|stderr)\b/.test(text))
            offenders.push(`${name} reads process state`);
        }
      }
    };
    walk(root);
    assert.deepEqual(offenders, []);
  });
});
