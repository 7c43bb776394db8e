import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { ExternalError } from '../adapters/errors';
import type { SummaryEvent } from '../adapters/event-hubs';
import type { EmitChunkInput, EmitChunkResult } from '../app/contracts';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import { summaryLineKeys } from '../domain/summary/serialize';

/**
 * Sends one chunk's staged summaries to Event Hubs. Transient failures are retried inside (backoff) and,
 * when they persist, thrown so Durable retries the activity; a permanent failure is returned so the run
 * is recorded as failed for rerun. Re-sending the same chunk sends the same ids: exactly-once downstream.
 */
export async function emitChunk(input: EmitChunkInput, context: InvocationContext): Promise<EmitChunkResult> {
  if (!input?.staged) throw new Error('emitChunk needs {staged}');
  const { staging, counters } = appServices();
  const text = (await staging.get(input.staged)).toString('utf8');
  // The staged lines are the event bodies as they are (serializeSummary's output); only the id and the
  // partition key are read from each.
  const summaries: SummaryEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const keys = summaryLineKeys(line);
    if (keys === null)
      return {
        kind: 'failed',
        error: `staged summaries ${input.staged}, line ${i + 1}: not a summary (${line.slice(0, 80)}); rerun the blob to stage them again`,
      };
    summaries.push({ ...keys, body: Buffer.from(line) });
  }
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
