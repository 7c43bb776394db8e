import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FlowLogError } from '../../domain/errors';
import { RecordBytesReader } from '../../domain/formats/record-bytes';
import { RecordScanner } from '../../domain/framing/record-scanner';
import { murmur128Hex, murmur128HexInto, murmurPrefix } from '../../domain/hash';
import { simulateBlobs } from '../../domain/simulate/simulate';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import {
  FAST_RECORD_PATH,
  NdjsonEncoder,
  type RowFactsEnricher,
  readSummaryLines,
  type SummaryEnricherLike,
  summaryLines,
} from '../../domain/summary/serialize';

/**
 * The batch fast path (BlobSummarizer.pushNdjson: RecordBytesReader + NdjsonEncoder.appendRecord) must
 * give byte for byte what the general path gives (push → aggregateRecord → serializeSummary), with the
 * same problems and stats, on every input: real samples, simulated blobs, and records mutated in every
 * way the fast path refuses or must get right (key order, whitespace, escapes, non-ASCII, letter case,
 * duplicate keys, unusual spellings, malformed tuples, invalid JSON).
 */

const REAL = join(__dirname, '..', 'fixtures', 'real');
const decoder = new TextDecoder();

interface Outcome {
  ndjson: string;
  problems: string[];
  stats: unknown;
}

function general(
  bytes: Uint8Array,
  blob: string,
  windowSeconds: number,
  chunk: number,
  enricher?: SummaryEnricherLike,
): Outcome {
  const s = new BlobSummarizer({ blob, windowSeconds });
  const problems: FlowLogError[] = [];
  let ndjson = '';
  for (let at = 0; at < bytes.length; at += chunk) {
    const out: FlowSummary[] = [];
    s.push(bytes.subarray(at, at + chunk), out, problems);
    for (const x of out) enricher?.enrich(x);
    // Each chunk's piece is a summary stream of its own: its groups' lines before their rows.
    for (const line of summaryLines(out)) ndjson += `${line}\n`;
  }
  s.end(true, problems);
  return { ndjson, problems: problems.map((p) => p.message), stats: s.stats };
}

function fast(
  bytes: Uint8Array,
  blob: string,
  windowSeconds: number,
  chunk: number,
  enricher?: SummaryEnricherLike,
): Outcome {
  const s = new BlobSummarizer({ blob, windowSeconds });
  const encoder = new NdjsonEncoder(64);
  const problems: FlowLogError[] = [];
  let ndjson = '';
  for (let at = 0; at < bytes.length; at += chunk) {
    // A reused chunk buffer, overwritten after each push, as `flowlog process` does.
    const reused = new Uint8Array(chunk);
    const piece = bytes.subarray(at, at + chunk);
    reused.set(piece);
    s.pushNdjson(reused.subarray(0, piece.length), encoder, problems, enricher);
    reused.fill(0x41);
    const taken = encoder.take();
    ndjson += decoder.decode(taken);
    encoder.recycle(taken);
  }
  s.end(true, problems);
  return { ndjson, problems: problems.map((p) => p.message), stats: s.stats };
}

/** Row lines of a summary stream (group lines left out). */
const rowLines = (ndjson: string) => ndjson.split('\n').filter((l) => l.startsWith('{"id":'));

/**
 * Two summary streams cut into different pieces: the same row lines byte for byte, and each reads back
 * (group lines before their rows in every piece) to the same summaries.
 */
function assertSameStream(actual: string, expected: string): void {
  assert.deepEqual(rowLines(actual), rowLines(expected));
  assert.deepEqual(readSummaryLines(actual), readSummaryLines(expected));
}

function assertSame(bytes: Uint8Array, blob: string, windowSeconds = 60, chunk = bytes.length || 1) {
  const a = general(bytes, blob, windowSeconds, chunk);
  const b = fast(bytes, blob, windowSeconds, chunk);
  assert.equal(b.ndjson, a.ndjson);
  assert.deepEqual(b.problems, a.problems);
  assert.deepEqual(b.stats, a.stats);
}

/** How many records of a document the fast path reads itself. */
function fastRecords(bytes: Uint8Array): { fast: number; total: number } {
  const scanner = new RecordScanner({ source: 'x', start: 'document', byteOffset: 0, firstOrdinal: 0 });
  const reader = new RecordBytesReader();
  let n = 0;
  let total = 0;
  for (const r of scanner.push(bytes)) {
    total++;
    if (reader.read(r.bytes, 60)) n++;
  }
  return { fast: n, total };
}

