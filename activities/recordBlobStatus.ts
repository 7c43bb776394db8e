import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { BlobHealth } from '../adapters/ledger';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import type { BlobRef } from '../domain/blob-ref';
import { type BlobState, lagBytes } from '../domain/blob-state';

export interface RecordBlobStatusInput {
  readonly key: string;
  readonly ref: BlobRef;
  readonly state: BlobState;
  /** Staging blobs of the finished run to delete (quarantined records stay). */
  readonly cleanup?: readonly string[];
}

/** The ledger row an operator queries (failed / lagging blobs), derived from the entity state. */
export function ledgerHealth(state: BlobState): BlobHealth {
  if (state.lastError !== null && state.failureCount > 0) return 'failed';
  return lagBytes(state) > 0 ? 'lagging' : 'ok';
}

/** End of a run: the ledger row, and the run's staging blobs removed. Idempotent. */
export async function recordBlobStatus(
  input: RecordBlobStatusInput,
  context: InvocationContext,
): Promise<void> {
  if (!input?.key || !input.ref || !input.state) throw new Error('recordBlobStatus needs {key, ref, state}');
  const { state, ref } = input;
  await appServices().ledger.upsert({
    key: input.key,
    account: ref.account,
    container: ref.container,
    name: ref.name,
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
  });
  if (input.cleanup && input.cleanup.length > 0) await appServices().staging.delete(input.cleanup);
  const health = ledgerHealth(state);
  record(
    appServices().counters,
    context,
    { [health === 'failed' ? 'runs.failed' : 'runs.completed']: 1 },
    { blob: input.key, health },
  );
}

df.app.activity(names.recordBlobStatus, { handler: recordBlobStatus });
