import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { EnrichChunkInput, EnrichChunkResult } from '../app/contracts';
import { record } from '../app/metrics';
import { names } from '../app/names';
import { appServices } from '../app/services';
import { rebaseOrdinal } from '../domain/aggregate';
import type { FlowSummary } from '../domain/summary/schema';
import { NdjsonEncoder } from '../domain/summary/serialize';

/** Staged summaries of one chunk: moved to their record ordinals in the blob, enriched, staged again. */
export async function enrichChunk(
  input: EnrichChunkInput,
  context: InvocationContext,
): Promise<EnrichChunkResult> {
  if (!input?.staged || !input.output || typeof input.ordinalBase !== 'number')
    throw new Error('enrichChunk needs {staged, ordinalBase, output}');
  const { staging, counters } = appServices();
  const enricher = await appServices().enricher();
  const before = enricher.stats();
  const text = (await staging.get(input.staged)).toString('utf8');
  const encoder = new NdjsonEncoder();
  let count = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const summary = rebaseOrdinal(JSON.parse(line) as FlowSummary, input.ordinalBase);
    enricher.enricher.enrich(summary);
    encoder.append(summary);
    count++;
  }
  await staging.put(input.output, encoder.take());
  const after = enricher.stats();
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  record(counters, context, { 'enrich.cacheHits': hits, 'enrich.cacheMisses': misses });
  return { staged: input.output, summaries: count, cacheHits: hits, cacheMisses: misses };
}

df.app.activity(names.enrichChunk, { handler: enrichChunk });
