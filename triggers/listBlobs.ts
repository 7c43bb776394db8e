import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import type { BlobHealth } from '../adapters/ledger';
import { guarded, json } from '../app/http';
import { appServices } from '../app/services';
import { names } from '../common/names';

const STATES = new Set<BlobHealth>(['ok', 'lagging', 'failed', 'running']);

/**
 * GET /api/blobs?state=failed|lagging|ok&hour=yyyymmddhh: rows of the blob ledger table (each with
 * hourComplete), newest first; `hour` reads that hour's partition only.
 */
export async function listBlobs(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const state = request.query.get('state') ?? undefined;
    if (state !== undefined && !STATES.has(state as BlobHealth))
      return json(400, { error: 'state must be failed, lagging, ok or running' });
    const hour = request.query.get('hour') ?? undefined;
    if (hour !== undefined && !/^\d{10}$/.test(hour))
      return json(400, { error: 'hour must be yyyymmddhh (UTC), e.g. 2026113009' });
    const rows = await appServices().ledger.list({
      ...(state === undefined ? {} : { state: state as BlobHealth }),
      ...(hour === undefined ? {} : { hours: [hour] }),
    });
    return json(200, { count: rows.length, blobs: rows });
  });
}

app.http(names.listBlobs, { methods: ['GET'], authLevel: 'function', route: 'blobs', handler: listBlobs });
