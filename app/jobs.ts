import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions';
import type { AppConfig } from '../adapters/config';
import type { BulkQuery, BulkRerunInput } from '../common/contracts';
import { names } from '../common/names';
import type { RerunFrom } from '../domain/blob-state';

/** A bulk job's id: its instance id, `job-` and the requesting invocation's id. */
export const jobIdOf = (context: InvocationContext) =>
  `job-${context.invocationId.replace(/[^a-zA-Z0-9]/g, '')}`;

/** Starts a bulk rerun (orchestrators/bulkRerun.ts) and gives what the 202 answer says. */
export async function startBulkRerun(
  client: DurableClient,
  config: AppConfig,
  context: InvocationContext,
  query: BulkQuery,
  from: RerunFrom,
): Promise<{ jobId: string; statusUrl: string }> {
  const jobId = jobIdOf(context);
  const input: BulkRerunInput = {
    jobId,
    query,
    from,
    stuckAfterMs: config.stuckRunMs,
    concurrency: config.bulkConcurrency,
    maxBlobs: config.bulkMaxBlobs,
  };
  await client.startNew(names.bulkRerun, { instanceId: jobId, input });
  return { jobId, statusUrl: `/api/jobs/${jobId}` };
}
