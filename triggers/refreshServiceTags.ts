import { app, type InvocationContext, type Timer } from '@azure/functions';
import { azureCredential, blobService } from '../adapters/clients';
import { armCredential } from '../adapters/enrichment/arm';
import { readRefreshConfig } from '../adapters/enrichment/refresh-config';
import { refreshServiceTags, SERVICE_TAGS_BLOB } from '../adapters/enrichment/service-tags-refresh';
import { appServices, countedArmRetries, enrichmentBlob, refreshEnricherNow } from '../app/services';
import { record } from '../common/metrics';
import { names } from '../common/names';

/**
 * Every 15 minutes: when FLOWLOG_SERVICE_TAGS_SUBSCRIPTION is set and the stored document is older than
 * FLOWLOG_SERVICE_TAGS_REFRESH_HOURS (a week by default), fetch the service tags from the Discovery API
 * and store them where the enricher loads them (unless FLOWLOG_SERVICE_TAGS_PATH is set: the path wins,
 * and nothing is fetched).
 */
export async function refreshServiceTagsTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const settings = readRefreshConfig();
  const services = appServices();
  if (settings.serviceTags === null || services.config.serviceTagsPath) return;
  await blobService(services.config.hostStorage)
    .getContainerClient(services.config.stagingContainer)
    .createIfNotExists();
  const result = await refreshServiceTags({
    endpoint: settings.armEndpoint,
    credential: armCredential(settings.armEndpoint, azureCredential),
    subscriptionId: settings.serviceTags.subscriptionId,
    location: settings.serviceTags.location,
    blob: enrichmentBlob(services.config, SERVICE_TAGS_BLOB),
    now: new Date(),
    maxAgeMs: settings.serviceTags.maxAgeMs,
    retry: countedArmRetries(services.counters, context, 'serviceTags'),
  });
  if (result.status === 'fresh') return;
  record(
    services.counters,
    context,
    { 'serviceTags.prefixes': result.prefixes },
    {
      refresh: 'serviceTags',
      changeNumber: result.changeNumber,
      tags: result.tags,
    },
  );
  await refreshEnricherNow();
}

app.timer(names.refreshServiceTags, {
  schedule: '0 10,25,40,55 * * * *',
  handler: refreshServiceTagsTimer,
});
