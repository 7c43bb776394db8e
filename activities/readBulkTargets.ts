import * as df from 'durable-functions';
import { appServices } from '../app/services';
import { bulkTargetsName, type ReadBulkTargetsInput } from '../common/contracts';
import { names } from '../common/names';
import type { BlobRef } from '../domain/blob-ref';

/** One batch of a bulk job's blobs: lines [offset, offset + count) of its target list. */
export async function readBulkTargets(input: ReadBulkTargetsInput): Promise<BlobRef[]> {
  if (!input?.jobId || !(input.offset >= 0) || !(input.count > 0))
    throw new Error('readBulkTargets needs {jobId, offset, count}');
  const text = (await appServices().staging.get(bulkTargetsName(input.jobId))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .slice(input.offset, input.offset + input.count)
    .map((line) => JSON.parse(line) as BlobRef);
}

df.app.activity(names.readBulkTargets, { handler: readBulkTargets });
