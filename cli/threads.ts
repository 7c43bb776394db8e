import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts one of the CLI's worker threads (`name` is its file next to this one). From the compiled .js
 * files as they are; from the TypeScript sources (tests, a checkout without dist/) through a bootstrap
 * that registers tsx in the worker first.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  const ts = __filename.endsWith('.ts');
  const entry = join(__dirname, `${name}.${ts ? 'ts' : 'js'}`);
  return ts
    ? new Worker(
        `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`,
        { workerData, eval: true },
      )
    : new Worker(entry, { workerData });
}
