import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadEnricher } from '../../adapters/enrichment';
import { WorkerEnricher } from '../../cli/worker-enricher';
import { ENRICHMENT_FIELD_NAMES, emptyEnrichment, type FlowSummary } from '../../domain/summary/schema';

const FIXTURES = join(__dirname, '..', 'fixtures', 'enrichment');
const options = {
  enabled: true,
  serviceTagsPath: join(FIXTURES, 'ServiceTags_Public_20261123.json'),
  labelsPath: join(FIXTURES, 'labels.csv'),
} as const;

/** Addresses of every kind: public v4/v6, Azure (tag and Microsoft ASN), labelled, special, odd text. */
const ADDRESSES = [
  '8.8.8.8',
  '1.1.1.1',
  '20.38.98.10',
  '20.38.1.1',
  '13.107.42.14',
  '185.220.101.4',
  '10.1.0.4',
  '10.1.66.6',
  '10.2.0.9',
  '10.9.9.9',
  '192.168.10.5',
  '172.16.200.7',
  '100.64.1.1',
  '168.63.129.16',
  '169.254.169.254',
  '127.0.0.1',
  '224.0.0.5',
  '2001:4860:4860::8888',
  '2603:1030:20e:3::23c',
  'fd00:1::5',
  'fe80::1',
  '::ffff:8.8.8.8',
  '::FFFF:10.1.0.4',
  '2001:DB8::1',
  ' 8.8.8.8',
  '8.8.8.8 ',
  'not-an-ip',
  '',
  '999.1.1.1',
];

function summary(srcIp: string, dstIp: string, dstPort: number, protocol: string): FlowSummary {
  return {
    id: 'x',
    schemaVersion: 1,
    blob: 'b',
    recordOrdinal: 0,
    recordTime: 't',
    windowStart: 'w',
    windowSeconds: 60,
    logType: 'nsg',
    resourceId: 'r',
    aclId: null,
    macAddress: 'm',
    rule: 'r',
    direction: 'Outbound',
    decision: 'Allow',
    protocol,
    srcIp,
    dstIp,
    dstPort,
    tuples: 1,
    flowsStarted: 0,
    flowsEnded: 0,
    flowsDenied: 0,
    packetsSrcToDst: 0,
    bytesSrcToDst: 0,
    packetsDstToSrc: 0,
    bytesDstToSrc: 0,
    ...emptyEnrichment(),
  };
}

describe('WorkerEnricher (enrichment data on a worker thread)', () => {
  test('fills exactly what the in-process enricher fills, for every pair of addresses', async () => {
    const local = await loadEnricher(options);
    const remote = new WorkerEnricher(options);
    try {
      await remote.ready;
      const pairs = ADDRESSES.flatMap((src) => ADDRESSES.flatMap((dst) => [src, dst]));
      await remote.prepare(pairs.slice(0, 100));
      await remote.prepare(pairs);
      assert.ok(ADDRESSES.every((a) => remote.known(a, '8.8.8.8') && remote.known('8.8.8.8', a)));
      const ports: [number, string][] = [
        [53, 'UDP'],
        [443, 'TCP'],
        [3389, '6'],
        [0, '1'],
      ];
      let n = 0;
      for (const src of ADDRESSES)
        for (const dst of ADDRESSES) {
          const [port, proto] = ports[n++ % ports.length]!;
          const a = summary(src, dst, port, proto);
          const b = summary(src, dst, port, proto);
          local.enricher.enrich(a);
          remote.enrich(b);
          for (const f of ENRICHMENT_FIELD_NAMES) assert.equal(b[f], a[f], `${src} → ${dst}: ${f}`);
        }
      const s = remote.stats();
      assert.equal(s.summaries, ADDRESSES.length ** 2);
      assert.equal(s.misses, ADDRESSES.length);
      assert.equal(s.lookups, 2 * s.summaries);
      assert.deepEqual(
        remote.sources.map((x) => x.dataset),
        ['GeoIP City', 'ASN', 'service tags', 'labels'],
      );
      assert.throws(() => remote.enrich(summary('9.9.9.9', '8.8.8.8', 1, 'TCP')), /not prepared/);
    } finally {
      await remote.close();
    }
  });

  test('a load failure rejects `ready` with the loader message', async () => {
    const remote = new WorkerEnricher({ enabled: true, labelsPath: join(FIXTURES, 'missing.csv') });
    try {
      await assert.rejects(remote.ready, /labels data .*missing\.csv/);
    } finally {
      await remote.close();
    }
  });
});
