/**
 * Durable entities: one FIFO queue per entity id, operations run serially per entity and in batches
 * (up to `maxEntityOperationBatchSize`), state kept as a JSON string exactly as the SDK hands it back.
 * Critical sections: a lock request travels through the sorted lock set one entity at a time; a locked
 * entity only serves its owner's messages until the owner releases it.
 */
import { randomUUID } from 'node:crypto';
import type { CapturedRegistration } from './core-shim';
import { bump, type HostCounters } from './counters';
import type { FunctionCatalog } from './function-catalog';
import { triggerOf } from './invoke';
import type { RpcInvocationResponse, RpcParameterBinding } from './rpc-types';
import { fromTypedData } from './typed-data';
import type { Limiter, WorkTracker } from './work-tracker';

export interface EntityParent {
  readonly instanceId: string;
  readonly executionId: string;
}

export type EntityMessage =
  | {
      readonly kind: 'operation';
      readonly id: string;
      readonly op: string;
      readonly signal: boolean;
      readonly inputJson: string | undefined;
      readonly parent: EntityParent | undefined;
    }
  | {
      readonly kind: 'lock';
      readonly id: string;
      readonly lockSet: readonly string[];
      readonly position: number;
      readonly parent: EntityParent;
    }
  | { readonly kind: 'release'; readonly parent: EntityParent };

export interface EntityRecord {
  readonly schedulerId: string;
  readonly name: string;
  readonly key: string;
  exists: boolean;
  stateJson: string | undefined;
  readonly queue: EntityMessage[];
  /** Orchestration instance holding this entity's lock. */
  lockedBy: string | undefined;
  busy: boolean;
  operations: number;
  lastOperationTime: Date | undefined;
}

/** What the orchestrator receives for a call: the ResponseMessage JSON the SDK parses. */
export interface EntityResponse {
  readonly requestId: string;
  readonly inputJson: string;
}

export interface EntitySchedulerDeps {
  readonly catalog: FunctionCatalog;
  readonly invoke: (
    registration: CapturedRegistration,
    inputData: RpcParameterBinding[],
  ) => Promise<RpcInvocationResponse>;
  readonly extraInputs: (registration: CapturedRegistration) => RpcParameterBinding[];
  readonly respond: (parent: EntityParent, response: EntityResponse) => void;
  readonly counters: HostCounters;
  readonly work: WorkTracker;
  readonly limiter: Limiter;
  readonly maxBatch: number;
  readonly now: () => Date;
}

interface OperationResultWire {
  isError?: boolean;
  result?: string;
}

interface SignalWire {
  target?: { name?: string; key?: string };
  name?: string;
  input?: string;
}

interface EntityStateWire {
  entityExists?: boolean;
  entityState?: string;
  results?: OperationResultWire[];
  signals?: SignalWire[];
}

type OperationMessage = Extract<EntityMessage, { kind: 'operation' }>;

