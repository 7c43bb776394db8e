import { open, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import type { LoadedEnricher } from '../../adapters/enrichment';
import { EnrichmentDataError } from '../../domain/enrich/errors';
import type { FlowLogError } from '../../domain/errors';
import {
  addStats,
  BlobSummarizer,
  emptyStats,
  type SummarizeStats,
  warmUpFastPath,
} from '../../domain/summarize';
import { NdjsonEncoder, type SummaryEnricherLike } from '../../domain/summary/serialize';
import { parseCommandArgs, positiveInt, UsageError } from '../args';
import { ENRICHMENT_FLAGS, enrichmentOptions, loadEnrichment } from '../enrichment';
import { collectInputs, type InputFile } from '../files';
import type { ParallelProcessResult } from '../parallel-process';
import { ProgressBar } from '../progress';
import { type ByteSink, fileSink, streamSink } from '../sinks';

export type { SummaryEnricherLike };

export const PROCESS_USAGE = `Usage: flowlog process <files or folders...> --out FILE|- [--window SECONDS]
                       [--geoip PATH] [--asn PATH] [--service-tags PATH] [--labels PATH] [--no-enrich]
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

export interface ProcessOptions {
  readonly inputs: readonly string[];
  /** A stream, a sink, or a function opening one (called at the first write). */
  readonly out: Writable | ByteSink | (() => Promise<ByteSink>);
  readonly windowSeconds: number;
  /** Fills the enrichment fields of each summary (the loaded enricher), or null. */
  readonly enricher?: SummaryEnricherLike | null;
  readonly onProblem: (problem: Error) => void;
  readonly progress?: ProgressSink;
  /** Bytes per read (default 2 MiB). */
  readonly readBytes?: number;
}

/** Where processFiles reports progress: the terminal's ProgressBar, or a worker's messages to it. */
export interface ProgressSink {
  update(doneBytes: number, tuples: number, label: string, force?: boolean): void;
  done(): void;
}

export interface ProcessResult {
  readonly files: number;
  readonly stats: SummarizeStats;
  readonly problems: number;
  readonly seconds: number;
}

const READ_BYTES = 2 << 20;

/** Something that stops the whole command (unlike an unreadable input file): output or enrichment data. */
export class StopError extends Error {
  override readonly name = 'StopError';
}

/** Output batches that may wait to be written before reading pauses. */
const WRITES_AHEAD = 2;

function isSink(out: Writable | ByteSink): out is ByteSink {
  return typeof (out as ByteSink).writeBytes === 'function';
}

function openSink(out: ProcessOptions['out']): () => Promise<ByteSink> {
  if (typeof out === 'function') return out;
  const sink = isSink(out) ? out : streamSink(out);
  return async () => sink;
}

/**
 * Streams files through the summarizer into `out`: each file is read in large chunks (the next read is
 * in flight while this one is summarized), summaries are encoded straight to NDJSON bytes, and one write
 * is in flight while the next batch is built (backpressure: at most one batch waits).
 */
export async function processFiles(
  files: readonly InputFile[] | AsyncIterable<InputFile>,
  options: ProcessOptions,
): Promise<ProcessResult> {
  const started = process.hrtime.bigint();
  const total = emptyStats();
  const openOut = openSink(options.out);
  let sink: ByteSink | undefined;
  const readBytes = options.readBytes ?? READ_BYTES;
  let problemCount = 0;
  let doneBytes = 0;
  const problems: FlowLogError[] = [];
  // Room for a read's rows (about 4 bytes out per byte in) without growing.
  const encoder = new NdjsonEncoder(6 * readBytes);
  warmUpFastPath(encoder);
  let writing: Promise<void> = Promise.resolve();

  const report = () => {
    for (const p of problems) options.onProblem(p);
    problemCount += problems.length;
    problems.length = 0;
  };
  /**
   * Queues the encoded batch for writing after the ones before it. Up to WRITES_AHEAD batches may wait,
   * so a slow write (the disk, a busy machine) does not stall reading and summing at once.
   */
  const queued: Promise<void>[] = [];
  let writeError: StopError | undefined;
  const flush = async () => {
    report();
    if (writeError) throw writeError;
    if (encoder.byteLength === 0) return;
    const batch = encoder.take();
    sink ??= await openOut();
    const out = sink;
    writing = writing.then(async () => {
      try {
        if (writeError === undefined) encoder.recycle((await out.writeBytes(batch)) ?? batch);
      } catch (cause) {
        writeError ??= new StopError(`cannot write the output (${(cause as Error).message})`, { cause });
      }
    });
    queued.push(writing);
    while (queued.length > WRITES_AHEAD) await queued.shift();
    if (writeError) throw writeError;
  };

  const enricher = options.enricher ?? null;
  // Two read buffers: one being summarized, the next being filled. The scanner copies an unfinished
  // record's bytes, so a buffer can be refilled as soon as it has been pushed.
  const buffers = [new Uint8Array(readBytes), new Uint8Array(readBytes)];
  let fileCount = 0;
  for await (const file of files) {
    fileCount++;
    const summarizer = new BlobSummarizer({ blob: file.identity, windowSeconds: options.windowSeconds });
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(file.path, 'r');
      const h = handle;
      let which = 0;
      let next = h.read(buffers[which]!, 0, readBytes, null);
      for (;;) {
        const { bytesRead, buffer } = await next;
        if (bytesRead === 0) break;
        which ^= 1;
        next = h.read(buffers[which]!, 0, readBytes, null);
        summarizer.pushNdjson(buffer.subarray(0, bytesRead), encoder, problems, enricher);
        doneBytes += bytesRead;
        await flush();
        options.progress?.update(doneBytes, total.tuples + summarizer.stats.tuples, file.identity);
      }
      summarizer.end(true, problems);
    } catch (cause) {
      if (cause instanceof StopError) throw cause;
      problemCount++;
      options.onProblem(
        new Error(`${file.path}: cannot read the file (${(cause as Error).message})`, { cause }),
      );
    } finally {
      await handle?.close();
    }
    await flush();
    addStats(total, summarizer.stats);
  }
  await flush();
  await writing;
  if (writeError) throw writeError;
  options.progress?.update(doneBytes, total.tuples, 'done', true);
  options.progress?.done();
  return {
    files: fileCount,
    stats: total,
    problems: problemCount,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

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
