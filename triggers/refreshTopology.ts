import { app, type InvocationContext, type Timer } from '@azure/functions';
import { azureCredential, blobService } from '../adapters/clients';
import { readRefreshConfig } from '../adapters/enrichment/refresh-config';
import { refreshTopology, resourceGraphClient, TOPOLOGY_BLOB } from '../adapters/enrichment/topology';
import { appServices, countedArmRetries, enrichmentBlob, refreshEnricherNow } from '../app/services';
import { record } from '../common/metrics';
import { names } from '../common/names';

/**
 * Every 15 minutes: when FLOWLOG_TOPOLOGY_SUBSCRIPTIONS is set and the stored topology is older than
 * FLOWLOG_TOPOLOGY_REFRESH_MINUTES, read VNets, peerings, gateways and public IPs from Resource Graph and
 * store them as labels (under the user's CSV / table rows) for every worker's enricher.
 */
export async function refreshTopologyTimer(_timer: Timer, context: InvocationContext): Promise<void> {
  const settings = readRefreshConfig();
  if (settings.topology === null) return;
  const services = appServices();
  await blobService(services.config.hostStorage)
    .getContainerClient(services.config.stagingContainer)
    .createIfNotExists();
  const result = await refreshTopology({
    graph: resourceGraphClient(settings.armEndpoint, azureCredential),
    blob: enrichmentBlob(services.config, TOPOLOGY_BLOB),
    scope: settings.topology.scope,
    now: new Date(),
    maxAgeMs: settings.topology.maxAgeMs,
    retry: countedArmRetries(services.counters, context, 'topology'),
  });
  if (result.status === 'fresh') return;
  record(
    services.counters,
    context,
    { 'topology.labels': result.rows },
    {
      refresh: 'topology',
      resources: result.resources,
      skipped: result.skipped,
    },
  );
  await refreshEnricherNow();
}

app.timer(names.refreshTopology, {
  schedule: '0 5,20,35,50 * * * *',
  handler: refreshTopologyTimer,
});
