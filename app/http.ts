import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { AppConfig } from '../adapters/config';
import { checkFlowLogBlobName } from '../domain/blob-name';
import { type BlobRef, parseBlobUrl } from '../domain/blob-ref';
import type { RerunFrom } from '../domain/blob-state';

export const json = (status: number, body: unknown): HttpResponseInit => ({ status, jsonBody: body });

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

export async function readJson(request: HttpRequest): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new BadRequest('the body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequest('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/**
 * The blob a request names: `{"blob": "https://acct.blob.core.windows.net/container/name"}` or
 * `{"account", "container", "name"}`. Only blobs of the configured accounts and containers are accepted;
 * the app never fetches an arbitrary URL.
 */
export function servedBlob(config: AppConfig, body: Record<string, unknown>): BlobRef {
  let ref: BlobRef | undefined;
  if (typeof body['blob'] === 'string') ref = parseBlobUrl(body['blob']);
  else if (
    typeof body['account'] === 'string' &&
    typeof body['container'] === 'string' &&
    typeof body['name'] === 'string'
  )
    ref = { account: body['account'], container: body['container'], name: body['name'] };
  if (!ref)
    throw new BadRequest('name the blob as {"blob": "<blob URL>"} or {"account", "container", "name"}');
  const account = ref.account.toLowerCase();
  if (!config.sourceAccounts.has(account))
    throw new BadRequest(
      `storage account "${ref.account}" is not one this app serves (FLOWLOG_SOURCE_ACCOUNTS)`,
    );
  if (!config.containers.has(ref.container))
    throw new BadRequest(`container "${ref.container}" is not a flow-log container this app serves`);
  if (!ref.name.endsWith('/PT1H.json')) throw new BadRequest('the blob must be a flow-log PT1H.json');
  const name = checkFlowLogBlobName(ref.name);
  if (!name.ok) throw new BadRequest(name.reason);
  return { ...ref, account };
}

export function rerunFrom(value: unknown): RerunFrom {
  if (value === undefined || value === 'checkpoint') return 'checkpoint';
  if (value === 'start') return 'start';
  if (
    typeof value === 'object' &&
    value !== null &&
    Number.isInteger((value as { record?: unknown }).record) &&
    (value as { record: number }).record >= 0
  )
    return { record: (value as { record: number }).record };
  throw new BadRequest('"from" must be "checkpoint", "start" or {"record": N}');
}

/** Runs a handler, turning BadRequest into 400 and anything else into a 500 that names no secret. */
export async function guarded(work: () => Promise<HttpResponseInit>): Promise<HttpResponseInit> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadRequest) return json(400, { error: error.message });
    return json(500, { error: (error as Error).message });
  }
}
