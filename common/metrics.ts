/**
 * Counters for everything that moves, and one structured log line per measurement. In Azure the lines
 * land in Application Insights `traces` with the fields in customDimensions, where an operator charts
 * them (docs/operations.md has the KQL); locally the live view reads the counters directly.
 */
export type MetricName =
  | 'events.received'
  | 'events.ignored'
  | 'events.stale'
  | 'events.duplicate'
  | 'claims.started'
  | 'runs.started'
  | 'runs.coalesced'
  | 'runs.stuckReplaced'
  | 'claims.declined'
  | 'chunks.changed'
  | 'bytes.quarantined'
  | 'ledger.staleWritesSkipped'
  | 'staging.deleted'
  | 'sweep.deadRunsReplaced'
  | 'runs.completed'
  | 'runs.failed'
  | 'runs.newGeneration'
  | 'blocks.read'
  | 'bytes.read'
  | 'records.parsed'
  | 'records.quarantined'
  | 'tuples.parsed'
  | 'tuples.failed'
  | 'summaries.built'
  | 'summaries.emitted'
  | 'rows.bytes'
  | 'emit.groups'
  | 'emit.events'
  | 'emit.bytes'
  | 'emit.batches'
  | 'emit.retries'
  | 'emit.milliseconds'
  | 'enrich.cacheHits'
  | 'enrich.cacheMisses'
  | 'sweep.deepSweeps'
  | 'sweep.blobsListed'
  | 'sweep.blobsPoked'
  | 'sweep.hoursSettled'
  | 'hours.completed'
  | 'hours.reopened'
  | 'arm.requests'
  | 'arm.retries'
  | 'topology.labels'
  | 'serviceTags.prefixes'
  | 'threatFeeds.fetched'
  | 'threatFeeds.unchanged'
  | 'threatFeeds.failed'
  | 'threatFeeds.entries'
  | 'lag.bytes';

export class Counters {
  private readonly values = new Map<MetricName, number>();

  add(name: MetricName, value = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + value);
  }

  get(name: MetricName): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.values);
  }
}

export interface MetricLogger {
  log(...args: unknown[]): void;
}

/** Adds to the counters and writes one `flowlog.metric` line with the dimensions (never secrets). */
export function record(
  counters: Counters,
  logger: MetricLogger,
  values: Partial<Record<MetricName, number>>,
  dimensions: Record<string, string | number | boolean> = {},
): void {
  for (const [name, value] of Object.entries(values) as [MetricName, number][]) counters.add(name, value);
  logger.log(JSON.stringify({ event: 'flowlog.metric', ...values, ...dimensions }));
}
