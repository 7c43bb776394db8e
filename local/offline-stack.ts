/**
 * The whole app offline: Azurite (Blob + Table), the Event Hubs AMQP test server, and the local Functions
 * host with the app loaded, wired through the same app settings the app reads in Azure. Used by the
 * end-to-end tests, `flowlog replay` and `npm start`.
 *
 * The emulators run in this process (the default: tests read the hub's events and inject faults
 * synchronously) or in a child process of their own (`emulators: 'child'`, or FLOWLOG_LOCAL_EMULATORS=child),
 * so that the host and the app get one core and the emulators the other (local/README.md).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resetAppServices } from '../app/services';
import { AzureStyleBlobWriter } from './azure-writer';
import { type AzuriteHandle, type AzuriteOptions, startAzurite } from './azurite';
import { type EmulatorProcess, type ProcessUsage, startEmulatorProcess } from './emulators/remote';
import { type EventHubsServer, type EventHubsServerOptions, startEventHubsServer } from './eventhubs';
import { FunctionsHost, type FunctionsHostOptions } from './functions-host';

export { EmulatorProcessError, type ProcessUsage } from './emulators/remote';

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
  /** Where the emulators run. */
  readonly emulators: EmulatorMode;
  /**
   * The emulator process in 'child' mode (its pid and CPU use), undefined in-process. In that mode
   * `eventHubs.events()` and a fault with an rng throw EmulatorProcessError; `onEvent` and the other
   * faults work across the process boundary.
   */
  readonly emulatorProcess: { readonly pid: number; usage(): Promise<ProcessUsage> } | undefined;
  stop(): Promise<void>;
}

/** 'in-process': one thread runs everything; 'child': Azurite and Event Hubs run in a forked process. */
export type EmulatorMode = 'in-process' | 'child';

export const EMULATORS_SETTING = 'FLOWLOG_LOCAL_EMULATORS';

export class OfflineStackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OfflineStackError';
  }
}

/** The mode asked for, else FLOWLOG_LOCAL_EMULATORS, else in-process. */
export function emulatorMode(asked?: EmulatorMode): EmulatorMode {
  const value = asked ?? process.env[EMULATORS_SETTING] ?? 'in-process';
  if (value !== 'in-process' && value !== 'child')
    throw new OfflineStackError(`${EMULATORS_SETTING} must be 'in-process' or 'child', got '${value}'`);
  return value;
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
  /** Where Azurite and the Event Hubs server run; default FLOWLOG_LOCAL_EMULATORS, else in-process. */
  readonly emulators?: EmulatorMode;
  /** Extra node flags for the emulator process in 'child' mode (e.g. `--cpu-prof`). */
  readonly emulatorExecArgv?: readonly string[];
}

const ROOT = join(__dirname, '..');
/** host.json sits at the repository root, one level above dist/ when running compiled. */
const HOST_JSON = existsSync(join(ROOT, 'host.json'))
  ? join(ROOT, 'host.json')
  : join(ROOT, '..', 'host.json');

export async function startOfflineStack(options: OfflineStackOptions = {}): Promise<OfflineStack> {
  const mode = emulatorMode(options.emulators);
  const hubOptions: EventHubsServerOptions = {
    hubs: { [LOCAL_HUB]: options.partitions ?? 4 },
    ...(options.retainEvents !== undefined ? { retainEvents: options.retainEvents } : {}),
    ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
  };
  let child: EmulatorProcess | undefined;
  let azurite: AzuriteHandle;
  let eventHubs: EventHubsServer;
  if (mode === 'child') {
    child = await startEmulatorProcess({
      eventHubs: hubOptions,
      ...(options.azurite !== undefined ? { azurite: options.azurite } : {}),
      ...(options.emulatorExecArgv !== undefined ? { execArgv: options.emulatorExecArgv } : {}),
    });
    azurite = child.azurite;
    eventHubs = child.eventHubs;
  } else {
    azurite = await startAzurite(options.azurite);
    eventHubs = await startEventHubsServer(hubOptions);
  }
  try {
    return await startOnEmulators(options, mode, azurite, eventHubs, child);
  } catch (error) {
    // A stack that failed to start leaves no emulator (process) behind.
    await Promise.allSettled([child?.stop(), eventHubs.stop(), azurite.stop()]);
    throw error;
  }
}

async function startOnEmulators(
  options: OfflineStackOptions,
  mode: EmulatorMode,
  azurite: AzuriteHandle,
  eventHubs: EventHubsServer,
  child: EmulatorProcess | undefined,
): Promise<OfflineStack> {
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
    emulators: mode,
    emulatorProcess: child === undefined ? undefined : { pid: child.pid, usage: () => child.usage() },
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