const encode = (text: string) => new TextEncoder().encode(text);

function simulated(seed: number, nsgs: number, vnets: number) {
  return [
    ...simulateBlobs({
      nsgs,
      vnets,
      hours: 1,
      flowsPerMinute: 40,
      seed,
      start: new Date('2026-11-30T00:00:00Z'),
      minutesPerHour: 3,
    }),
  ].map((b) => ({ name: b.name, bytes: encode(`{"records":[${b.records.join(',')}]}`) }));
}

describe('batch fast path (RecordBytesReader + NdjsonEncoder.appendRecord)', () => {
  test('is enabled: the schema has the field order appendRecord writes', () => {
    assert.equal(FAST_RECORD_PATH, true);
  });

  test('murmur128HexInto (with and without a prefix) equals murmur128Hex', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.nat(8), (text, cut) => {
        const bytes = encode(text);
        const out = new Uint8Array(40);
        murmur128HexInto(bytes, 0, bytes.length, null, out, 3);
        assert.equal(decoder.decode(out.subarray(3, 35)), murmur128Hex(text));
        const prefixEnd = Math.min(cut, Math.floor(bytes.length / 16)) * 16;
        murmur128HexInto(bytes, prefixEnd, bytes.length, murmurPrefix(bytes, 0, prefixEnd), out, 0);
        assert.equal(decoder.decode(out.subarray(0, 32)), murmur128Hex(text));
      }),
      { numRuns: 500 },
    );
  });

  test('real samples: same bytes, problems and stats; the well-formed records take the fast path', () => {
    for (const name of readdirSync(REAL).filter((n) => n.endsWith('.json'))) {
      const bytes = readFileSync(join(REAL, name));
      assertSame(bytes, name);
      assertSame(bytes, name, 300, 777);
      if (name.startsWith('nsg-') || name.startsWith('vnet-v4_')) {
        const { fast: n, total } = (() => {
          try {
            return fastRecords(bytes);
          } catch {
            return { fast: 0, total: 0 };
          }
        })();
        const bad = /MALFORMED|INVALID/.test(name) ? 1 : 0;
        assert.equal(n, total - bad, `${name}: ${n} of ${total} records on the fast path`);
      }
    }
  });

  test('simulated blobs (NSG v2, VNet v4, IPv6, window edges): same bytes in any chunking, all fast', () => {
    for (const blob of simulated(5, 2, 2)) {
      assertSame(blob.bytes, blob.name);
      assertSame(blob.bytes, blob.name, 60, 4099);
      assertSame(blob.bytes, blob.name, 3600, 65536);
      const { fast: n, total } = fastRecords(blob.bytes);
      assert.equal(n, total);
    }
  });

  test('with an enricher: the same enriched bytes; enrich sees every field of the row', () => {
    const seen: string[] = [];
    const enricher: SummaryEnricherLike = {
      enrich(s) {
        seen.push(
          `${s.id}|${s.windowStart}|${s.srcIp}|${s.dstIp}|${s.dstPort}|${s.protocol}|${s.tuples}|${s.rule}`,
        );
        s.srcCountry = s.srcIp.startsWith('10.') ? null : 'US';
        s.dstAsn = s.dstPort * 3;
        s.dstLat = 1.5;
        s.flowType = 'Ünïcode "quoted"';
        s.l7Protocol = s.protocol === 'TCP' ? 'https' : 'unknown';
      },
    };
    for (const blob of simulated(9, 1, 1)) {
      const a = general(blob.bytes, blob.name, 60, blob.bytes.length, enricher);
      const fromGeneral = seen.splice(0);
      const b = fast(blob.bytes, blob.name, 60, 8192, enricher);
      assertSameStream(b.ndjson, a.ndjson);
      assert.deepEqual(seen.splice(0), fromGeneral);
    }
  });

  test('an enricher whose fields depend only on addresses, port and protocol: the same bytes', () => {
    let enriched = 0;
    let addressesOnly = false;
    const keyed: SummaryEnricherLike = {
      fieldsDependOnAddressesAndPort: true,
      enrich: (x) => {
        enriched++;
        // The fast path sets only the addresses, port and protocol on what it hands over.
        if (addressesOnly) assert.equal(x.tuples, 0);
        else assert.ok(x.tuples > 0);
        x.srcCountry = x.srcIp.length > 9 ? 'NL' : null;
        x.dstAsOrg = `org "${x.dstIp}"`;
        x.dstLat = x.dstPort / 7;
        x.flowType = `${x.srcIp}>${x.dstIp}`;
        x.l7Protocol = `${x.protocol}/${x.dstPort}`;
      },
    };
    const plain: SummaryEnricherLike = { enrich: keyed.enrich };
    for (const blob of simulated(21, 1, 1)) {
      const a = general(blob.bytes, blob.name, 60, blob.bytes.length, plain);
      const rows = rowLines(a.ndjson).length;
      enriched = 0;
      addressesOnly = true;
      const b = fast(blob.bytes, blob.name, 60, 10_000, keyed);
      addressesOnly = false;
      assertSameStream(b.ndjson, a.ndjson);
      assert.equal(enriched, rows);
    }
  });

  test('an enricher handing out facts objects: each side rendered once per object, same bytes', () => {
    // Facts objects shared by many addresses (as domain/enrich's interned AddressFacts are).
    const sides = Array.from({ length: 3 }, (_, k) => ({
      srcRendered: undefined as Uint8Array | undefined,
      dstRendered: undefined as Uint8Array | undefined,
      country: ['NL', null, 'DE'][k] ?? null,
      asOrg: [`org "${k}"`, 'Ünï', null][k] ?? null,
    }));
    type Side = (typeof sides)[number];
    const sideOf = (address: string) => sides[address.length % 3]!;
    let renders = 0;
    const fill = (x: FlowSummary, src: Side, dst: Side) => {
      x.srcCountry = src.country;
      x.srcAsOrg = src.asOrg;
      x.dstCountry = dst.country;
      x.dstAsOrg = dst.asOrg;
      x.flowType = `${src.country}>${dst.country}`;
      x.l7Protocol = `${x.protocol}/${x.dstPort}`;
    };
    const keyed: SummaryEnricherLike & RowFactsEnricher<Side> = {
      fieldsDependOnAddressesAndPort: true,
      enrich: (x) => fill(x, sideOf(x.srcIp), sideOf(x.dstIp)),
      factsAt: (_b, from, to) => sides[(to - from) % 3]!,
      fillRow: fill,
      flowTypeOf: (src, dst) => `${src.country}>${dst.country}`,
      l7Of: (port, protocol) => `${protocol}/${port}`,
      countRows: () => {},
    };
    for (const blob of simulated(31, 1, 1)) {
      for (const side of sides) {
        side.srcRendered = undefined;
        side.dstRendered = undefined;
      }
      const a = general(blob.bytes, blob.name, 60, blob.bytes.length, keyed);
      const b = fast(blob.bytes, blob.name, 60, 10_000, keyed);
      assertSameStream(b.ndjson, a.ndjson);
      for (const side of sides) {
        if (side.srcRendered !== undefined) {
          renders++;
          const text = decoder.decode(side.srcRendered);
          assert.ok(text === '' || text.startsWith(',"src'), text);
          if (side.country !== null) assert.ok(text.includes(`"srcCountry":"${side.country}"`), text);
        }
      }
    }
    assert.ok(renders > 0, 'the encoder kept rendered sides on the facts objects');
  });

  test('property: any record, well-formed or mutated, gives the same bytes, problems and stats', () => {
    fc.assert(
      fc.property(
        recordDocument,
        fc.constantFrom(60, 300),
        fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 6000 })),
        (doc, w, chunk) => {
          const bytes = encode(doc);
          assertSame(bytes, 'prop/PT1H.json', w);
          assertSame(bytes, 'prop/PT1H.json', w, chunk);
          const tagger: SummaryEnricherLike = {
            enrich: (x) => {
              x.srcLabel = x.srcIp;
              x.l7Protocol = `${x.dstPort}`;
            },
          };
          const a = general(bytes, 'prop/PT1H.json', w, chunk, tagger);
          // The same tagger, declared keyed: handed only the addresses, port and protocol.
          const keyed: SummaryEnricherLike = { ...tagger, fieldsDependOnAddressesAndPort: true };
          for (const enricher of [tagger, keyed]) {
            const c = fast(bytes, 'prop/PT1H.json', w, chunk, enricher);
            assert.equal(c.ndjson, a.ndjson);
            assert.deepEqual(c.problems, a.problems);
            assert.deepEqual(c.stats, a.stats);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  test('a structure problem after some records: those records are still summarized, in any chunking', () => {
    const [blob] = simulated(3, 1, 0);
    const text = decoder.decode(blob!.bytes);
    const cut = text.lastIndexOf(',{"time"');
    const broken = encode(`${text.slice(0, cut)}, oops ${text.slice(cut + 1)}`);
    for (const chunk of [broken.length, 4096, 700]) {
      const a = general(broken, blob!.name, 60, chunk);
      assert.equal(a.problems.length, 1);
      assert.match(a.problems[0]!, /expected a record object in "records", found "o"/);
      assert.equal((a.stats as { records: number }).records, 2);
      assertSame(broken, blob!.name, 60, chunk);
    }
  });

  test('well-formed generated records take the fast path (so the property above tests it)', () => {
    let fastCount = 0;
    let total = 0;
    fc.assert(
      fc.property(recordDocument, (doc) => {
        try {
          const r = fastRecords(encode(doc));
          fastCount += r.fast;
          total += r.total;
        } catch {
          // an unbalanced junk record: the document is unreadable from there on
        }
      }),
      { numRuns: 300 },
    );
    console.log(`generated records on the fast path: ${fastCount} of ${total}`);
    assert.ok(fastCount > total * 0.3, `${fastCount} of ${total} on the fast path`);
    assert.ok(fastCount < total, 'some records must need the general path');
  });
});

// ---- generated records ------------------------------------------------------------------------------

const ws = fc.constantFrom('', '', '', ' ', '\n  ', '\t', '\r\n');

/** A JSON object from [key, json value] pairs, with random whitespace. */
function objectOf(pairs: readonly (readonly [string, string])[], pad: readonly string[]): string {
  const p = (i: number) => pad[i % pad.length] ?? '';
  return `{${p(0)}${pairs.map(([k, v], i) => `${JSON.stringify(k)}${p(i + 1)}:${p(i + 2)}${v}`).join(`,${p(3)}`)}${p(4)}}`;
}

const ip = fc.oneof(
  fc.constantFrom('10.0.0.4', '10.0.0.5', '8.8.8.8', '20.60.128.4', 'fd00::4', '2603:1030:20e:3::23c'),
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.1.${a}.${b}`),
);

/** Tuples in the usual spelling, with a small share of unusual or broken ones. */
function tupleOf(layout: 'nsg-v1' | 'nsg-v2' | 'vnet-v4', clean: boolean) {
  const usual = fc
    .record({
      t: fc.integer({ min: 1764496740, max: 1764496980 }),
      ms: fc.boolean(),
      src: ip,
      dst: ip,
      sport: fc.nat(65535),
      dport: fc.constantFrom(0, 22, 53, 443, 8080, 65535),
      proto: layout === 'vnet-v4' ? fc.constantFrom('6', '17', '1', '0', '47') : fc.constantFrom('T', 'U'),
      dir: fc.constantFrom('I', 'O'),
      dec: fc.constantFrom('A', 'D'),
      state: layout === 'vnet-v4' ? fc.constantFrom('B', 'C', 'E', 'D') : fc.constantFrom('B', 'C', 'E'),
      enc: fc.constantFrom('X', 'NX', 'NX_HW_NOT_SUPPORTED', ''),
      c: fc.array(fc.oneof(fc.nat(1e6), fc.constant(2 ** 53 + 2), fc.nat()), { minLength: 4, maxLength: 4 }),
      empty: fc.boolean(),
    })
    .map((x) => {
      const time = layout === 'vnet-v4' || x.ms ? x.t * 1000 + 123 : x.t;
      const head = `${time},${x.src},${x.dst},${x.sport},${x.dport},${x.proto},${x.dir}`;
      if (layout === 'nsg-v1') return `${head},${x.dec}`;
      const counters = x.empty && x.state === 'B' ? ',,,' : x.c.join(',');
      if (layout === 'nsg-v2') return `${head},${x.dec},${x.state},${counters}`;
      return `${head},${x.state},${x.enc},${counters}`;
    });
  const odd = fc.constantFrom(
    '',
    'not,a,tuple',
    '1764496800,10.0.0.4,8.8.8.8,5000,053,T,O,A,B,,,,',
    '1764496800,10.0.0.4,8.8.8.8,5000,53,6,O,A,B,,,,',
    '1764496800123,10.0.0.4,8.8.8.8,5000,53,T,O,B,NX,1,2,3,4',
    '1764496800123,10.0.0.4,8.8.8.8,5000,53,06,O,B,NX,1,2,3,4',
    '1764496800,10.0.0.4,8.8.8.8,5000,99999,T,O,A,B,,,,',
    '1764496800,,8.8.8.8,5000,53,T,O,A',
    '1764496800,10.0.0.4,8.8.8.8,5000,53,T,O,A,C,1,x,1,1',
    '1764496800,10.0.0.4,8.8.8.8,5000,53,T,O,A,C,1,1,1,1,1',
    '99999999999999999999,10.0.0.4,8.8.8.8,5000,53,T,O,A,C,1,1,1,1',
    '1764496800,10.0.0.é,8.8.8.8,5000,53,T,O,A,C,1,1,1,1',
  );
  if (clean) return usual.map((t) => JSON.stringify(t));
  const raw = fc.oneof({ weight: 30, arbitrary: usual }, { weight: 1, arbitrary: odd });
  // As JSON: a string, or now and then with an escape, or not a string at all.
  return fc.oneof(
    { weight: 40, arbitrary: raw.map((t) => JSON.stringify(t)) },
    { weight: 1, arbitrary: raw.map((t) => JSON.stringify(t).replace(',', '\\u002c')) },
    { weight: 1, arbitrary: fc.constantFrom('42', 'null', '["x"]') },
  );
}

const validExtra = fc.constantFrom(
  '"x"',
  '1',
  '-2.5e3',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '"é\\n\\"q\\u00e9"',
  '[1,{"a":[null]}]',
);
const invalidExtra = fc.constantFrom('01', '"\\x"', 'tru', '1.', '"a\u0001b"', '[1,]', '{"a":1,}');

/** A string value as JSON: usually plain, sometimes escaped, non-ASCII or empty. */
function stringValue(plain: fc.Arbitrary<string>, clean: boolean) {
  if (clean) return plain.map((s) => JSON.stringify(s));
  return fc.oneof(
    { weight: 30, arbitrary: plain.map((s) => JSON.stringify(s)) },
    {
      weight: 1,
      arbitrary: plain.map(
        (s) =>
          `"\\u${(s.charCodeAt(0) || 65).toString(16).padStart(4, '0')}${JSON.stringify(s.slice(1)).slice(1)}`,
      ),
    },
    { weight: 1, arbitrary: plain.map((s) => JSON.stringify(`${s}é`)) },
    { weight: 1, arbitrary: fc.constantFrom('""', '7', 'null') },
  );
}

