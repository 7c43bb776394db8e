/** Options of the local Functions host, with defaults taken from host.json when one is given. */
import { readFileSync } from 'node:fs';
import type { ClockMode } from './clock';
import type { OverridableStates, StartRaceMode } from './durable-engine';
import { type FunctionKeys, LOCAL_KEYS } from './http-bridge';
import { documentedMaxInstanceIdLength } from './instance-ids';
import type { LogRecord } from './invoke';
import type { ReplaySchemaName } from './orchestrator-episode';

export interface FunctionsHostOptions {
  /** Replay schema the "extension" negotiates (`upperSchemaVersion`); `context.df.lock` needs V4. Default V4. */
  schemaVersion?: ReplaySchemaName;
  /** A host.json whose `extensions.durableTask` settings are used as defaults. */
  hostJson?: string;
  hubName?: string;
  /** Default AnyState, like the extension. */
  overridableExistingInstanceStates?: OverridableStates;
  /**
   * Check-then-insert starts (azure-reference.md §10). Off by default. `true` or `firstWins`: a
   * start of an id whose previous start is still Pending reports success and starts nothing (what
   * the Azure Storage backend does when both starts read the instance table before either wrote
   * it); `lastWins`: it replaces the pending start instead. Either way both callers see success.
   */
  startRace?: boolean | StartRaceMode;
  /** The master and function keys HTTP triggers accept (default: LOCAL_KEYS). */
  keys?: FunctionKeys;
  /**
   * Longest instance id a client may start. Default 100, the limit the Durable docs state; the
   * extension itself checks 256 (DurableClient.MaxInstanceIdLength).
   */
  maxInstanceIdLength?: number;
  /**
   * Keep inputs in TaskScheduled and SubOrchestrationInstanceCreated events. Default false, like the
   * extension (host.json `extensions.durableTask.storeInputsInOrchestrationHistory`).
   */
  storeInputsInOrchestrationHistory?: boolean;
  /** Default 10. */
  maxConcurrentActivityFunctions?: number;
  /** Default 10; also caps entity batches running at once. */
  maxConcurrentOrchestratorFunctions?: number;
  /** Default 50 (the Consumption plan default). */
  maxEntityOperationBatchSize?: number;
  /** `real` (default): wall time; `manual`: time only moves when a test advances it. */
  clock?: ClockMode;
  /** Start time of a `manual` clock. */
  startTime?: Date;
  /** Port of the loopback server (default: an ephemeral port). */
  port?: number;
  /** Echo function logs to the console. */
  logToConsole?: boolean;
  /** Called for every function and system log line. */
  onLog?: (record: LogRecord) => void;
  /** How many log records `host.logs` keeps (default 5000). */
  maxLogRecords?: number;
}

export interface ResolvedHostOptions {
  readonly schemaVersion: ReplaySchemaName;
  readonly hubName: string;
  readonly overridableExistingInstanceStates: OverridableStates;
  readonly startRace: StartRaceMode;
  readonly keys: FunctionKeys;
  readonly maxInstanceIdLength: number;
  readonly storeInputsInOrchestrationHistory: boolean;
  readonly maxConcurrentActivityFunctions: number;
  readonly maxConcurrentOrchestratorFunctions: number;
  readonly maxEntityOperationBatchSize: number;
  readonly clock: ClockMode;
  readonly startTime: Date | undefined;
  readonly port: number;
  readonly logToConsole: boolean;
  readonly onLog: ((record: LogRecord) => void) | undefined;
  readonly maxLogRecords: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function durableTaskSection(hostJsonPath: string | undefined): Record<string, unknown> {
  if (hostJsonPath === undefined) return {};
  const parsed: unknown = JSON.parse(readFileSync(hostJsonPath, 'utf8'));
  const extensions = isRecord(parsed) ? parsed['extensions'] : undefined;
  const durableTask = isRecord(extensions) ? extensions['durableTask'] : undefined;
  return isRecord(durableTask) ? durableTask : {};
}

function numberSetting(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function startRaceMode(option: boolean | StartRaceMode | undefined): StartRaceMode {
  if (option === true) return 'firstWins';
  if (option === false || option === undefined) return 'off';
  return option;
}

export function resolveHostOptions(options: FunctionsHostOptions): ResolvedHostOptions {
  const fromHostJson = durableTaskSection(options.hostJson);
  const overridable = fromHostJson['overridableExistingInstanceStates'];
  return {
    schemaVersion: options.schemaVersion ?? 'V4',
    hubName:
      options.hubName ??
      (typeof fromHostJson['hubName'] === 'string' ? fromHostJson['hubName'] : 'TestHubName'),
    overridableExistingInstanceStates:
      options.overridableExistingInstanceStates ??
      (overridable === 'NonRunningStates' ? 'NonRunningStates' : 'AnyState'),
    startRace: startRaceMode(options.startRace),
    keys: options.keys ?? LOCAL_KEYS,
    maxInstanceIdLength: options.maxInstanceIdLength ?? documentedMaxInstanceIdLength,
    storeInputsInOrchestrationHistory:
      options.storeInputsInOrchestrationHistory ?? fromHostJson['storeInputsInOrchestrationHistory'] === true,
    maxConcurrentActivityFunctions:
      options.maxConcurrentActivityFunctions ??
      numberSetting(fromHostJson['maxConcurrentActivityFunctions']) ??
      10,
    maxConcurrentOrchestratorFunctions:
      options.maxConcurrentOrchestratorFunctions ??
      numberSetting(fromHostJson['maxConcurrentOrchestratorFunctions']) ??
      10,
    maxEntityOperationBatchSize:
      options.maxEntityOperationBatchSize ?? numberSetting(fromHostJson['maxEntityOperationBatchSize']) ?? 50,
    clock: options.clock ?? 'real',
    startTime: options.startTime,
    port: options.port ?? 0,
    logToConsole: options.logToConsole ?? false,
    onLog: options.onLog,
    maxLogRecords: options.maxLogRecords ?? 5000,
  };
}
