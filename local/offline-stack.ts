/**
 * The whole app offline: Azurite (Blob + Table), the Event Hubs AMQP test server, and the local Functions
 * host with the app loaded, wired through the same app settings the app reads in Azure. Used by the
 * end-to-end tests, `flowlog replay` and `npm start`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resetAppServices } from '../app/services';
import { AzureStyleBlobWriter } from './azure-writer';
import { type AzuriteHandle, type AzuriteOptions, startAzurite } from './azurite';
import { type EventHubsServer, startEventHubsServer } from './eventhubs';
import { FunctionsHost, type FunctionsHostOptions } from './functions-host';

export const LOCAL_HUB = 'flow-summaries';
export const NSG_CONTAINER = 'insights-logs-networksecuritygroupflowevent';
export const VNET_CONTAINER = 'insights-logs-flowlogflowevent';

export interface OfflineStack {
  readonly azurite: AzuriteHandle;
  readonly eventHubs: EventHubsServer;
  readonly host: FunctionsHost;
  readonly account: string;
  readonly writer: AzureStyleBlobWriter & { forContainer(container: string): AzureStyleBlobWriter };
  /** The settings the app was started with (no secrets are logged from here). */
  readonly settings: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export interface OfflineStackOptions {
  readonly host?: FunctionsHostOptions;
  readonly enrich?: boolean;
  readonly windowSeconds?: number;
  readonly parseChunkBytes?: number;
  readonly partitions?: number;
  /** Events the hub keeps (oldest dropped first); default all. Long runs set it so memory stays flat. */
  readonly retainEvents?: number;
  /** The hub's batch size limit (default 1 MiB, the service's); small values make several batches per emit. */
  readonly maxMessageSize?: number;
  readonly azurite?: AzuriteOptions;
  /** Extra app settings (enrichment data paths, ...). */
  readonly settings?: Readonly<Record<string, string>>;
}

const ROOT = join(__dirname, '..');
/** host.json sits at the repository root, one level above dist/ when running compiled. */
const HOST_JSON = existsSync(join(ROOT, 'host.json'))
  ? join(ROOT, 'host.json')
  : join(ROOT, '..', 'host.json');

export async function startOfflineStack(options: OfflineStackOptions = {}): Promise<OfflineStack> {
  const azurite = await startAzurite(options.azurite);
  const eventHubs = await startEventHubsServer({
    hubs: { [LOCAL_HUB]: options.partitions ?? 4 },
    ...(options.retainEvents !== undefined ? { retainEvents: options.retainEvents } : {}),
    ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
  });
  const account = azurite.accountName;
  const service = azurite.blobServiceClient();
  for (const c of [NSG_CONTAINER, VNET_CONTAINER]) await service.getContainerClient(c).createIfNotExists();

  const settings: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    FLOWLOG_SOURCE_ACCOUNTS: account,
    FLOWLOG_SOURCE_CONNECTION_STRINGS: JSON.stringify({ [account]: azurite.connectionString }),
    EventHubConnection: eventHubs.connectionString(LOCAL_HUB),
    FLOWLOG_ENRICH: options.enrich === true ? 'true' : 'false',
    FLOWLOG_WINDOW_SECONDS: String(options.windowSeconds ?? 60),
    FLOWLOG_PARSE_CHUNK_BYTES: String(options.parseChunkBytes ?? 4 * 1024 * 1024),
    ...options.settings,
  };
  // The app reads its settings from the environment, as in Azure. Restored on stop, so a setting of one
  // stack (a short stuck-run bound, say) never leaks into the next stack of the same process.
  const previous = new Map(Object.keys(settings).map((k) => [k, process.env[k]]));
  Object.assign(process.env, settings);
  await resetAppServices();

  const host = await FunctionsHost.start({ hostJson: HOST_JSON, ...options.host });
  await host.loadApp(join(ROOT, 'app', 'index'));

  const writers = new Map<string, AzureStyleBlobWriter>();
  const forContainer = (container: string) => {
    let w = writers.get(container);
    if (!w) {
      w = new AzureStyleBlobWriter(service.getContainerClient(container));
      writers.set(container, w);
    }
    return w;
  };
  const writer = Object.assign(forContainer(NSG_CONTAINER), { forContainer });

  return {
    azurite,
    eventHubs,
    host,
    account,
    writer,
    settings,
    async stop() {
      await host.stop();
      await resetAppServices();
      await eventHubs.stop();
      await azurite.stop();
      for (const [key, value] of previous) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}
