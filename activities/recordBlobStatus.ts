import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ledgerHealth, ledgerRowOf } from '../adapters/ledger';
import { appServices } from '../app/services';
import type { RecordBlobStatusInput } from '../common/contracts';
import { record } from '../common/metrics';
import { names } from '../common/names';

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
    const written = await ledger.upsertIfNewer(ledgerRowOf(input.key, ref, state));
    if (!written) counters.add('ledger.staleWritesSkipped');
    const health = ledgerHealth(state);
    record(
      counters,
      context,
      { [health === 'failed' ? 'runs.failed' : 'runs.completed']: 1 },
      { blob: input.key, health, hourComplete: state.hourComplete },
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
