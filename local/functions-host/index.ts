/**
 * Local Functions host for Azure Functions v4 (Node) apps using Durable Functions, for tests and
 * local runs without Azure, Docker or Core Tools. Importing this module installs the
 * `@azure/functions-core` shim, so import it before any app module registers functions.
 */
import './core-shim';

export type { DurableClientData, ManagementUrls } from './client-binding';
export type { ClockMode, ClockTimer, HostClock } from './clock';
export type { HostCounters } from './counters';
export {
  type ClientResult,
  DurableEngine,
  type EpisodeReport,
  InstanceExistsError,
  type OverridableStates,
  type StartRaceMode,
  UnknownFunctionError,
} from './durable-engine';
export type { EntityRecord } from './entity-scheduler';
export { schedulerIdOf } from './entity-scheduler';
export {
  type ActivityCall,
  type ActivityMatcher,
  type ChaosOptions,
  FaultInjector,
  seededRandom,
} from './faults';
export { EventType, type HistoryEvent } from './history';
export { FunctionsHost, type InvokeOptions, type RegisteredFunction, type WaitForIdleOptions } from './host';
export type { FunctionsHostOptions } from './host-options';
export type { HostHttpRequest, HostHttpResponse } from './http-bridge';
export { documentedMaxInstanceIdLength, InvalidInstanceIdError } from './instance-ids';
export type { InstanceQuery, InstanceStatus, RuntimeStatus } from './instance-store';
export type { LogRecord } from './invoke';
export type { ReplaySchemaName } from './orchestrator-episode';
