/**
 * `flowlog process --workers N`: files are summarized on N worker threads (process-worker.ts), each
 * running the one-thread path over a file at a time, taken from a shared queue in input order; the main
 * thread writes every batch to the output, reports problems and draws the progress bar. With enrichment,
 * each worker loads its own copy of the data, from the on-disk cache the main thread's load filled.
 *
 * The rows are those of `--workers 1`; the order differs: each file's rows keep their order, but batches
 * of files summarized at the same time interleave. Memory: each worker's own (~90 MiB) plus at most
 * three queued batches per worker (each about 4 × the read size).
 */
import type { Worker } from 'node:worker_threads';
import type { EnrichmentOptions } from '../adapters/enrichment';
import type { EnrichmentStats } from '../domain/enrich/enricher';
import { addStats, emptyStats, type SummarizeStats } from '../domain/summarize';
import type { InputFile } from './files';
import { type ProcessResult, type ProgressSink, StopError } from './process-files';
import type { FromProcessWorker, ProcessWorkerData, ToProcessWorker } from './process-worker';
import type { ByteSink } from './sinks';
import { startWorker } from './threads';

export interface ParallelProcessOptions {
  readonly workers: number;
  readonly windowSeconds: number;
  /** Opens the output at the first batch. */
  readonly out: () => Promise<ByteSink>;
  /** Each worker loads the enrichment data itself (from the cache: ~0.1 s), or none. */
  readonly enrichment: EnrichmentOptions | null;
  readonly onProblem: (problem: Error) => void;
  readonly progress?: ProgressSink;
  readonly readBytes?: number;
}

export interface ParallelProcessResult extends ProcessResult {
  readonly workers: number;
  /** Every worker's enrichment counts added up (each worker has its own address cache). */
  readonly enrichment: EnrichmentStats | null;
}

function addEnrichment(a: EnrichmentStats | null, b: EnrichmentStats | null): EnrichmentStats | null {
  if (a === null || b === null) return a ?? b;
  const lookups = a.lookups + b.lookups;
  const hits = a.hits + b.hits;
  return {
    summaries: a.summaries + b.summaries,
    lookups,
    hits,
    misses: a.misses + b.misses,
    hitRate: lookups === 0 ? 0 : hits / lookups,
    cachedAddresses: a.cachedAddresses + b.cachedAddresses,
    cacheResets: a.cacheResets + b.cacheResets,
  };
}

export async function processFilesParallel(
  files: readonly InputFile[],
  options: ParallelProcessOptions,
): Promise<ParallelProcessResult> {
  const started = process.hrtime.bigint();
  const count = Math.max(1, Math.min(options.workers, files.length));
  const stats: SummarizeStats = emptyStats();
  let enrichment: EnrichmentStats | null = null;
  let fileCount = 0;
  let problems = 0;
  let doneBytes = 0;
  let doneTuples = 0;
  let nextFile = 0;
  let sink: Promise<ByteSink> | undefined;
  let writing: Promise<void> = Promise.resolve();
  let stopped: Error | undefined;
  const workers: Worker[] = [];

  const finished = await new Promise<PromiseSettledResult<void>[]>((resolveAll) => {
    const each: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const data: ProcessWorkerData = {
        windowSeconds: options.windowSeconds,
        ...(options.readBytes === undefined ? {} : { readBytes: options.readBytes }),
        enrichment: options.enrichment,
      };
      const worker = startWorker('process-worker', data);
      workers.push(worker);
      const tell = (m: ToProcessWorker) => worker.postMessage(m);
      each.push(
        new Promise<void>((resolve, reject) => {
          let done = false;
          const stop = (error: Error) => {
            stopped ??= error;
            reject(error);
            // The other workers have nothing left to do once the command stops.
            for (const w of workers) void w.terminate();
          };
          worker.on('message', (m: FromProcessWorker) => {
            switch (m.type) {
              case 'next': {
                const file = stopped === undefined ? files[nextFile++] : undefined;
                tell(file === undefined ? { type: 'end' } : { type: 'file', file });
                break;
              }
              case 'out': {
                sink ??= options.out();
                const out = sink;
                writing = writing.then(async () => {
                  if (stopped !== undefined) return;
                  try {
                    await (await out).writeBytes(m.bytes);
                    worker.postMessage(
                      { type: 'written', id: m.id, bytes: m.bytes } satisfies ToProcessWorker,
                      [m.bytes.buffer as ArrayBuffer],
                    );
                  } catch (cause) {
                    stop(
                      new StopError(`cannot write the output (${(cause as Error).message})`, {
                        cause,
                      }),
                    );
                  }
                });
                break;
              }
              case 'problem':
                options.onProblem(new Error(m.message));
                break;
              case 'progress':
                doneBytes += m.bytes;
                doneTuples += m.tuples;
                options.progress?.update(doneBytes, doneTuples, m.label);
                break;
              case 'done':
                fileCount += m.result.files;
                problems += m.result.problems;
                addStats(stats, m.result.stats);
                enrichment = addEnrichment(enrichment, m.enrichment);
                done = true;
                resolve();
                break;
              case 'stop':
                stop(new StopError(m.message));
                break;
            }
          });
          worker.on('error', (error) => stop(error));
          worker.on('exit', (code) => {
            // Exiting before 'done': terminated after another worker stopped the command, or crashed.
            if (!done) stop(stopped ?? new Error(`a process worker stopped (exit ${code}) before finishing`));
          });
        }),
      );
    }
    void Promise.allSettled(each).then(resolveAll);
  });
  await Promise.all(workers.map((w) => w.terminate()));
  await writing;
  const failure = finished.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (stopped !== undefined || failure !== undefined) throw stopped ?? failure?.reason;
  if (sink === undefined) sink = options.out();
  await sink;
  options.progress?.update(doneBytes, doneTuples, 'done', true);
  options.progress?.done();
  return {
    files: fileCount,
    stats,
    problems,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    workers: count,
    enrichment,
  };
}