/** Shuffled pairs, with the occasional extra key, duplicate, case variant or missing key. */
function shaped(pairs: fc.Arbitrary<[string, string][]>, clean: boolean) {
  return fc
    .tuple(
      pairs,
      fc.array(
        fc.tuple(
          fc.constantFrom('extra', 'category', 'x'),
          clean ? validExtra : fc.oneof(validExtra, invalidExtra),
        ),
        {
          maxLength: 2,
        },
      ),
      fc.nat(1000),
      clean ? fc.constant('none') : fc.constantFrom('none', 'none', 'none', 'dup', 'case', 'drop'),
      fc.array(ws, { minLength: 5, maxLength: 5 }),
    )
    .map(([base, extra, seed, mutation, pad]) => {
      let all: (readonly [string, string])[] = [...base, ...extra];
      if (seed % 3 === 0) all = [...all].sort(([a], [b]) => (a < b ? -1 : 1));
      else if (seed % 3 === 1) all = [...all.slice(seed % all.length), ...all.slice(0, seed % all.length)];
      const i = seed % base.length;
      const target = base[i];
      if (target !== undefined) {
        if (mutation === 'dup') all.push(target);
        if (mutation === 'case') all[all.indexOf(target)] = [target[0].toUpperCase(), target[1]];
        if (mutation === 'drop') all = all.filter((x) => x !== target);
      }
      return objectOf(all, pad);
    });
}

