/**
 * Loads an app's entry modules and picks out the registrations (and hooks) that belong to it: those
 * made by a module reachable from the entries through the require graph. A module that is already in
 * the require cache is not re-run, but its earlier registrations are still found this way.
 */
import * as path from 'node:path';
import {
  allHooks,
  allRegistrations,
  type CapturedHook,
  type CapturedRegistration,
  programmingModel,
} from './core-shim';

export interface LoadedApp {
  readonly registrations: CapturedRegistration[];
  readonly hooks: CapturedHook[];
}

function reachableModules(entryFiles: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...entryFiles];
  while (stack.length > 0) {
    const file = stack.pop();
    if (file === undefined || seen.has(file)) continue;
    seen.add(file);
    const cached = require.cache[file];
    for (const child of cached?.children ?? []) stack.push(child.filename);
  }
  return seen;
}

function belongs(moduleFile: string | undefined, modules: Set<string>): boolean {
  // A registration made outside any module's top-level code cannot be attributed: keep it.
  return moduleFile === undefined || modules.has(moduleFile);
}

export function loadApp(entryFiles: readonly string[]): LoadedApp {
  const resolved = entryFiles.map((file) => require.resolve(path.resolve(file)));
  for (const file of resolved) require(file);
  const modules = reachableModules(resolved);
  const registrations = allRegistrations().filter((r) => !r.disposed && belongs(r.moduleFile, modules));
  const hooks = allHooks().filter((h) => !h.disposed && belongs(h.moduleFile, modules));
  if (registrations.length === 0 && programmingModel() === undefined) {
    throw new Error(
      'No function registrations were captured. "@azure/functions" was probably required (and registered in ' +
        'test mode) before local/functions-host installed its @azure/functions-core shim: import the host first.',
    );
  }
  const seen = new Map<string, CapturedRegistration>();
  for (const registration of registrations) {
    const key = registration.metadata.name.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined && earlier !== registration) {
      throw new Error(`A function with name "${registration.metadata.name}" has already been registered.`);
    }
    seen.set(key, registration);
  }
  return { registrations, hooks };
}
