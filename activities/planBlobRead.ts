import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ExternalError } from '../adapters/errors';
import { appServices } from '../app/services';
import type { PlanInput, PlanResult } from '../common/contracts';
import { names } from '../common/names';
import { PrefixChangedError } from '../domain/errors';
import { boundariesInRange, establishCursor, planRead } from '../domain/framing/blocks';
import { splitIntoChunks } from '../domain/read-chunks';

/**
 * Lists the committed blocks (one storage call) and turns the cursor into byte ranges to parse. Returns a
 * boundary table instead of the block list, so the orchestration history stays a few hundred bytes.
 */
export async function planBlobRead(input: PlanInput, context: InvocationContext): Promise<PlanResult> {
  if (!input?.ref || !input.cursor) throw new Error('planBlobRead needs {ref, cursor}');
  const { blobs, config, counters } = appServices();
  let snapshot: Awaited<ReturnType<typeof blobs.snapshot>>;
  try {
    snapshot = await blobs.snapshot(input.ref);
  } catch (error) {
    if (error instanceof ExternalError && !error.retryable)
      return { kind: 'storage-failed', error: error.message };
    throw error;
  }
  const cursor = establishCursor(snapshot.blocks, input.cursor);
  try {
    const plan = planRead(input.ref.name, snapshot.blocks, snapshot.contentLength, cursor);
    if (plan.kind === 'up-to-date')
      return { kind: 'up-to-date', contentLength: snapshot.contentLength, eTag: snapshot.eTag };
    const chunks = splitIntoChunks(snapshot.blocks, plan.start, plan.end, config.parseChunkBytes);
    counters.add('lag.bytes', plan.end - plan.start);
    return {
      kind: 'read',
      contentLength: snapshot.contentLength,
      eTag: snapshot.eTag,
      cursor,
      scanStart: plan.scanStart,
      chunks,
      boundaries: boundariesInRange(snapshot.blocks, plan.start, plan.end),
      blocks: plan.blocks,
    };
  } catch (error) {
    if (error instanceof PrefixChangedError) {
      context.warn(error.message);
      counters.add('runs.newGeneration');
      return { kind: 'prefix-changed', reason: error.message };
    }
    throw error;
  }
}

df.app.activity(names.planBlobRead, { handler: planBlobRead });
