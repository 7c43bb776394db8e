import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ExternalError } from '../adapters/errors';
import type { EmitChunkInput, EmitChunkResult } from '../app/contracts';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import type { FlowSummary } from '../domain/summary/schema';

/**
 * Sends one chunk's staged summaries to Event Hubs. Transient failures are retried inside (backoff) and,
 * when they persist, thrown so Durable retries the activity; a permanent failure is returned so the run
 * is recorded as failed for rerun. Re-sending the same chunk sends the same ids: exactly-once downstream.
 */
export async function emitChunk(input: EmitChunkInput, context: InvocationContext): Promise<EmitChunkResult> {
  if (!input?.staged) throw new Error('emitChunk needs {staged}');
  const { staging, counters } = appServices();
  const text = (await staging.get(input.staged)).toString('utf8');
  const summaries: FlowSummary[] = [];
  for (const line of text.split('\n')) if (line !== '') summaries.push(JSON.parse(line) as FlowSummary);
  try {
    const stats = await appServices().emitter().emit(summaries);
    record(
      counters,
      context,
      {
        'summaries.emitted': stats.events,
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
