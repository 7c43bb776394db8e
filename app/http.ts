import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AppConfig } from '../adapters/config';
import { checkFlowLogBlobName } from '../domain/blob-name';
import { type BlobRef, parseBlobUrl } from '../domain/blob-ref';
import type { RerunFrom } from '../domain/blob-state';

export const json = (status: number, body: unknown): HttpResponseInit => ({ status, jsonBody: body });

export class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

/** Request bodies are small JSON objects; anything larger is refused before it is read whole. */
export const MAX_BODY_BYTES = 16 * 1024;

export async function readJson(request: HttpRequest): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    throw new BadRequest(`the body is ${declared} bytes; at most ${MAX_BODY_BYTES} are accepted`, 413);
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new BadRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`, 413);
  let body: unknown;
  try {
    body = JSON.parse(text);
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
  if (typeof value === 'object' && value !== null) {
    const { record, offset } = value as { record?: unknown; offset?: unknown };
    if (Number.isInteger(offset) && (offset as number) >= 0) return { offset: offset as number };
    if (Number.isInteger(record) && (record as number) >= 0) return { record: record as number };
  }
  throw new BadRequest(
    '"from" must be "checkpoint", "start", {"offset": B} (a row\'s recordOffset) or {"record": N} (the N-th record)',
  );
}

/**
 * Runs a handler: a BadRequest becomes its 400/413 with the message (which names only what the caller
 * sent); anything else a 500 that names nothing internal (no storage names, hosts or stack), only the
 * invocation id under which the log has the details.
 */
export async function guarded(
  context: InvocationContext,
  work: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadRequest) return json(error.status, { error: error.message });
    context.error(`request failed (invocation ${context.invocationId}):`, error);
    return json(500, {
      error: 'internal error; the details are in the function log under this invocation id',
      invocationId: context.invocationId,
    });
  }
}
