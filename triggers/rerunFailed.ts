import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json } from '../app/http';
import { names } from '../app/names';
import { rerunEach } from '../app/runs';
import { appServices } from '../app/services';

/** POST /api/blobs/rerun-failed: reruns every blob the ledger lists as failed, from its checkpoint. */
export async function rerunFailed(
  _request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const { ledger, config } = appServices();
    const rows = await ledger.list({ state: 'failed' });
    const client = df.getClient(context);
    const refs = rows.map((row) => ({ account: row.account, container: row.container, name: row.name }));
    const { started } = await rerunEach(client, config, refs, 'checkpoint', context.invocationId);
    return json(202, { failed: rows.length, started });
  });
}

app.http(names.rerunFailed, {
  methods: ['POST'],
  authLevel: 'admin',
  route: 'blobs/rerun-failed',
  extraInputs: [df.input.durableClient()],
  handler: rerunFailed,
});
