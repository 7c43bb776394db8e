import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { BadRequest, guarded, readJson } from '../app/http';
import { startBulkRerun } from '../app/jobs';
import { appServices } from '../app/services';
import { names } from '../common/names';

const HOUR = 3_600_000;
const MAX_HOURS = 24 * 31;

function hour(value: unknown, field: string): Date {
  const d = typeof value === 'string' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw new BadRequest(`"${field}" must be an ISO-8601 UTC hour, e.g. 2026-11-30T09:00:00Z`);
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/**
 * POST /api/replay {from, to (UTC hours, inclusive), resourcePrefix?}: a bulk job reruns every matching
 * blob from its start (idempotent downstream: the ids repeat; a blob with a run in progress refuses); the
 * answer is 202 with the job's status URL, at once.
 */
export async function replayRange(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const body = await readJson(request);
    const from = hour(body['from'], 'from');
    const to = hour(body['to'] ?? body['from'], 'to');
    if (to < from) throw new BadRequest('"to" is before "from"');
    if ((to.getTime() - from.getTime()) / HOUR > MAX_HOURS)
      throw new BadRequest(`replay at most ${MAX_HOURS} hours at once`);
    const prefix = typeof body['resourcePrefix'] === 'string' ? body['resourcePrefix'] : '';
    const job = await startBulkRerun(
      df.getClient(context),
      appServices().config,
      context,
      { kind: 'replay', from: from.toISOString(), to: to.toISOString(), resourcePrefix: prefix },
      'start',
    );
    return { status: 202, headers: { Location: job.statusUrl }, jsonBody: job };
  });
}

app.http(names.replayRange, {
  methods: ['POST'],
  authLevel: 'admin',
  route: 'replay',
  extraInputs: [df.input.durableClient()],
  handler: replayRange,
});
