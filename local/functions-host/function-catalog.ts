/**
 * The functions a host serves, looked up by name the way the Functions host does (case-insensitive),
 * and the binding data for a function's non-trigger inputs.
 */
import type { CapturedRegistration } from './core-shim';
import { isTriggerType, triggerOf } from './invoke';
import type { RpcParameterBinding } from './rpc-types';
import { toTypedData } from './typed-data';

export class FunctionCatalog {
  private readonly byName = new Map<string, CapturedRegistration>();

  add(registrations: readonly CapturedRegistration[]): void {
    for (const registration of registrations) {
      const key = registration.metadata.name.toLowerCase();
      const existing = this.byName.get(key);
      if (existing !== undefined && existing !== registration) {
        throw new Error(`A function with name "${registration.metadata.name}" has already been registered.`);
      }
      this.byName.set(key, registration);
    }
  }

  all(): CapturedRegistration[] {
    return [...this.byName.values()].filter((r) => !r.disposed);
  }

  find(name: string, triggerType?: string): CapturedRegistration | undefined {
    const registration = this.byName.get(name.toLowerCase());
    if (registration === undefined || registration.disposed) return undefined;
    if (
      triggerType !== undefined &&
      triggerOf(registration).binding.type?.toLowerCase() !== triggerType.toLowerCase()
    ) {
      return undefined;
    }
    return registration;
  }

  withTrigger(triggerType: string): CapturedRegistration[] {
    return this.all().filter((r) => triggerOf(r).binding.type?.toLowerCase() === triggerType.toLowerCase());
  }
}

export function isDurableClientBinding(type: unknown): boolean {
  return type === 'durableClient' || type === 'orchestrationClient';
}

/**
 * Input data for every non-trigger input binding: the durable client payload for durableClient
 * bindings, a caller-supplied value (by binding name) for anything else.
 */
export function extraInputData(
  registration: CapturedRegistration,
  durableClientData: () => unknown,
  supplied: Record<string, unknown> = {},
): RpcParameterBinding[] {
  const bindings: RpcParameterBinding[] = [];
  for (const [name, binding] of Object.entries(registration.metadata.bindings)) {
    if (binding.direction !== 'in' || isTriggerType(binding.type)) continue;
    if (isDurableClientBinding(binding.type)) {
      bindings.push({ name, data: { string: JSON.stringify(durableClientData()) } });
    } else if (name in supplied) {
      bindings.push({ name, data: toTypedData(supplied[name]) });
    }
  }
  return bindings;
}