function tuplesArray(layout: 'nsg-v1' | 'nsg-v2' | 'vnet-v4', clean: boolean) {
  return fc
    .tuple(fc.array(tupleOf(layout, clean), { maxLength: 25 }), ws)
    .map(([ts, pad]) => `[${pad}${ts.join(`,${pad}`)}${pad}]`);
}

const rule = fc.constantFrom('DefaultRule_AllowInternetOutBound', 'UserRule_Deny', 'r');
const mac = fc.constantFrom('000D3A000001', '00-0d-3a-00-00-01', '000d3a000002');

const nsgRecord = (clean: boolean) =>
  fc.constantFrom(1, 2).chain((version) => {
    const layout = version === 1 ? 'nsg-v1' : 'nsg-v2';
    const macFlow = shaped(
      fc.tuple(stringValue(mac, clean), tuplesArray(layout, clean)).map(([m, t]) => [
        ['mac', m],
        ['flowTuples', t],
      ]),
      clean,
    );
    const ruleFlow = shaped(
      fc.tuple(stringValue(rule, clean), fc.array(macFlow, { maxLength: 3 })).map(([r, flows]) => [
        ['rule', r],
        ['flows', `[${flows.join(',')}]`],
      ]),
      clean,
    );
    const properties = shaped(
      fc
        .tuple(
          clean ? fc.constant(String(version)) : fc.constantFrom(String(version), '3', '2.0', '"2"'),
          fc.array(ruleFlow, { maxLength: 3 }),
        )
        .map(([v, rules]) => [
          ['Version', v],
          ['flows', `[${rules.join(',')}]`],
        ]),
      clean,
    );
    return shaped(
      fc
        .tuple(
          stringValue(fc.constant('2026-11-30T00:01:00.1230000Z'), clean),
          stringValue(fc.constant('/SUBSCRIPTIONS/S/NSG/N'), clean),
          properties,
        )
        .map(([time, rid, props]) => [
          ['time', time],
          ['macAddress', '"000D3A000001"'],
          ['resourceId', rid],
          ['operationName', '"NetworkSecurityGroupFlowEvents"'],
          ['properties', props],
        ]),
      clean,
    );
  });

