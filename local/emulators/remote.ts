/**
 * The parent side of the emulator process: forks local/emulators/child.ts, and gives the offline stack an
 * AzuriteHandle and an EventHubsServer that talk to it. What cannot cross a process boundary
 * synchronously (the hub's stored events, a fault with a caller's rng) throws EmulatorProcessError:
 * tests that need those run the emulators in-process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { extname, join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import {
  AZURITE_ACCOUNT_KEY,
  AZURITE_ACCOUNT_NAME,
  type AzuriteHandle,
  type AzuriteOptions,
} from '../azurite';
import type {
  Counters,
  EventHubsServer,
  EventHubsServerOptions,
  EventListener,
  FaultControls,
  ReceivedEvent,
} from '../eventhubs';
import type { ChildMessage, ParentMessage, ProcessUsage, RemoteFault, WireEvent } from './protocol';

export type { ProcessUsage } from './protocol';

export class EmulatorProcessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmulatorProcessError';
  }
}

export interface EmulatorProcess {
  readonly pid: number;
  readonly azurite: AzuriteHandle;
  readonly eventHubs: EventHubsServer;
  /** CPU and memory of the emulator process so far. */
  usage(): Promise<ProcessUsage>;
  /** Stops both emulators and waits for the process to exit (killed after 5 s); idempotent. */
  stop(): Promise<void>;
}

export interface EmulatorProcessOptions {
  readonly azurite?: AzuriteOptions;
  readonly eventHubs: EventHubsServerOptions;
  /** Extra node flags for the child (e.g. `--cpu-prof`). */
  readonly execArgv?: readonly string[];
  /** Longest wait for the child to come up (default 30 s). */
  readonly startTimeoutMs?: number;
}

const STOP_GRACE_MS = 5000;
const STDERR_TAIL = 4000;

/** The child runs from the same tree as this file: compiled JS in dist/, TypeScript through tsx otherwise. */
function childEntry(): { file: string; execArgv: string[] } {
  const ext = extname(__filename);
  return { file: join(__dirname, `child${ext}`), execArgv: ext === '.ts' ? ['--require', 'tsx/cjs'] : [] };
}

export async function startEmulatorProcess(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const entry = childEntry();
  const child = fork(entry.file, [], {
    execArgv: [...entry.execArgv, ...(options.execArgv ?? [])],
    serialization: 'advanced',
    // Nothing on stdout (it would tear the live screen); stderr kept for the error of a failed start.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL);
  });
  const exited = once(child, 'exit').then(() => undefined);

  const ready = await new Promise<Extract<ChildMessage, { kind: 'ready' }>>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      reject(
        new EmulatorProcessError(`the emulator process did not start within ${timeoutMs} ms: ${stderrTail}`),
      );
    }, timeoutMs);
    const onMessage = (m: ChildMessage) => {
      if (m.kind === 'ready') {
        cleanup();
        resolve(m);
      } else if (m.kind === 'failed') {
        cleanup();
        const cause = Object.assign(new Error(m.message), { stack: m.stack });
        reject(new EmulatorProcessError(`the emulator process failed to start: ${m.message}`, { cause }));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(
        new EmulatorProcessError(
          `the emulator process exited before it was ready (code ${code}, signal ${signal}): ${stderrTail}`,
        ),
      );
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new EmulatorProcessError('the emulator process could not be started', { cause: error }));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onError);
    post(child, { kind: 'start', azurite: options.azurite ?? {}, eventHubs: options.eventHubs });
  });

  return new RemoteEmulators(child, ready, exited);
}

function post(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message);
}

class RemoteEmulators implements EmulatorProcess {
  readonly pid: number;
  readonly azurite: AzuriteHandle;
  readonly eventHubs: EventHubsServer;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<number, EventListener>();
  private nextId = 1;
  private stopping: Promise<void> | undefined;
  private readonly counters: Counters = { sends: 0, batches: 0, events: 0, faultsInjected: 0 };
  private connections = 0;

  constructor(
    private readonly child: ChildProcess,
    ready: Extract<ChildMessage, { kind: 'ready' }>,
    private readonly exited: Promise<void>,
  ) {
    this.pid = child.pid ?? -1;
    child.on('message', (m: ChildMessage) => this.receive(m));
    child.on('exit', () => {
      for (const call of this.calls.values())
        call.reject(new EmulatorProcessError('the emulator process exited'));
      this.calls.clear();
    });
    this.azurite = this.azuriteHandle(ready.azurite.blobEndpoint, ready.azurite.tableEndpoint);
    this.eventHubs = this.eventHubsServer(ready.eventHubsPort);
  }

