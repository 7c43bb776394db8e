/**
 * A local Azure Functions host for v4-programming-model apps with Durable Functions: loads the app,
 * captures its registrations, invokes functions through the real worker path, runs the durable engine
 * and serves the durable HTTP API on loopback. See index.ts for the public surface.
 */
import { loadApp } from './app-loader';
import { type DurableClientData, durableClientData } from './client-binding';
import { durableClientFor } from './client-factory';
import { HostClock } from './clock';
import { addSystemLogSink, type CapturedHook, type CapturedRegistration } from './core-shim';
import { DurableEngine } from './durable-engine';
import { DurableHttpApi } from './durable-http-api';
import { FaultInjector } from './faults';
import { extraInputData, FunctionCatalog } from './function-catalog';
import { type FunctionsHostOptions, type ResolvedHostOptions, resolveHostOptions } from './host-options';
import {
  authLevelOf,
  authorizationProblem,
  type FunctionKeys,
  type HostHttpRequest,
  type HostHttpResponse,
  httpResponse,
  httpRouteOf,
  matchRoute,
  requestBodyBytes,
  responseFromInvocation,
  routePrefix,
  rpcHttpRequest,
} from './http-bridge';
import type { InstanceStatus, RuntimeStatus } from './instance-store';
import { FunctionInvoker, type LogRecord, triggerOf } from './invoke';
import { LoopbackServer } from './loopback-server';
import type { RpcBindingInfo, RpcInvocationResponse, RpcLogLevel, RpcTypedData } from './rpc-types';
import { fromTypedData, toTypedData } from './typed-data';
import { WorkTracker } from './work-tracker';

/** A captured registration as the real host reads it: the exact binding metadata. */
export interface RegisteredFunction {
  readonly name: string;
  readonly triggerType: string;
  /** The trigger binding, with its binding name under `name`. */
  readonly trigger: RpcBindingInfo & { name: string };
  readonly bindings: Readonly<Record<string, RpcBindingInfo>>;
  readonly retryOptions: unknown;
}

export interface InvokeOptions {
  /** Values for non-durable input bindings, by binding name. */
  extraInputs?: Record<string, unknown>;
  /** Trigger metadata (the library camel-cases the keys into `context.triggerMetadata`). */
  triggerMetadata?: Record<string, unknown>;
}

export interface WaitForIdleOptions {
  /** Reject after this long (default 30 s). */
  timeoutMs?: number;
  /** Jump the clock to each pending durable timer instead of waiting for it. */
  fastForward?: boolean;
  /** Safety bound on fast-forward jumps (default 10,000), e.g. for eternal orchestrations. */
  maxTimerJumps?: number;
}

