import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json } from '../app/http';
import type { BulkProgress } from '../common/contracts';
import { names } from '../common/names';

/** GET /api/jobs/{id}: a bulk job's state and progress (blobs matched, taken, done, outcomes by kind). */
export async function getJob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const id = request.params['id'] ?? '';
    if (!/^job-[a-zA-Z0-9]{1,64}$/.test(id)) return json(400, { error: 'not a job id (job-…)' });
    const status = await df
      .getClient(context)
      .getStatus(id)
      .catch(() => undefined);
    if (!status || status.name !== names.bulkRerun) return json(404, { error: `no job ${id}` });
    const progress = (status.output ?? status.customStatus ?? null) as BulkProgress | null;
    return json(200, {
      jobId: id,
      runtimeStatus: status.runtimeStatus,
      createdTime: status.createdTime,
      lastUpdatedTime: status.lastUpdatedTime,
      ...(progress ?? {}),
      leftOut: progress ? progress.matched - progress.total : null,
    });
  });
}

app.http(names.getJob, {
  methods: ['GET'],
  authLevel: 'function',
  route: 'jobs/{id}',
  extraInputs: [df.input.durableClient()],
  handler: getJob,
});