/** "@name@key" with the name lowercased, as EntityId.getSchedulerIdFromEntityId builds it. */
export function schedulerIdOf(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

export function parseSchedulerId(schedulerId: string): { name: string; key: string } {
  const at = schedulerId.indexOf('@', 1);
  if (!schedulerId.startsWith('@') || at < 0) throw new Error(`Not an entity instance id: ${schedulerId}`);
  return { name: schedulerId.slice(1, at), key: schedulerId.slice(at + 1) };
}

export class EntityScheduler {
  private readonly entities = new Map<string, EntityRecord>();

  constructor(private readonly deps: EntitySchedulerDeps) {}

  send(schedulerId: string, message: EntityMessage): void {
    const entity = this.entity(schedulerId);
    entity.queue.push(message);
    this.pump(entity);
  }

  get(schedulerId: string): EntityRecord | undefined {
    return this.entities.get(schedulerId);
  }

  all(): EntityRecord[] {
    return [...this.entities.values()];
  }

  /**
   * Purging an entity's instance id (`@name@key`) removes its records, state included, as the Azure
   * Storage backend's purge does. An entity with queued work or a lock is left alone (false). Without a
   * purge, an entity whose state was deleted keeps its record (the backend removes those only through
   * entity storage cleanup, which the JavaScript client does not offer).
   */
  remove(schedulerId: string): boolean {
    const entity = this.entities.get(schedulerId);
    if (entity === undefined || entity.busy || entity.queue.length > 0 || entity.lockedBy !== undefined)
      return false;
    return this.entities.delete(schedulerId);
  }

  /** Drops every lock an ended orchestration still holds or is waiting for. */
  releaseAll(instanceId: string): void {
    for (const entity of this.entities.values()) {
      const before = entity.queue.length;
      for (let i = entity.queue.length - 1; i >= 0; i--) {
        const message = entity.queue[i];
        if (message?.kind !== 'operation' && message?.parent.instanceId === instanceId)
          entity.queue.splice(i, 1);
      }
      if (entity.lockedBy === instanceId || before !== entity.queue.length) {
        if (entity.lockedBy === instanceId) entity.lockedBy = undefined;
        this.pump(entity);
      }
    }
  }

  private entity(schedulerId: string): EntityRecord {
    let entity = this.entities.get(schedulerId);
    if (entity === undefined) {
      const { name, key } = parseSchedulerId(schedulerId);
      entity = {
        schedulerId,
        name,
        key,
        exists: false,
        stateJson: undefined,
        queue: [],
        lockedBy: undefined,
        busy: false,
        operations: 0,
        lastOperationTime: undefined,
      };
      this.entities.set(schedulerId, entity);
    }
    return entity;
  }

  private eligible(entity: EntityRecord, message: EntityMessage): boolean {
    return entity.lockedBy === undefined || message.parent?.instanceId === entity.lockedBy;
  }

  /** Handles lock traffic inline and starts the next operation batch, unless one is running. */
  private pump(entity: EntityRecord): void {
    while (!entity.busy) {
      const index = entity.queue.findIndex((m) => this.eligible(entity, m));
      const message = entity.queue[index];
      if (message === undefined) return;
      if (message.kind === 'lock') {
        entity.queue.splice(index, 1);
        this.acquire(entity, message);
        continue;
      }
      if (message.kind === 'release') {
        entity.queue.splice(index, 1);
        if (entity.lockedBy === message.parent.instanceId) entity.lockedBy = undefined;
        continue;
      }
      this.startBatch(entity, this.takeBatch(entity, index));
      return;
    }
  }

  private acquire(entity: EntityRecord, message: Extract<EntityMessage, { kind: 'lock' }>): void {
    entity.lockedBy = message.parent.instanceId;
    const next = message.lockSet[message.position + 1];
    if (next !== undefined) {
      this.send(next, { ...message, position: message.position + 1 });
      return;
    }
    const inputJson = JSON.stringify({ result: JSON.stringify('Lock Acquisition Completed') });
    this.deps.respond(message.parent, { requestId: message.id, inputJson });
  }

  /** Consecutive eligible operations from `start`, stopping at lock traffic (which must wait its turn). */
  private takeBatch(entity: EntityRecord, start: number): OperationMessage[] {
    const batch: OperationMessage[] = [];
    let i = start;
    while (i < entity.queue.length && batch.length < this.deps.maxBatch) {
      const message = entity.queue[i];
      if (message === undefined) break;
      if (!this.eligible(entity, message)) {
        i += 1;
        continue;
      }
      if (message.kind !== 'operation') break;
      batch.push(message);
      entity.queue.splice(i, 1);
    }
    return batch;
  }

  private startBatch(entity: EntityRecord, batch: OperationMessage[]): void {
    entity.busy = true;
    this.deps.work.run(async () => {
      try {
        await this.deps.limiter.run(() => this.executeBatch(entity, batch));
      } finally {
        entity.busy = false;
        this.pump(entity);
      }
    });
  }

  private async executeBatch(entity: EntityRecord, batch: OperationMessage[]): Promise<void> {
    const { counters } = this.deps;
    counters.entityBatches += 1;
    counters.entityOperations += batch.length;
    bump(counters.entityOperationsByName, entity.name, batch.length);
    entity.operations += batch.length;
    entity.lastOperationTime = this.deps.now();
    const registration = this.deps.catalog.find(entity.name, 'entityTrigger');
    if (registration === undefined) {
      this.failAll(
        batch,
        'EntityFunctionNotFound',
        `The function '${entity.name}' doesn't exist or is not an entity.`,
      );
      return;
    }
    let result: EntityStateWire;
    try {
      result = await this.invokeEntity(registration, entity, batch);
    } catch (err) {
      this.failAll(batch, 'Error', err instanceof Error ? err.message : String(err));
      return;
    }
    entity.exists = result.entityExists === true;
    entity.stateJson = entity.exists ? result.entityState : undefined;
    batch.forEach((message, i) => {
      if (message.signal || message.parent === undefined) return;
      const outcome = result.results?.[i];
      // The extension's ResponseMessage always writes `result` (null for none), `exceptionType` on errors.
      const response = {
        result: outcome?.result ?? null,
        ...(outcome?.isError === true ? { exceptionType: 'Error' } : {}),
      };
      this.deps.respond(message.parent, { requestId: message.id, inputJson: JSON.stringify(response) });
    });
    for (const signal of result.signals ?? []) {
      const name = signal.target?.name;
      const key = signal.target?.key;
      if (name === undefined || key === undefined || signal.name === undefined) continue;
      this.send(schedulerIdOf(name, key), {
        kind: 'operation',
        id: randomUUID(),
        op: signal.name,
        signal: true,
        inputJson: signal.input === '' ? undefined : signal.input,
        parent: undefined,
      });
    }
  }

  private async invokeEntity(
    registration: CapturedRegistration,
    entity: EntityRecord,
    batch: OperationMessage[],
  ): Promise<EntityStateWire> {
    const payload = {
      self: { name: entity.name, key: entity.key },
      exists: entity.exists,
      state: entity.stateJson,
      batch: batch.map((m) => ({ id: m.id, name: m.op, signal: m.signal, input: m.inputJson })),
    };
    const trigger = triggerOf(registration);
    const response = await this.deps.invoke(registration, [
      { name: trigger.name, data: { string: JSON.stringify(payload) } },
      ...this.deps.extraInputs(registration),
    ]);
    const value = fromTypedData(response.returnValue);
    if (typeof value !== 'object' || value === null)
      throw new Error('The entity function returned no EntityState.');
    return value as EntityStateWire;
  }

  private failAll(batch: OperationMessage[], exceptionType: string, message: string): void {
    for (const op of batch) {
      if (op.signal || op.parent === undefined) continue;
      const inputJson = JSON.stringify({ result: JSON.stringify(message), exceptionType });
      this.deps.respond(op.parent, { requestId: op.id, inputJson });
    }
  }
}
