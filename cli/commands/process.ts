import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { LoadedEnricher } from '../../adapters/enrichment';
import { EnrichmentDataError } from '../../domain/enrich/errors';
import { parseCommandArgs, positiveInt, UsageError } from '../args';
import { ENRICHMENT_FLAGS, enrichmentOptions, loadEnrichment } from '../enrichment';
import { collectInputs } from '../files';
import type { ParallelProcessResult } from '../parallel-process';
import { type ProcessResult, processFiles, StopError, type SummaryEnricherLike } from '../process-files';
import { ProgressBar } from '../progress';
import { type ByteSink, fileSink, streamSink } from '../sinks';

export type { SummaryEnricherLike };

export const PROCESS_USAGE = `Usage: flowlog process <files or folders...> --out FILE|- [--window SECONDS]
                       [--geoip PATH] [--asn PATH] [--service-tags PATH] [--labels PATH] [--threat-feed LIST] [--no-enrich]
                       [--workers N|auto] [--stats FILE] [--quiet]

Reads NSG (v1, v2) and VNet (v4) flow-log PT1H.json files (folders recursively, *.json) and writes one
summary per (record, window, key) as NDJSON (docs/summary-schema.md), enriched (docs/enrichment.md): per
side country, city, coordinates, AS number and organisation, Azure service tag and region, your label;
the flow type and the IANA service name. Each file is streamed: memory is bounded by the largest record,
not the file.

Options:
  --out FILE|-          where to write the NDJSON (- for stdout)                        (required)
  --window SECONDS      window length                                                    (default 60)
  --geoip PATH          GeoIP City MMDB file(s), comma-separated      (default: DB-IP City Lite, installed)
  --asn PATH            ASN MMDB or CSV file(s), comma-separated      (default: ip-location-db ASN, installed)
  --service-tags PATH   Azure ServiceTags_Public_*.json, a path or blob URL              (default: none)
  --labels PATH         topology and threat labels CSV (cidr,label,kind)                  (default: none)
  --threat-feed LIST    blocklists as threat labels: [name=]file or https URL, comma-separated
                        (one address or CIDR block per line, # and ; comments)         (default: none)
  --no-enrich           no enrichment: every enrichment field is null
  --workers N|auto      summarize files on N threads (auto: one per CPU); rows as with 1, but the
                        batches of files summarized at once interleave in the output        (default 1)
  --stats FILE          write counts, timings and enrichment statistics (cache hit rate) as JSON
  --quiet               no progress bar
  -h, --help            this text

Bad input is reported on stderr, one line per problem with file, byte offset and record ordinal;
everything else is still processed. A missing or corrupt enrichment data file stops the command before
anything is written, with a message naming the file.

Exit codes: 0 all input processed; 1 some input could not be read (see stderr); 2 usage error, or
enrichment data missing or unreadable; 3 internal error.`;

export async function runProcess(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    out: { type: 'string', short: 'o' },
    window: { type: 'string', short: 'w' },
    quiet: { type: 'boolean', short: 'q' },
    stats: { type: 'string' },
    workers: { type: 'string' },
    ...ENRICHMENT_FLAGS,
  });
  if (values.help) {
    process.stdout.write(`${PROCESS_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder to process');
  if (values.out === undefined) throw new UsageError('--out FILE (or - for stdout) is required');
  const windowSeconds = positiveInt(values.window as string | undefined, 'window', 60);
  const enrichment = enrichmentOptions(values);
  const workersFlag = values.workers as string | undefined;
  const workers =
    workersFlag === 'auto'
      ? availableParallelism()
      : positiveInt(workersFlag, 'workers (a number or auto)', 1);
  const statsPath = values.stats as string | undefined;
  if (statsPath === '') throw new UsageError('--stats needs a file name');

  // The enrichment data is loaded before anything is read: a bad data file stops the command with its
  // name and no output. From the cache (adapters/enrichment/cache.ts) this takes ~0.1 s; the first run
  // after new data builds the ASN table and the service-tags index (~1 s) and caches them.
  let loaded: LoadedEnricher | null = null;
  let loadMs = 0;
  if (enrichment.enabled) {
    const started = performance.now();
    try {
      loaded = await loadEnrichment(enrichment);
    } catch (error) {
      if (!(error instanceof EnrichmentDataError)) throw error;
      process.stderr.write(`flowlog process: ${error.message}\n`);
      return 2;
    }
    loadMs = performance.now() - started;
  }
  const files = await collectInputs(positionals);
  const toStdout = values.out === '-';
  let sink: ByteSink | undefined;
  const open = async () => {
    sink = toStdout ? streamSink(process.stdout) : await fileSink(values.out as string);
    return sink;
  };
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const onProblem = (p: Error) => process.stderr.write(`flowlog: ${p.message}\n`);
  const progress = values.quiet ? {} : { progress: new ProgressBar(totalBytes) };
  let result: ProcessResult;
  let parallel: ParallelProcessResult | null = null;
  try {
    if (workers > 1 && files.length > 1) {
      const { processFilesParallel } = require('../parallel-process') as typeof import('../parallel-process');
      parallel = await processFilesParallel(files, {
        workers,
        windowSeconds,
        out: open,
        // Each worker loads its own copy, from the cache the load above has filled.
        enrichment: loaded === null ? null : enrichment,
        onProblem,
        ...progress,
      });
      result = parallel;
    } else {
      result = await processFiles(files, {
        inputs: positionals,
        out: open,
        windowSeconds,
        enricher: loaded?.enricher ?? null,
        onProblem,
        ...progress,
      });
    }
    if (sink === undefined) await open();
  } catch (error) {
    if (error instanceof StopError) {
      process.stderr.write(`flowlog process: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    await (sink as ByteSink | undefined)?.close();
  }
  const s = result.stats;
  const e = parallel === null ? (loaded?.stats() ?? null) : parallel.enrichment;
  const threads = parallel === null ? 1 : parallel.workers;
  process.stderr.write(
    `flowlog: ${result.files} files, ${s.records} records, ${s.tuples} tuples → ${s.summaries} summaries in ${result.seconds.toFixed(2)} s${threads > 1 ? ` on ${threads} workers` : ''}` +
      `${result.problems > 0 ? `; ${result.problems} problems (${s.recordsFailed} records, ${s.tuplesFailed} tuples skipped)` : ''}` +
      `${e === null || loaded === null ? '; not enriched' : `; enriched: ${e.misses} distinct addresses looked up, cache hit rate ${(100 * e.hitRate).toFixed(2)} % of ${e.lookups} address lookups, data loaded in ${Math.round(loadMs)} ms`}\n`,
  );
  if (statsPath !== undefined) {
    const report = {
      files: result.files,
      workers: threads,
      ...s,
      problems: result.problems,
      seconds: result.seconds,
      enrichment:
        loaded === null || e === null
          ? { enabled: false }
          : {
              enabled: true,
              loadMs: Math.round(loadMs),
              ...e,
              sources: loaded.sources.map((x) => ({
                dataset: x.dataset,
                name: x.name,
                version: x.version,
                loadMs: x.loadMs,
                details: x.details,
              })),
            },
    };
    await writeFile(statsPath, `${JSON.stringify(report, null, 2)}\n`);
  }
  return result.problems > 0 ? 1 : 0;
}
