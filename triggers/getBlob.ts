import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json } from '../app/http';
import { names } from '../app/names';
import { blobEntity } from '../app/runs';
import { appServices } from '../app/services';
import { blobIdentityOfRef, blobIdOf, parseHourPath } from '../domain/blob-identity';
import { type BlobState, lagBytes, withDefaults } from '../domain/blob-state';

function hourOver(state: BlobState): boolean {
  const hour = state.ref ? parseHourPath(state.ref.name) : undefined;
  return hour !== undefined && Date.now() > hour.hourStart.getTime() + 75 * 60_000;
}

/**
 * GET /api/blobs/{key}: cursor, lag in bytes and blocks (one block-list read), last error, hour
 * completeness, and the current run's status.
 */
export async function getBlob(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return guarded(context, async () => {
    const key = request.params['key'] ?? '';
    if (!/^[a-z0-9]+-[a-z0-9]+-[0-9a-f]{32}$/.test(key))
      return json(400, { error: 'not a blob key (see GET /api/blobs)' });
    const client = df.getClient(context);
    const entity = await client.readEntityState<BlobState>(blobEntity(key));
    if (!entity.entityExists || !entity.entityState) return json(404, { error: `no blob with key ${key}` });
    const state = withDefaults(entity.entityState);
    let lagBlocks: number | null = null;
    let committedLength: number | null = null;
    if (state.ref) {
      const snapshot = await appServices()
        .blobs.snapshot(state.ref)
        .catch(() => undefined);
      if (snapshot) {
        committedLength = snapshot.contentLength;
        let at = 0;
        lagBlocks = 0;
        for (const [i, b] of snapshot.blocks.entries()) {
          if (at >= state.cursor.byteOffset && i < snapshot.blocks.length - 1 && i > 0) lagBlocks++;
          at += b.size;
        }
      }
    }
    const status = state.run
      ? await client.getStatus(state.run.instanceId).catch(() => undefined)
      : undefined;
    return json(200, {
      key,
      ref: state.ref,
      // What this blob's rows carry as `blob` (ADX: FlowSummariesDedup | where blob == ...).
      blobId: state.ref ? blobIdOf(blobIdentityOfRef(state.ref, state.generation)) : null,
      generation: state.generation,
      cursor: state.cursor,
      committedLength,
      lagBytes:
        committedLength === null
          ? lagBytes(state)
          : Math.max(0, committedLength - 2 - state.cursor.byteOffset),
      lagBlocks,
      lastError: state.lastError,
      failureCount: state.failureCount,
      // Complete: the hour (plus a 15-minute grace for Azure's last block) is over and nothing is behind.
      hourComplete:
        hourOver(state) &&
        (committedLength === null ? lagBytes(state) : committedLength - 2 - state.cursor.byteOffset) <= 0,
      stats: state.stats,
      lastRunAt: state.lastRunAt,
      lastEventAt: state.lastEventAt,
      run: state.run
        ? {
            ...state.run,
            runtimeStatus: status?.runtimeStatus ?? null,
            lastUpdatedTime: status?.lastUpdatedTime ?? null,
          }
        : null,
      runsGranted: state.runsGranted,
      stuckRunsReplaced: state.stuckRunsReplaced,
      failurePermanent: state.failurePermanent,
    });
  });
}

app.http(names.getBlob, {
  methods: ['GET'],
  authLevel: 'function',
  route: 'blobs/{key}',
  extraInputs: [df.input.durableClient()],
  handler: getBlob,
});
