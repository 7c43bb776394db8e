import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json, readJson, rerunFrom, servedBlob } from '../app/http';
import { runInstanceId, startClaim } from '../app/runs';
import { appServices } from '../app/services';
import type { ProcessBlobOutput } from '../common/contracts';
import { names } from '../common/names';
import { blobKey } from '../domain/blob-ref';

/** How long the answer waits to learn whether the blob's entity granted the rerun. */
const ANSWER_WITHIN_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POST /api/blobs/rerun {blob | account+container+name, from: checkpoint | start | {offset: B} | {record: N}}: asks the
 * blob's entity for a rerun, which resets the cursor as asked and runs. 202 with the blob's status URL
 * when granted, 409 when a run is in progress (or the record is unknown). Ids repeat on a rerun, so
 * downstream dedup absorbs what was sent before.
 */
export async function rerunBlob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const body = await readJson(request);
    const { config } = appServices();
    const ref = servedBlob(config, body);
    const from = rerunFrom(body['from']);
    const key = blobKey(ref);
    const client = df.getClient(context);
    const instanceId = runInstanceId(key, 'operator', `${context.invocationId}|${JSON.stringify(from)}`);
    await startClaim(client, config, { ref, instanceId, rerunFrom: from });
    const statusUrl = `/api/blobs/${key}`;
    // The claim is the instance's first step: wait briefly for its verdict.
    const deadline = Date.now() + ANSWER_WITHIN_MS;
    for (let delay = 50; Date.now() < deadline; delay = Math.min(1000, delay * 2)) {
      const status = await client.getStatus(instanceId).catch(() => undefined);
      const output = status?.output as ProcessBlobOutput | undefined;
      if (status?.runtimeStatus === df.OrchestrationRuntimeStatus.Completed && output && 'error' in output)
        return json(409, { error: output.error, key, instanceId });
      if (status && status.runtimeStatus !== df.OrchestrationRuntimeStatus.Pending) break;
      await sleep(delay);
    }
    return { status: 202, headers: { Location: statusUrl }, jsonBody: { key, from, instanceId, statusUrl } };
  });
}

app.http(names.rerunBlob, {
  methods: ['POST'],
  authLevel: 'admin',
  route: 'blobs/rerun',
  extraInputs: [df.input.durableClient()],
  handler: rerunBlob,
});
