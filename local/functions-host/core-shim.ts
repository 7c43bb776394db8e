/**
 * Stands in for `@azure/functions-core`, the module only the real Functions worker provides.
 *
 * Without it `@azure/functions` switches to "test mode" and silently drops every registration. The
 * library looks the module up lazily, on the first `app.*` registration, and caches the answer for the
 * life of the process, so this hook must be installed before any app module registers a function:
 * importing `local/functions-host` installs it.
 *
 * Registrations are process-wide (a module registers once, when first required), so each captured
 * registration remembers which module file was executing when it was made. A host then keeps the
 * registrations of the modules reachable from the entry files it loads, which lets several hosts in one
 * test process load the same app.
 */
import nodeModule = require('node:module');

import type {
  Disposable,
  FunctionCallback,
  FunctionMetadata,
  HookCallback,
  ProgrammingModel,
  RpcLogCategory,
  RpcLogLevel,
} from './rpc-types';

export interface CapturedRegistration {
  readonly metadata: FunctionMetadata;
  readonly callback: FunctionCallback;
  /** The module whose top-level code made the registration (undefined when made later). */
  readonly moduleFile: string | undefined;
  disposed: boolean;
}

export interface CapturedHook {
  readonly name: string;
  readonly callback: HookCallback;
  readonly moduleFile: string | undefined;
  disposed: boolean;
}

export type SystemLogSink = (level: RpcLogLevel, category: RpcLogCategory, message: string) => void;

interface ShimState {
  programmingModel: ProgrammingModel | undefined;
  readonly registrations: CapturedRegistration[];
  readonly hooks: CapturedHook[];
  /** Files whose top-level code is running right now, innermost last. */
  readonly compiling: string[];
  readonly systemLogSinks: Set<SystemLogSink>;
}

const state: ShimState = {
  programmingModel: undefined,
  registrations: [],
  hooks: [],
  compiling: [],
  systemLogSinks: new Set(),
};

function currentModuleFile(): string | undefined {
  return state.compiling[state.compiling.length - 1];
}

/** The object `require('@azure/functions-core')` returns inside the app. */
const coreApi = {
  version: '3.10.1-local',
  setProgrammingModel(model: ProgrammingModel): void {
    state.programmingModel = model;
  },
  getProgrammingModel(): ProgrammingModel | undefined {
    return state.programmingModel;
  },
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    const registration: CapturedRegistration = {
      metadata,
      callback,
      moduleFile: currentModuleFile(),
      disposed: false,
    };
    state.registrations.push(registration);
    return {
      dispose(): void {
        registration.disposed = true;
      },
    };
  },
  registerHook(name: string, callback: HookCallback): Disposable {
    const hook: CapturedHook = { name, callback, moduleFile: currentModuleFile(), disposed: false };
    state.hooks.push(hook);
    return {
      dispose(): void {
        hook.disposed = true;
      },
    };
  },
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    for (const sink of state.systemLogSinks) sink(level, category, message);
  },
};

interface ModuleInternals {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  prototype: { _compile(content: string, filename: string): unknown };
}

let installed = false;

/** Installs the `Module._load` hook (idempotent). */
export function installCoreShim(): void {
  if (installed) return;
  installed = true;
  const moduleInternals = nodeModule as unknown as ModuleInternals;
  const originalLoad = moduleInternals._load;
  moduleInternals._load = function loadWithCoreShim(this: unknown, request, parent, isMain) {
    if (request === '@azure/functions-core') return coreApi;
    return originalLoad.call(this, request, parent, isMain);
  };
  // Wrapping _compile tells us which module's top-level code is running when a registration arrives.
  const originalCompile = moduleInternals.prototype._compile;
  moduleInternals.prototype._compile = function compileWithAttribution(this: unknown, content, filename) {
    state.compiling.push(filename);
    try {
      return originalCompile.call(this, content, filename);
    } finally {
      state.compiling.pop();
    }
  };
}

export function programmingModel(): ProgrammingModel | undefined {
  return state.programmingModel;
}

export function allRegistrations(): readonly CapturedRegistration[] {
  return state.registrations;
}

export function allHooks(): readonly CapturedHook[] {
  return state.hooks;
}

/** Routes the library's worker "system" logs to `sink` (every running host); returns a remover. */
export function addSystemLogSink(sink: SystemLogSink): () => void {
  state.systemLogSinks.add(sink);
  return () => state.systemLogSinks.delete(sink);
}

installCoreShim();
