/**
 * One summarizing thread of `flowlog process --workers N` (see parallel-process.ts): asks the main
 * thread for a file at a time, runs the same processFiles over it, and hands the NDJSON batches, the
 * problems and the progress to the main thread, which alone writes the output.
 *
 * Protocol (main → worker): {type:'file', file} | {type:'end'} | {type:'written', id, bytes}.
 * Worker → main: {type:'next'}; {type:'out', id, bytes} (the buffer is transferred, and transferred
 * back with 'written' once the main thread has written it; a worker has at most three batches out, so
 * the main thread's backlog stays bounded);
 * {type:'problem', message}; {type:'progress', bytes, tuples, label}; then {type:'done', result,
 * enrichment} or {type:'stop', message} (output or enrichment data failed: the command stops).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EnrichmentOptions } from '../adapters/enrichment';
import type { EnrichmentStats } from '../domain/enrich/enricher';
import { loadEnrichment } from './enrichment';
import type { InputFile } from './files';

export interface ProcessWorkerData {
  readonly windowSeconds: number;
  readonly readBytes?: number;
  /** The enrichment data to load (the main thread has loaded it once, so it comes from the cache). */
  readonly enrichment: EnrichmentOptions | null;
}

export type ToProcessWorker =
  | { type: 'file'; file: InputFile }
  | { type: 'end' }
  | { type: 'written'; id: number; bytes: Uint8Array };

export interface WorkerTotals {
  readonly files: number;
  readonly problems: number;
  readonly stats: import('../domain/summarize').SummarizeStats;
}

export type FromProcessWorker =
  | { type: 'next' }
  | { type: 'out'; id: number; bytes: Uint8Array }
  | { type: 'problem'; message: string }
  | { type: 'progress'; bytes: number; tuples: number; label: string }
  | { type: 'done'; result: WorkerTotals; enrichment: EnrichmentStats | null }
  | { type: 'stop'; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('process-worker runs as a worker thread');
  const data = workerData as ProcessWorkerData;
  const post = (m: FromProcessWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  const { processFiles, StopError } = require('./process-files') as typeof import('./process-files');

  let fileWaiter: ((file: InputFile | null) => void) | undefined;
  const writeWaiters = new Map<number, (bytes: Uint8Array) => void>();
  port.on('message', (m: ToProcessWorker) => {
    if (m.type === 'written') {
      writeWaiters.get(m.id)?.(m.bytes);
      writeWaiters.delete(m.id);
    } else {
      const give = fileWaiter;
      fileWaiter = undefined;
      give?.(m.type === 'file' ? m.file : null);
    }
  });
  async function* files(): AsyncGenerator<InputFile> {
    for (;;) {
      const file = await new Promise<InputFile | null>((resolve) => {
        fileWaiter = resolve;
        post({ type: 'next' });
      });
      if (file === null) return;
      yield file;
    }
  }

  let nextId = 1;
  let lastBytes = 0;
  let lastTuples = 0;
  try {
    let loaded: Awaited<ReturnType<typeof loadEnrichment>> | null = null;
    try {
      loaded = data.enrichment === null ? null : await loadEnrichment(data.enrichment);
    } catch (error) {
      throw new StopError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    const result = await processFiles(files(), {
      inputs: [],
      windowSeconds: data.windowSeconds,
      ...(data.readBytes === undefined ? {} : { readBytes: data.readBytes }),
      enricher: loaded?.enricher ?? null,
      out: {
        // The encoder's buffer is transferred (no copy) and comes back with 'written' for reuse.
        writeBytes: (bytes) =>
          new Promise<Uint8Array>((resolve) => {
            const id = nextId++;
            writeWaiters.set(id, resolve);
            post({ type: 'out', id, bytes }, [bytes.buffer as ArrayBuffer]);
          }),
        close: async () => undefined,
      },
      onProblem: (problem) => post({ type: 'problem', message: problem.message }),
      // Progress as increments: the main thread adds up every worker's.
      progress: {
        update(doneBytes, tuples, label) {
          post({ type: 'progress', bytes: doneBytes - lastBytes, tuples: tuples - lastTuples, label });
          lastBytes = doneBytes;
          lastTuples = tuples;
        },
        done() {},
      },
    });
    post({
      type: 'done',
      result: { files: result.files, problems: result.problems, stats: result.stats },
      enrichment: loaded?.stats() ?? null,
    });
  } catch (error) {
    if (!(error instanceof StopError)) throw error;
    post({ type: 'stop', message: error.message });
  }
}

main().catch((error: unknown) => {
  // An internal error: the main thread's 'error' handler reports it (exit code 3).
  setImmediate(() => {
    throw error;
  });
});
