import { createReadStream, createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { FlowLogError } from '../../domain/errors';
import { addStats, BlobSummarizer, emptyStats, type SummarizeStats } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { serializeSummary } from '../../domain/summary/serialize';
import { parseCommandArgs, positiveInt, UsageError } from '../args';
import { collectInputs, type InputFile } from '../files';
import { ProgressBar } from '../progress';

export const PROCESS_USAGE = `Usage: flowlog process <files or folders...> --out FILE|- [--window SECONDS]

Reads NSG (v1, v2) and VNet (v4) flow-log PT1H.json files (folders recursively, *.json) and writes one
summary per (record, window, key) as NDJSON (docs/summary-schema.md). Each file is streamed: memory is
bounded by the largest record, not the file.

Options:
  --out FILE|-        where to write the NDJSON (- for stdout)           (required)
  --window SECONDS    window length                                       (default 60)
  --quiet             no progress bar
  -h, --help          this text

Bad input is reported on stderr, one line per problem with file, byte offset and record ordinal;
everything else is still processed.

Exit codes: 0 all input processed; 1 some input could not be read (see stderr); 2 usage error.`;

/** Something that fills a summary's enrichment fields in place. */
export interface SummaryEnricherLike {
  enrich(summary: FlowSummary): void;
}

export interface ProcessOptions {
  readonly inputs: readonly string[];
  readonly out: Writable;
  readonly windowSeconds: number;
  readonly enricher?: SummaryEnricherLike;
  readonly onProblem: (problem: Error) => void;
  readonly progress?: ProgressBar;
}

export interface ProcessResult {
  readonly files: number;
  readonly stats: SummarizeStats;
  readonly problems: number;
  readonly seconds: number;
}

/** Streams files through the summarizer into `out`, honouring backpressure. */
export async function processFiles(
  files: readonly InputFile[],
  options: ProcessOptions,
): Promise<ProcessResult> {
  const started = process.hrtime.bigint();
  const total = emptyStats();
  let problemCount = 0;
  let doneBytes = 0;
  const summaries: FlowSummary[] = [];
  const problems: FlowLogError[] = [];

  const flush = async () => {
    for (const p of problems) options.onProblem(p);
    problemCount += problems.length;
    problems.length = 0;
    if (summaries.length === 0) return;
    let text = '';
    for (const s of summaries) {
      options.enricher?.enrich(s);
      text += `${serializeSummary(s)}\n`;
    }
    summaries.length = 0;
    if (!options.out.write(text)) await new Promise<void>((resolve) => options.out.once('drain', resolve));
  };

  for (const file of files) {
    const summarizer = new BlobSummarizer({ blob: file.identity, windowSeconds: options.windowSeconds });
    const stream = createReadStream(file.path, { highWaterMark: 1 << 20 });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        summarizer.push(chunk, summaries, problems);
        doneBytes += chunk.length;
        await flush();
        options.progress?.update(doneBytes, total.tuples + summarizer.stats.tuples, file.identity);
      }
      summarizer.end(true, problems);
    } catch (cause) {
      problemCount++;
      options.onProblem(
        new Error(`${file.path}: cannot read the file (${(cause as Error).message})`, { cause }),
      );
    }
    await flush();
    addStats(total, summarizer.stats);
  }
  options.progress?.update(doneBytes, total.tuples, 'done', true);
  options.progress?.done();
  return {
    files: files.length,
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
  });
  if (values.help) {
    process.stdout.write(`${PROCESS_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder to process');
  if (values.out === undefined) throw new UsageError('--out FILE (or - for stdout) is required');
  const windowSeconds = positiveInt(values.window as string | undefined, 'window', 60);
  const files = await collectInputs(positionals);
  const toStdout = values.out === '-';
  const out: Writable = toStdout ? process.stdout : createWriteStream(values.out as string);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const result = await processFiles(files, {
    inputs: positionals,
    out,
    windowSeconds,
    onProblem: (p) => process.stderr.write(`flowlog: ${p.message}\n`),
    ...(values.quiet ? {} : { progress: new ProgressBar(totalBytes) }),
  });
  if (!toStdout)
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  const s = result.stats;
  process.stderr.write(
    `flowlog: ${result.files} files, ${s.records} records, ${s.tuples} tuples → ${s.summaries} summaries in ${result.seconds.toFixed(2)} s` +
      `${result.problems > 0 ? `; ${result.problems} problems (${s.recordsFailed} records, ${s.tuplesFailed} tuples skipped)` : ''}\n`,
  );
  return result.problems > 0 ? 1 : 0;
}
