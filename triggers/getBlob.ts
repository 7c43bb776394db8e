import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { guarded, json } from '../app/http';
import { blobEntity } from '../app/runs';
import { appServices } from '../app/services';
import { names } from '../common/names';
import { blobIdentityOfRef, blobIdOf } from '../domain/blob-identity';
import { type BlobState, hourEndOf, hourStatus, lagBytes, withDefaults } from '../domain/blob-state';

/**
 * The blob's hour: when it ends and can be complete, whether it is, and what it would be judged now from
 * the state and the committed length just read (`in-grace`, `behind`, `running`, `failed`, `complete`).
 */
function hourView(state: BlobState, committedLength: number | null) {
  const end = hourEndOf(state.ref);
  const graceMs = appServices().config.hourGraceMs;
  return {
    end: end === undefined ? null : new Date(end).toISOString(),
    completeFrom: end === undefined ? null : new Date(end + graceMs).toISOString(),
    complete: state.hourComplete,
    completedAt: state.hourCompletedAt,
    reopened: state.hourReopened,
    status:
      state.hourComplete && (committedLength ?? 0) <= state.readLength
        ? 'complete'
        : hourStatus(state, new Date().toISOString(), committedLength ?? state.observedLength, graceMs),
  };
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
      // The `blob` of this blob's FlowGroups lines (ADX: FlowGroupsDedup | where blob == ..., joined to rows on group).
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
      // The entity's decision (set by a run's commit or the sweep); `hour.status` says why it is not yet.
      hourComplete: state.hourComplete,
      hour: hourView(state, committedLength),
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
