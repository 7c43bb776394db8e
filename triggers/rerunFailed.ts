import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded } from '../app/http';
import { startBulkRerun } from '../app/jobs';
import { appServices } from '../app/services';
import { names } from '../common/names';

/**
 * POST /api/blobs/rerun-failed: a bulk job reruns every blob the ledger lists as failed, from its
 * checkpoint; answers 202 with the job's status URL at once.
 */
export async function rerunFailed(
  _request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const job = await startBulkRerun(
      df.getClient(context),
      appServices().config,
      context,
      { kind: 'rerun-failed' },
      'checkpoint',
    );
    return { status: 202, headers: { Location: job.statusUrl }, jsonBody: job };
  });
}

app.http(names.rerunFailed, {
  methods: ['POST'],
  authLevel: 'admin',
  route: 'blobs/rerun-failed',
  extraInputs: [df.input.durableClient()],
  handler: rerunFailed,
});