  usage(): Promise<ProcessUsage> {
    return this.call('usage') as Promise<ProcessUsage>;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const kill = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
        await this.call('stop').catch(() => undefined);
        await this.exited;
        clearTimeout(kill);
      }
      this.listeners.clear();
    })();
    return this.stopping;
  }

  private call(op: 'usage' | 'stop'): Promise<unknown> {
    if (!this.child.connected)
      return Promise.reject(new EmulatorProcessError('the emulator process is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      post(this.child, { kind: 'call', id, op });
    });
  }

  private receive(m: ChildMessage): void {
    if (m.kind === 'result' || m.kind === 'error') {
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.kind === 'result') call?.resolve(m.value);
      else call?.reject(new EmulatorProcessError(m.message));
      return;
    }
    if (m.kind !== 'events') return;
    Object.assign(this.counters, m.counters);
    this.connections = m.openConnections;
    for (const { sub, events } of m.batches) {
      const listener = this.listeners.get(sub);
      if (listener === undefined) continue;
      for (const e of events) listener(fromWire(e));
    }
  }

  private azuriteHandle(blobEndpoint: string, tableEndpoint: string): AzuriteHandle {
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
      `BlobEndpoint=${blobEndpoint};TableEndpoint=${tableEndpoint};`;
    return {
      accountName: AZURITE_ACCOUNT_NAME,
      accountKey: AZURITE_ACCOUNT_KEY,
      blobEndpoint,
      tableEndpoint,
      connectionString,
      blobServiceClient: () => BlobServiceClient.fromConnectionString(connectionString),
      tableClient: (table: string) =>
        TableClient.fromConnectionString(connectionString, table, { allowInsecureConnection: true }),
      // One process holds both emulators: stopping either stops it.
      stop: () => this.stop(),
    };
  }

  private eventHubsServer(port: number): EventHubsServer {
    const fault = (f: RemoteFault) => post(this.child, { kind: 'fault', ...f });
    const faults: FaultControls = {
      failNextSends: (n, condition, description) =>
        fault({ method: 'failNextSends', args: [n, condition, description] }),
      dropConnectionOnNextSend: (o) => fault({ method: 'dropConnectionOnNextSend', args: [o] }),
      delayReplies: (ms) => fault({ method: 'delayReplies', args: [ms] }),
      failSendProbability: (p, rng, condition) => {
        if (rng !== undefined)
          throw new EmulatorProcessError(
            'failSendProbability with an rng needs the in-process emulators (a function cannot cross to the emulator process)',
          );
        fault({ method: 'failSendProbability', args: [p, undefined, condition] });
      },
      reset: () => fault({ method: 'reset', args: [] }),
    };
    return {
      port,
      connectionString: (hub) =>
        `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=x;UseDevelopmentEmulator=true;EntityPath=${hub}`,
      events: () => {
        throw new EmulatorProcessError(
          'the stored events live in the emulator process: subscribe with onEvent, or start the stack with in-process emulators',
        );
      },
      onEvent: (listener, subscription) => {
        const sub = this.nextId++;
        this.listeners.set(sub, listener);
        post(this.child, {
          kind: 'subscribe',
          sub,
          ...(subscription?.bodyFields !== undefined ? { bodyFields: subscription.bodyFields } : {}),
        });
        return () => {
          this.listeners.delete(sub);
          post(this.child, { kind: 'unsubscribe', sub });
        };
      },
      faults,
      counters: this.counters,
      openConnections: () => this.connections,
      stop: () => this.stop(),
    };
  }
}

function fromWire(wire: WireEvent): ReceivedEvent {
  const { bodyIsBytes, ...e } = wire;
  // Structured clone turns a Buffer into a plain Uint8Array: give listeners Buffers again (no copy).
  const bytes = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const id = (v: WireEvent['messageId']) => (v instanceof Uint8Array ? bytes(v) : v);
  const body = bodyIsBytes && e.body instanceof Uint8Array ? bytes(e.body) : e.body;
  return {
    ...e,
    body,
    enqueuedTime: new Date(e.enqueuedTime),
    bodyBytes: bodyIsBytes ? (body as Buffer) : undefined,
    messageId: id(e.messageId),
    correlationId: id(e.correlationId),
  };
}
