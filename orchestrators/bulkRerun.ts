import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import * as df from 'durable-functions';
import { runInstanceId } from '../app/runs';
import type {
  BulkProgress,
  BulkRerunInput,
  BulkTargetsResult,
  ProcessBlobInput,
  ProcessBlobOutput,
} from '../common/contracts';
import { names } from '../common/names';
import { type BlobRef, blobKey } from '../domain/blob-ref';

/** Batches per execution before continueAsNew: the history stays a few batches long. */
const BATCHES_PER_EXECUTION = 8;

function validate(input: unknown): BulkRerunInput {
  const i = input as BulkRerunInput | undefined;
  if (!i?.jobId || !i.query || i.from === undefined || !(i.concurrency > 0) || !(i.maxBlobs > 0))
    throw new Error('bulkRerun needs {jobId, query, from, concurrency, maxBlobs, stuckAfterMs}');
  return i;
}

/**
 * A bulk rerun (POST /api/replay, POST /api/blobs/rerun-failed): the HTTP request only starts this and
 * answers 202 with the job's status URL, so it never runs into the 230 s HTTP limit. The blobs are listed
 * once into staging (at most `maxBlobs`), then rerun `concurrency` at a time as sub-orchestrations (each
 * one a claim on its blob's entity, refused while a run of that blob is active), with the progress in the
 * custom status and continueAsNew every few batches.
 */
const bulkRerun: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = validate(context.df.getInput());
  const retry = new df.RetryOptions(2000, 5);
  retry.backoffCoefficient = 2;
  let progress: BulkProgress;
  if (input.progress === undefined) {
    const listed = (yield context.df.callActivityWithRetry(names.listBulkTargets, retry, {
      jobId: input.jobId,
      query: input.query,
      maxBlobs: input.maxBlobs,
    })) as BulkTargetsResult;
    progress = { matched: listed.matched, total: listed.listed, done: 0, outcomes: {} };
  } else {
    progress = input.progress;
  }
  context.df.setCustomStatus(progress);
  for (let batch = 0; batch < BATCHES_PER_EXECUTION && progress.done < progress.total; batch++) {
    const refs = (yield context.df.callActivityWithRetry(names.readBulkTargets, retry, {
      jobId: input.jobId,
      offset: progress.done,
      count: Math.min(input.concurrency, progress.total - progress.done),
    })) as BlobRef[];
    const outputs = (yield context.df.Task.all(
      refs.map((ref, i) => {
        const key = blobKey(ref);
        const run: ProcessBlobInput = {
          ref,
          key,
          rerunFrom: input.from,
          stuckAfterMs: input.stuckAfterMs,
          failAsOutput: true,
        };
        return context.df.callSubOrchestrator(
          names.processBlob,
          run,
          runInstanceId(key, 'operator', `${input.jobId}|${progress.done + i}`),
        );
      }),
    )) as ProcessBlobOutput[];
    const outcomes = { ...progress.outcomes };
    for (const o of outputs) outcomes[o.kind] = (outcomes[o.kind] ?? 0) + 1;
    progress = { ...progress, done: progress.done + refs.length, outcomes };
    context.df.setCustomStatus(progress);
  }
  if (progress.done < progress.total) {
    context.df.continueAsNew({ ...input, progress });
    return progress;
  }
  return progress;
};

df.app.orchestration(names.bulkRerun, bulkRerun);
