/**
 * Micro-measure of enrichment: start-up time of each data source, the uncached (miss) path per distinct
 * address, and `enrich()` per summary over a skewed address mix (the hit path).
 *
 *   npx tsx adapters/enrichment/tools/measure-enrich.ts [summaries=2000000] [distinct=20000]
 *     [--service-tags PATH] [--labels PATH]
 *
 * Not a test: numbers depend on the machine. `npm run bench` measures the whole pipeline.
 */

import { seededRandom } from '../../../domain/simulate/simulate';
import { blankSummary, type FlowSummary } from '../../../domain/summary/schema';
import { loadEnricher } from '../load';
import { formatSourcesText } from '../lookup-format';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

function summary(srcIp: string, dstIp: string, dstPort: number, protocol: string): FlowSummary {
  return blankSummary({
    logType: 'vnet',
    direction: 'Outbound',
    decision: 'Allow',
    protocol,
    srcIp,
    dstIp,
    dstPort,
    tuples: 1,
  });
}

async function main(): Promise<void> {
  const positional = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const count = Number(positional[0] ?? 2_000_000);
  const distinct = Number(positional[1] ?? 20_000);
  const serviceTagsPath = arg('--service-tags');
  const labelsPath = arg('--labels');

  const t0 = performance.now();
  const loaded = await loadEnricher({
    enabled: true,
    ...(serviceTagsPath === undefined ? {} : { serviceTagsPath }),
    ...(labelsPath === undefined ? {} : { labelsPath }),
  });
  console.log(`start-up: ${(performance.now() - t0).toFixed(0)} ms`);
  for (const line of formatSourcesText(loaded.sources)) console.log(line);

  // Address mix: a tenth private (VNet side), the rest public; Zipf-like skew on both.
  const random = seededRandom(42);
  const privates: string[] = [];
  const publics: string[] = [];
  for (let i = 0; i < distinct / 10; i++) privates.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  while (publics.length < distinct) {
    const a = Math.floor(random() * 223) + 1;
    if (a === 10 || a === 127 || a === 100 || a === 169 || a === 172 || a === 192) continue;
    publics.push(
      `${a}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`,
    );
  }
  const pick = (list: readonly string[]) => list[Math.floor(list.length * random() ** 3)] as string;
  const ports = [443, 443, 443, 80, 53, 22, 3389, 1433, 5671, 8080, 50123];
  const summaries: FlowSummary[] = [];
  for (let i = 0; i < count; i++) {
    const outbound = random() < 0.7;
    const inside = pick(privates);
    const outside = random() < 0.2 ? pick(privates) : pick(publics);
    summaries.push(
      summary(
        outbound ? inside : outside,
        outbound ? outside : inside,
        ports[Math.floor(random() * ports.length)] as number,
        random() < 0.9 ? 'TCP' : 'UDP',
      ),
    );
  }

  const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
  const pass = () => {
    const before = loaded.stats();
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for (const s of summaries) loaded.enricher.enrich(s);
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const after = loaded.stats();
    return {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      misses: after.misses - before.misses,
      hits: after.hits - before.hits,
    };
  };
  // First pass: every distinct address misses once (GeoIP + ASN + tags + labels), the rest hit.
  const cold = pass();
  const warm = [pass(), pass(), pass()].sort((x, y) => x.cpuMs - y.cpuMs)[1] as ReturnType<typeof pass>;
  const missNs = ((cold.ms - warm.ms) * 1e6) / Math.max(1, cold.misses);
  console.log(
    `first pass: ${count.toLocaleString('en-US')} summaries in ${cold.ms.toFixed(0)} ms = ${rate(count, cold.ms)}/s, ` +
      `${cold.misses} misses (~${(missNs / 1000).toFixed(1)} µs each), hit rate ${((100 * cold.hits) / (cold.hits + cold.misses)).toFixed(2)} %`,
  );
  console.log(
    `warm pass (median of 3): ${warm.ms.toFixed(0)} ms = ${rate(count, warm.ms)} summaries/s, ` +
      `${((warm.ms * 1e6) / count).toFixed(0)} ns per summary (${((warm.cpuMs * 1e6) / count).toFixed(0)} ns CPU), hit rate ${((100 * warm.hits) / (warm.hits + warm.misses)).toFixed(2)} %`,
  );
  // The same work on 10,000 summaries at a time (cache-resident, as in the pipeline, which enriches a
  // summary right after building it and before serializing it), repeated to 1 M.
  const batch = summaries.slice(0, 10_000);
  const rounds = Math.max(1, Math.floor(count / batch.length));
  const hot = [0, 1, 2]
    .map(() => {
      const cpu0 = process.cpuUsage();
      for (let r = 0; r < rounds; r++) for (const s of batch) loaded.enricher.enrich(s);
      const cpu = process.cpuUsage(cpu0);
      return (cpu.user + cpu.system) / 1000;
    })
    .sort((x, y) => x - y)[1] as number;
  const n = rounds * batch.length;
  console.log(
    `cache-resident batches (median of 3): ${((hot * 1e6) / n).toFixed(0)} ns CPU per summary = ${rate(n, hot)} summaries/s`,
  );
  const st = loaded.stats();
  console.log(
    `cache: ${st.cachedAddresses.toLocaleString('en-US')} distinct addresses, overall hit rate ${(100 * st.hitRate).toFixed(3)} %`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
