import { app, type InvocationContext, type Timer } from '@azure/functions';
import { blobService } from '../adapters/clients';
import { readRefreshConfig } from '../adapters/enrichment/refresh-config';
import { refreshThreatFeeds, THREAT_FEEDS_BLOB } from '../adapters/enrichment/threat-feeds';
import { appServices, enrichmentBlob, refreshEnricherNow } from '../app/services';
import { record } from '../common/metrics';
import { names } from '../common/names';

/**
 * Every 15 minutes: when FLOWLOG_THREAT_FEEDS is set and the stored feeds are older than
 * FLOWLOG_THREAT_FEEDS_REFRESH_MINUTES (or one failed last time, or the list changed), ask each feed again
 * (If-None-Match / If-Modified-Since) and store them as `threat` labels for every worker's enricher.
 */
export async function refreshThreatFeedsTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const settings = readRefreshConfig();
  if (settings.threatFeeds === null) return;
  const services = appServices();
  await blobService(services.config.hostStorage)
    .getContainerClient(services.config.stagingContainer)
    .createIfNotExists();
  const result = await refreshThreatFeeds({
    feeds: settings.threatFeeds.feeds,
    blob: enrichmentBlob(services.config, THREAT_FEEDS_BLOB),
    now: new Date(),
    maxAgeMs: settings.threatFeeds.maxAgeMs,
  });
  if (result.status === 'fresh') return;
  const count = (status: string) => result.feeds.filter((f) => f.status === status).length;
  record(
    services.counters,
    context,
    {
      'threatFeeds.fetched': count('fetched'),
      'threatFeeds.unchanged': count('unchanged'),
      'threatFeeds.failed': count('failed'),
      'threatFeeds.entries': result.feeds.reduce((n, f) => n + f.entries, 0),
    },
    {
      refresh: 'threatFeeds',
      feeds: result.feeds.map((f) => `${f.name}: ${f.status}${f.error ? ` (${f.error})` : ''}`).join('; '),
    },
  );
  for (const f of result.feeds)
    if (f.status === 'failed')
      context.warn(`threat feed ${f.name} failed (its last entries are kept): ${f.error ?? ''}`);
  await refreshEnricherNow();
}

app.timer(names.refreshThreatFeeds, {
  schedule: '0 2,17,32,47 * * * *',
  handler: refreshThreatFeedsTimer,
});
