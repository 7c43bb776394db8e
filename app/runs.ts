import type { DurableClient } from 'durable-functions';
import * as df from 'durable-functions';
import { type BlobRef, blobKey } from '../domain/blob-ref';
import type { BlobState, RerunFrom } from '../domain/blob-state';
import type { ProcessBlobInput } from './contracts';
import { names } from './names';

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type RunOutcome = 'started' | 'covered' | 'running';

export interface EnsureRunOptions {
  /** How long to wait for an active run to finish before answering `running`. */
  readonly waitMs: number;
  /** The data this caller needs read: a run that has read this far covers it. */
  readonly contentLength?: number;
  readonly rerunFrom?: RerunFrom;
  readonly retry?: ProcessBlobInput['retry'];
}

export const blobEntity = (key: string) => new df.EntityId(names.blobStateEntity, key);

/**
 * Makes sure a run will read what the caller observed. The caller has already signalled `observe` to the
 * blob's entity. Then:
 * - no run active: start one (its instance id is the blob key, so runs of one blob never overlap);
 * - a run active: its final commit compares the observed length with what it read and goes round again
 *   if it is behind; if our observation reaches the entity after that commit, the run is finishing, so we
 *   wait and start the next one. We stop waiting early when the entity shows the length already read.
 * Returns `running` only when the wait ran out with a run still active.
 */
export async function ensureRun(
  client: DurableClient,
  ref: BlobRef,
  key: string,
  options: EnsureRunOptions,
): Promise<RunOutcome> {
  const input: ProcessBlobInput = {
    ref,
    key,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.rerunFrom !== undefined ? { rerunFrom: options.rerunFrom } : {}),
  };
  const deadline = Date.now() + options.waitMs;
  let delay = 100;
  let refusedWhileIdle = 0;
  for (;;) {
    try {
      await client.startNew(names.processBlob, { instanceId: key, input });
      return 'started';
    } catch (error) {
      const status = await client.getStatus(key).catch(() => undefined);
      if (!status || !ACTIVE.has(String(status.runtimeStatus))) {
        // Refused, yet no run is active: the run completed between the two calls. Start again; give up
        // only if that keeps happening (then the refusal has another cause).
        if (++refusedWhileIdle >= 3) throw error;
        continue;
      }
    }
    if (options.contentLength !== undefined && options.rerunFrom === undefined) {
      const entity = await client.readEntityState<BlobState>(blobEntity(key));
      if (entity.entityExists && entity.entityState && entity.entityState.readLength >= options.contentLength)
        return 'covered';
    }
    if (Date.now() + delay > deadline) return 'running';
    await sleep(delay);
    delay = Math.min(1000, delay * 2);
  }
}

/** Starts a rerun of each blob that has no active run; the others are reported as skipped. */
export async function rerunEach(
  client: DurableClient,
  blobs: readonly BlobRef[],
  from: RerunFrom,
): Promise<{ started: string[]; skipped: string[] }> {
  const started: string[] = [];
  const skipped: string[] = [];
  for (const ref of blobs) {
    const key = blobKey(ref);
    const outcome = await ensureRun(client, ref, key, { waitMs: 0, rerunFrom: from });
    (outcome === 'started' ? started : skipped).push(key);
  }
  return { started, skipped };
}