const vnetGroup = (clean: boolean) =>
  shaped(
    fc.tuple(stringValue(rule, clean), tuplesArray('vnet-v4', clean)).map(([r, t]) => [
      ['rule', r],
      ['flowTuples', t],
    ]),
    clean,
  );
const acl = (clean: boolean) =>
  shaped(
    fc
      .tuple(
        stringValue(fc.constantFrom('00000000-0000-0000-0000-000000000000', '/subscriptions/s/nsg/a'), clean),
        fc.array(vnetGroup(clean), { maxLength: 3 }),
      )
      .map(([a, groups]) => [
        ['aclID', a],
        ['flowGroups', `[${groups.join(',')}]`],
      ]),
    clean,
  );
const vnetRecord = (clean: boolean) =>
  shaped(
    fc
      .tuple(
        stringValue(fc.constant('2026-11-30T00:01:00.1230000Z'), clean),
        clean ? fc.constant('4') : fc.constantFrom('4', '5'),
        stringValue(mac, clean),
        stringValue(fc.constant('/subscriptions/s/vnet/v'), clean),
        fc.array(acl(clean), { maxLength: 3 }),
      )
      .map(([time, version, m, target, acls]) => [
        ['time', time],
        ['flowLogVersion', version],
        ['macAddress', m],
        ['targetResourceID', target],
        ['flowLogResourceID', '"/SUBSCRIPTIONS/S/FLOWLOGS/F"'],
        ['flowRecords', objectOf([['flows', `[${acls.join(',')}]`]], [''])],
      ]),
    clean,
  );

const recordDocument = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: nsgRecord(true) },
      { weight: 4, arbitrary: vnetRecord(true) },
      nsgRecord(false),
      vnetRecord(false),
      fc.constantFrom(
        '{"time":"t","records":[]}',
        '{"a":1}',
        '{"time":"t","properties":{"Version":2,"flows":[}}',
      ),
    ),
    {
      minLength: 1,
      maxLength: 4,
    },
  )
  .map((records) => `{"records":[${records.join(',')}]}`);