function describe(registration: CapturedRegistration): RegisteredFunction {
  const trigger = triggerOf(registration);
  return {
    name: registration.metadata.name,
    triggerType: String(trigger.binding.type),
    trigger: { ...trigger.binding, name: trigger.name },
    bindings: registration.metadata.bindings,
    retryOptions: registration.metadata.retryOptions,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FunctionsHost {
  readonly clock: HostClock;
  readonly faults = new FaultInjector();
  readonly durable: DurableEngine;
  /** Recent function and system log lines (bounded by `maxLogRecords`). */
  readonly logs: LogRecord[] = [];
  readonly options: ResolvedHostOptions;
  /** The keys HTTP triggers accept (authLevel function / admin), as the app's function and master keys. */
  get keys(): FunctionKeys {
    return this.options.keys;
  }
  private readonly work = new WorkTracker();
  private readonly catalog = new FunctionCatalog();
  private readonly hooks: CapturedHook[] = [];
  private readonly invoker: FunctionInvoker;
  private readonly server: LoopbackServer;
  private stopped = false;
  private readonly removeLogSink: () => void;

  /** Creates a host and starts its loopback server. */
  static async start(options: FunctionsHostOptions = {}): Promise<FunctionsHost> {
    const host = new FunctionsHost(resolveHostOptions(options));
    await host.server.listen(host.options.port);
    return host;
  }

  private constructor(options: ResolvedHostOptions) {
    this.options = options;
    this.clock = new HostClock(options.clock, options.startTime);
    this.invoker = new FunctionInvoker(
      () => this.hooks,
      (record) => this.log(record),
    );
    this.removeLogSink = addSystemLogSink((level, category, message) =>
      this.log({ time: new Date(), functionName: '', invocationId: '', level, category, message }),
    );
    this.durable = new DurableEngine(
      {
        catalog: this.catalog,
        invoker: this.invoker,
        clock: this.clock,
        work: this.work,
        faults: this.faults,
        extraInputs: (registration) => extraInputData(registration, () => this.durableClientData()),
        log: (level, message) => this.hostLog(level, '', message),
      },
      {
        schema: options.schemaVersion,
        overridableExistingInstanceStates: options.overridableExistingInstanceStates,
        startRace: options.startRace,
        maxInstanceIdLength: options.maxInstanceIdLength,
        storeInputsInOrchestrationHistory: options.storeInputsInOrchestrationHistory,
        maxConcurrentOrchestratorFunctions: options.maxConcurrentOrchestratorFunctions,
        maxConcurrentActivityFunctions: options.maxConcurrentActivityFunctions,
        maxEntityOperationBatchSize: options.maxEntityOperationBatchSize,
      },
    );
    this.server = new LoopbackServer({
      api: new DurableHttpApi(this.durable, options.hubName),
      dispatchHttp: (request) => this.http(request),
      work: this.work,
    });
  }

  /** Origin of the loopback server, e.g. http://127.0.0.1:53211. */
  get origin(): string {
    return this.server.origin;
  }

  /** Loads the app's entry modules and adds their registrations; runs new appStart hooks. */
  async loadApp(...entryFiles: string[]): Promise<RegisteredFunction[]> {
    const loaded = loadApp(entryFiles);
    this.catalog.add(loaded.registrations);
    const newHooks = loaded.hooks.filter((h) => !this.hooks.includes(h));
    this.hooks.push(...newHooks);
    for (const hook of newHooks) {
      if (hook.name === 'appStart')
        await hook.callback({ hookData: {}, functionAppDirectory: process.cwd() });
    }
    return this.registrations();
  }

  registrations(): RegisteredFunction[] {
    return this.catalog.all().map(describe);
  }

  /** The durableClient input binding data (what `df.getClient(context)` is built from). */
  durableClientData(): DurableClientData {
    return durableClientData(this.origin, this.options.hubName);
  }

  /** A real `DurableClient` (from `df.getClient`) talking to this host over loopback HTTP. */
  durableClient(): ReturnType<typeof durableClientFor> {
    return durableClientFor(this.durableClientData());
  }

  // ---- triggers ------------------------------------------------------------------------------------

  /** Sends an HTTP request to the HTTP-triggered function whose route matches (`/api/...`). */
  async http(request: HostHttpRequest): Promise<HostHttpResponse> {
    const url = new URL(request.url, this.origin);
    const method = (request.method ?? 'GET').toUpperCase();
    const prefix = `/${routePrefix}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return httpResponse(404, {}, Buffer.alloc(0));
    for (const registration of this.catalog.withTrigger('httpTrigger')) {
      const { route, methods } = httpRouteOf(registration);
      const params = matchRoute(route, url.pathname.slice(prefix.length));
      if (params === undefined || !methods.includes(method)) continue;
      // Keys, as the Functions host checks them before the function runs.
      const headerKey = Object.entries(request.headers ?? {}).find(
        ([name]) => name.toLowerCase() === 'x-functions-key',
      )?.[1];
      const presented =
        request.key === undefined
          ? this.keys.master
          : (request.key ?? headerKey ?? url.searchParams.get('code') ?? undefined);
      const problem = authorizationProblem(authLevelOf(registration), this.keys, presented);
      if (problem !== undefined)
        return httpResponse(
          401,
          { 'content-type': 'application/json' },
          Buffer.from(JSON.stringify({ error: problem })),
        );
      return this.invokeHttpWith(registration, request, params);
    }
    return httpResponse(404, {}, Buffer.alloc(0));
  }

  /** Invokes one HTTP-triggered function by name (route parameters are still parsed from the URL). */
  async invokeHttp(functionName: string, request: HostHttpRequest): Promise<HostHttpResponse> {
    const registration = this.require(functionName, 'httpTrigger');
    const url = new URL(request.url, this.origin);
    const params =
      matchRoute(httpRouteOf(registration).route, url.pathname.slice(routePrefix.length + 1)) ?? {};
    return this.invokeHttpWith(registration, request, params);
  }

  /** Delivers one Event Grid event (an invocation per event, as the trigger does) and awaits the handler. */
  async sendEventGridEvent(functionName: string, event: unknown): Promise<void> {
    const registration = this.require(functionName, 'eventGridTrigger');
    await this.invokeWith(registration, { json: JSON.stringify(event) });
  }

  /** Fires a timer trigger once. */
  async invokeTimer(functionName: string, options: { isPastDue?: boolean } = {}): Promise<void> {
    const registration = this.require(functionName, 'timerTrigger');
    const now = this.clock.now().toISOString();
    const timer = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: now, Next: now, LastUpdated: now },
      IsPastDue: options.isPastDue ?? false,
    };
    await this.invokeWith(registration, { json: JSON.stringify(timer) });
  }

  /**
   * Invokes any function with a trigger value (sent as JSON, or as a string) and returns its decoded
   * return value. `extraInputs` supplies non-durable input bindings by binding name.
   */
  async invoke(functionName: string, triggerValue: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const registration = this.require(functionName);
    const triggerMetadata: Record<string, RpcTypedData> = {};
    for (const [key, value] of Object.entries(options.triggerMetadata ?? {}))
      triggerMetadata[key] = toTypedData(value);
    const response = await this.invokeWith(
      registration,
      toTypedData(triggerValue),
      options.extraInputs,
      triggerMetadata,
    );
    return fromTypedData(response.returnValue);
  }

  // ---- waiting and stopping ------------------------------------------------------------------------

  /** Resolves when no work is pending (and, with a real clock, no durable timer is still to fire). */
  async waitForIdle(options: WaitForIdleOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let jumps = 0;
    for (;;) {
      await this.untilDeadline(this.work.whenIdle(), deadline);
      const failure = this.work.internalErrors.shift();
      if (failure !== undefined) throw failure;
      const next = this.clock.nextTimer();
      if (next === undefined) return;
      if (options.fastForward) {
        if (++jumps > (options.maxTimerJumps ?? 10_000)) throw new Error('waitForIdle: too many timer jumps');
        this.clock.advanceToNextTimer();
        continue;
      }
      if (this.clock.mode === 'manual') return;
      // Sleep until the timer is due (never past the deadline, so no sleeper outlives this call).
      const wait = next.fireAt.getTime() - this.clock.now().getTime();
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(this.describePendingWork());
      await sleep(Math.min(Math.max(wait, 0) + 1, remaining));
    }
  }

  /** Waits until an instance reaches one of `statuses` (default: any final one) and returns its status. */
  async waitForStatus(
    instanceId: string,
    statuses: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Terminated'],
    timeoutMs = 30_000,
  ): Promise<InstanceStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.durable.getStatus(instanceId);
      if (status !== undefined && statuses.includes(status.runtimeStatus)) return status;
      if (Date.now() > deadline) {
        throw new Error(
          `Instance ${instanceId} is ${status?.runtimeStatus ?? 'unknown'}, not ${statuses.join('/')}`,
        );
      }
      await sleep(5);
    }
  }

  /** Cancels timers and pending work, closes the server; leaves no handles behind. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.durable.shutdown();
    this.clock.stop();
    // Give in-flight executions a moment to settle; they can no longer schedule anything.
    await this.untilDeadline(this.work.whenIdle(), Date.now() + 2000).catch(() => undefined);
    for (const hook of this.hooks) if (hook.name === 'appTerminate') await hook.callback({ hookData: {} });
    await this.server.close();
    this.removeLogSink();
  }

  // ---- internals -----------------------------------------------------------------------------------

  private require(functionName: string, triggerType?: string): CapturedRegistration {
    const registration = this.catalog.find(functionName, triggerType);
    if (registration === undefined) {
      throw new Error(
        `No function "${functionName}"${triggerType ? ` with a ${triggerType}` : ''} is registered.`,
      );
    }
    return registration;
  }

  private async invokeWith(
    registration: CapturedRegistration,
    triggerData: RpcTypedData,
    supplied: Record<string, unknown> = {},
    triggerMetadata: Record<string, RpcTypedData> = {},
  ): Promise<RpcInvocationResponse> {
    const end = this.work.begin();
    try {
      const trigger = triggerOf(registration);
      return await this.invoker.invoke(registration, {
        inputData: [
          { name: trigger.name, data: triggerData },
          ...extraInputData(registration, () => this.durableClientData(), supplied),
        ],
        triggerMetadata,
      });
    } finally {
      end();
    }
  }

  private async invokeHttpWith(
    registration: CapturedRegistration,
    request: HostHttpRequest,
    params: Record<string, string>,
  ): Promise<HostHttpResponse> {
    const url = new URL(request.url, this.origin);
    const method = (request.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers ?? {})) headers[key.toLowerCase()] = value;
    const body = requestBodyBytes(request.body);
    if (body !== undefined && typeof request.body === 'object' && !Buffer.isBuffer(request.body)) {
      headers['content-type'] ??= 'application/json';
    }
    try {
      const response = await this.invokeWith(registration, {
        http: rpcHttpRequest(method, url, headers, params, body),
      });
      return responseFromInvocation(response);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.hostLog(
        'error',
        registration.metadata.name,
        `Executed '${registration.metadata.name}' (Failed): ${message}`,
      );
      return httpResponse(500, {}, Buffer.alloc(0));
    }
  }

  private hostLog(level: RpcLogLevel, functionName: string, message: string): void {
    this.log({ time: new Date(), functionName, invocationId: '', level, category: 'system', message });
  }

  private log(record: LogRecord): void {
    this.logs.push(record);
    if (this.logs.length > this.options.maxLogRecords)
      this.logs.splice(0, this.logs.length - this.options.maxLogRecords);
    this.options.onLog?.(record);
    if (this.options.logToConsole) console.log(`[${record.level}] ${record.functionName}: ${record.message}`);
  }

  private async untilDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(this.describePendingWork())),
        Math.max(deadline - Date.now(), 0),
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private describePendingWork(): string {
    const running = this.durable.instances
      .all()
      .filter((r) => r.status === 'Running' || r.status === 'Pending')
      .map((r) => `${r.instanceId} (${r.name}, ${r.status})`);
    return (
      `waitForIdle timed out: ${this.work.inFlight} work item(s) in flight, ` +
      `${this.clock.pendingTimers().length} durable timer(s) pending, running instances: ${running.join(', ') || 'none'}`
    );
  }
}
