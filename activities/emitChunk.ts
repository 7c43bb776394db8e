import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ExternalError } from '../adapters/errors';
import { appServices } from '../app/services';
import type { EmitChunkInput, EmitChunkResult } from '../common/contracts';
import { record } from '../common/metrics';
import { names } from '../common/names';

/**
 * Sends one chunk's staged rows to Event Hubs as they are: several rows per event (no row is parsed or
 * rebuilt; their ids were made final where the records were read). Transient failures are retried inside
 * (backoff) and, when they persist, thrown so Durable retries the activity; a permanent failure is
 * returned so the run is recorded as failed for rerun. Re-sending the same chunk sends the same rows with
 * the same ids: exactly-once downstream.
 */
export async function emitChunk(input: EmitChunkInput, context: InvocationContext): Promise<EmitChunkResult> {
  if (!input?.staged || !input.partitionKey) throw new Error('emitChunk needs {staged, partitionKey}');
  const { staging, counters } = appServices();
  const rows = await staging.get(input.staged);
  try {
    const stats = await appServices()
      .emitter()
      .emitRows(rows, input.partitionKey, `staged rows ${input.staged}`);
    record(
      counters,
      context,
      {
        'summaries.emitted': stats.rows,
        'emit.groups': stats.groups,
        'emit.events': stats.events,
        'emit.bytes': stats.bytes,
        'emit.batches': stats.batches,
        'emit.retries': stats.retries,
        'emit.milliseconds': stats.milliseconds,
      },
      { staged: input.staged },
    );
    return { kind: 'sent', ...stats };
  } catch (error) {
    if (error instanceof ExternalError && !error.retryable) return { kind: 'failed', error: error.message };
    throw error;
  }
}

df.app.activity(names.emitChunk, { handler: emitChunk });
