import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { FlowLogError } from '../domain/errors';
import {
  addStats,
  BlobSummarizer,
  emptyStats,
  type SummarizeStats,
  warmUpFastPath,
} from '../domain/summarize';
import { NdjsonEncoder, type SummaryEnricherLike } from '../domain/summary/serialize';
import type { InputFile } from './files';
import { type ByteSink, streamSink } from './sinks';

/**
 * The batch core of `flowlog process`: files → rows, on this thread. The command (commands/process.ts)
 * and the worker threads of --workers (process-worker.ts, driven by parallel-process.ts) both call it,
 * so none of them imports another.
 */

export type { SummaryEnricherLike };

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

export const READ_BYTES = 2 << 20;

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
