import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { listFlowLogBlobs } from '../adapters/blob-listing';
import { BadRequest, guarded, json, readJson } from '../app/http';
import { names } from '../app/names';
import { rerunEach } from '../app/runs';
import { appServices } from '../app/services';

const HOUR = 3_600_000;
const MAX_HOURS = 24 * 31;

function hour(value: unknown, field: string): Date {
  const d = typeof value === 'string' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime()))
    throw new BadRequest(`"${field}" must be an ISO-8601 UTC hour, e.g. 2026-11-30T09:00:00Z`);
  return new Date(Math.floor(d.getTime() / HOUR) * HOUR);
}

/**
 * POST /api/replay {from, to (UTC hours, inclusive), resourcePrefix?}: reruns every matching blob from its
 * start. Idempotent downstream: the ids repeat. A blob with a run in progress refuses its rerun (see the
 * instance's output in the blob's status).
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
    const services = appServices();
    const blobs = await listFlowLogBlobs(services.config, from, to, prefix);
    const client = df.getClient(context);
    const { started } = await rerunEach(
      client,
      services.config,
      blobs.map((b) => b.ref),
      'start',
      context.invocationId,
    );
    return json(202, { matched: blobs.length, started });
  });
}

app.http(names.replayRange, {
  methods: ['POST'],
  authLevel: 'admin',
  route: 'replay',
  extraInputs: [df.input.durableClient()],
  handler: replayRange,
});
