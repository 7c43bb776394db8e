import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { FlowLogError } from '../../domain/errors';
import { addStats, BlobSummarizer, emptyStats, type SummarizeStats } from '../../domain/summarize';
import { NdjsonEncoder, type SummaryEnricherLike } from '../../domain/summary/serialize';
import { parseCommandArgs, positiveInt, UsageError } from '../args';
import { collectInputs, type InputFile } from '../files';
import { ProgressBar } from '../progress';
import { type ByteSink, fileSink, streamSink } from '../sinks';

export type { SummaryEnricherLike };

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

export interface ProcessOptions {
  readonly inputs: readonly string[];
  readonly out: Writable | ByteSink;
  readonly windowSeconds: number;
  readonly enricher?: SummaryEnricherLike | null;
  readonly onProblem: (problem: Error) => void;
  readonly progress?: ProgressBar;
  /** Bytes per read (default 2 MiB). */
  readonly readBytes?: number;
}

export interface ProcessResult {
  readonly files: number;
  readonly stats: SummarizeStats;
  readonly problems: number;
  readonly seconds: number;
}

const READ_BYTES = 2 << 20;

/** Writing the output failed: that stops the command (unlike an unreadable input file). */
export class OutputError extends Error {
  override readonly name = 'OutputError';
}

function isSink(out: Writable | ByteSink): out is ByteSink {
  return typeof (out as ByteSink).writeBytes === 'function';
}

/**
 * Streams files through the summarizer into `out`: each file is read in large chunks (the next read is
 * in flight while this one is summarized), summaries are encoded straight to NDJSON bytes, and one write
 * is in flight while the next batch is built (backpressure: at most one batch waits).
 */
export async function processFiles(
  files: readonly InputFile[],
  options: ProcessOptions,
): Promise<ProcessResult> {
  const started = process.hrtime.bigint();
  const total = emptyStats();
  const sink = isSink(options.out) ? options.out : streamSink(options.out);
  const readBytes = options.readBytes ?? READ_BYTES;
  const enricher = options.enricher ?? null;
  let problemCount = 0;
  let doneBytes = 0;
  const problems: FlowLogError[] = [];
  const encoder = new NdjsonEncoder(4 * readBytes);
  let writing: Promise<void> = Promise.resolve();

  const report = () => {
    for (const p of problems) options.onProblem(p);
    problemCount += problems.length;
    problems.length = 0;
  };
  /** Hands the encoded batch to the sink once the previous write has finished. */
  const flush = async () => {
    report();
    await writing;
    if (encoder.byteLength === 0) return;
    const batch = encoder.take();
    writing = sink.writeBytes(batch).then(
      () => encoder.recycle(batch),
      (cause: unknown) => {
        throw new OutputError(`cannot write the output (${(cause as Error).message})`, { cause });
      },
    );
  };

  // Two read buffers: one being summarized, the next being filled. The scanner copies an unfinished
  // record's bytes, so a buffer can be refilled as soon as it has been pushed.
  const buffers = [new Uint8Array(readBytes), new Uint8Array(readBytes)];
  for (const file of files) {
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
      if (cause instanceof OutputError) throw cause;
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
  await writing;
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
  const sink = toStdout ? streamSink(process.stdout) : await fileSink(values.out as string);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  let result: ProcessResult;
  try {
    result = await processFiles(files, {
      inputs: positionals,
      out: sink,
      windowSeconds,
      onProblem: (p) => process.stderr.write(`flowlog: ${p.message}\n`),
      ...(values.quiet ? {} : { progress: new ProgressBar(totalBytes) }),
    });
  } finally {
    await sink.close();
  }
  const s = result.stats;
  process.stderr.write(
    `flowlog: ${result.files} files, ${s.records} records, ${s.tuples} tuples → ${s.summaries} summaries in ${result.seconds.toFixed(2)} s` +
      `${result.problems > 0 ? `; ${result.problems} problems (${s.recordsFailed} records, ${s.tuplesFailed} tuples skipped)` : ''}\n`,
  );
  return result.problems > 0 ? 1 : 0;
}
