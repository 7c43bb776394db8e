import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json, readJson, rerunFrom, servedBlob } from '../app/http';
import { names } from '../app/names';
import { ensureRun } from '../app/runs';
import { appServices } from '../app/services';
import { blobKey } from '../domain/blob-ref';

/**
 * POST /api/blobs/rerun {blob | account+container+name, from: checkpoint | start | {record: N}}: resets the
 * blob's cursor as asked and starts a run; answers with the durable check-status payload. Ids repeat on a
 * rerun, so downstream dedup absorbs what was sent before.
 */
export async function rerunBlob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(async () => {
    const body = await readJson(request);
    const ref = servedBlob(appServices().config, body);
    const from = rerunFrom(body['from']);
    const key = blobKey(ref);
    const client = df.getClient(context);
    const outcome = await ensureRun(client, ref, key, { waitMs: 10_000, rerunFrom: from });
    if (outcome !== 'started')
      return json(409, { error: `a run of ${key} is in progress; try again when it has finished`, key });
    const payload = client.createHttpManagementPayload(key);
    return {
      status: 202,
      headers: { Location: payload.statusQueryGetUri },
      jsonBody: { key, from, ...payload },
    };
  });
}

app.http(names.rerunBlob, {
  methods: ['POST'],
  authLevel: 'function',
  route: 'blobs/rerun',
  extraInputs: [df.input.durableClient()],
  handler: rerunBlob,
});
