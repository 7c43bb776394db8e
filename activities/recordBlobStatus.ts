import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { BlobHealth } from '../adapters/ledger';
import type { RecordBlobStatusInput } from '../app/contracts';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import { blobIdentityOfRef, blobIdOf } from '../domain/blob-identity';
import { type BlobState, lagBytes } from '../domain/blob-state';

/** The ledger row an operator queries (failed / lagging blobs), derived from the entity state. */
export function ledgerHealth(state: BlobState): BlobHealth {
  if (state.lastError !== null && state.failureCount > 0) return 'failed';
  return lagBytes(state) > 0 ? 'lagging' : 'ok';
}

/**
 * End of a run (or of a round that read nothing): the ledger row, written only if it is newer than the
 * row there (runs of one blob can finish out of order), and the run's staging folder removed. Idempotent.
 */
export async function recordBlobStatus(
  input: RecordBlobStatusInput,
  context: InvocationContext,
): Promise<void> {
  if (!input?.key || !input.ref)
    throw new Error('recordBlobStatus needs {key, ref, state?, cleanupPrefix? | cleanupNames?}');
  const { state, ref } = input;
  const { ledger, staging, counters } = appServices();
  if (state) {
    const written = await ledger.upsertIfNewer({
      key: input.key,
      account: ref.account,
      container: ref.container,
      name: ref.name,
      blobId: blobIdOf(blobIdentityOfRef(ref, state.generation)),
      state: ledgerHealth(state),
      generation: state.generation,
      consumedBytes: state.cursor.byteOffset,
      observedLength: state.observedLength,
      lagBytes: lagBytes(state),
      records: state.cursor.recordOrdinal,
      failureCount: state.failureCount,
      lastError: state.lastError ?? '',
      hourComplete: state.hourComplete,
      updatedAt: state.lastRunAt ?? new Date(0).toISOString(),
      revision: state.revision,
    });
    if (!written) counters.add('ledger.staleWritesSkipped');
    const health = ledgerHealth(state);
    record(
      counters,
      context,
      { [health === 'failed' ? 'runs.failed' : 'runs.completed']: 1 },
      { blob: input.key, health },
    );
  }
  const removed =
    input.cleanupNames && input.cleanupNames.length > 0
      ? await staging.delete(input.cleanupNames)
      : input.cleanupPrefix
        ? await staging.deletePrefix(input.cleanupPrefix)
        : 0;
  counters.add('staging.deleted', removed);
}

df.app.activity(names.recordBlobStatus, { handler: recordBlobStatus });
