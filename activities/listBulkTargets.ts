import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { listFlowLogBlobs } from '../adapters/blob-listing';
import { appServices } from '../app/services';
import { type BulkTargetsInput, type BulkTargetsResult, bulkTargetsName } from '../common/contracts';
import { names } from '../common/names';
import { checkFlowLogBlobName } from '../domain/blob-name';
import type { BlobRef } from '../domain/blob-ref';

/**
 * The blobs a bulk job reruns, listed once into staging (`jobs/<id>/targets.ndjson`, one blob per line) so
 * the job's history holds only counts and offsets. At most `maxBlobs`, oldest hour first. Idempotent.
 */
export async function listBulkTargets(
  input: BulkTargetsInput,
  context: InvocationContext,
): Promise<BulkTargetsResult> {
  if (!input?.jobId || !input.query || !(input.maxBlobs > 0))
    throw new Error('listBulkTargets needs {jobId, query, maxBlobs}');
  const { config, ledger, staging } = appServices();
  let refs: BlobRef[];
  if (input.query.kind === 'replay') {
    const { from, to, resourcePrefix } = input.query;
    const listed = await listFlowLogBlobs(config, new Date(from), new Date(to), resourcePrefix);
    refs = listed.sort((a, b) => a.hourStart.getTime() - b.hourStart.getTime()).map((b) => b.ref);
  } else {
    const rows = await ledger.list({ state: 'failed' });
    refs = rows
      .map((row) => ({ account: row.account, container: row.container, name: row.name }))
      .filter((ref) => checkFlowLogBlobName(ref.name).ok)
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  const taken = refs.slice(0, input.maxBlobs);
  await staging.put(
    bulkTargetsName(input.jobId),
    new TextEncoder().encode(taken.map((r) => `${JSON.stringify(r)}\n`).join('')),
  );
  if (taken.length < refs.length)
    context.warn(
      `job ${input.jobId}: ${refs.length} blobs matched, ${taken.length} taken (FLOWLOG_BULK_MAX_BLOBS)`,
    );
  return { matched: refs.length, listed: taken.length };
}

df.app.activity(names.listBulkTargets, { handler: listBulkTargets });
