import type { DurableClient } from 'durable-functions';
import * as df from 'durable-functions';
import type { AppConfig } from '../adapters/config';
import type { ProcessBlobInput } from '../common/contracts';
import { names } from '../common/names';
import { type BlobRef, blobKey } from '../domain/blob-ref';
import {
  type BlobState,
  isStale,
  type Observation,
  type RerunFrom,
  withDefaults,
} from '../domain/blob-state';
import { murmur128Hex } from '../domain/hash';

const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew']);

export const blobEntity = (key: string) => new df.EntityId(names.blobStateEntity, key);
/** The instance id under which the task hub stores a blob's entity (`@name@key`). */
export const entityInstanceId = (key: string) => `@${names.blobStateEntity.toLowerCase()}@${key}`;

/** What asked for a run: a BlobCreated event, the sweep, or an operator. */
export type RunOrigin = 'event' | 'sweep' | 'operator';
const ORIGIN_TAG: Record<RunOrigin, string> = { event: 'e', sweep: 's', operator: 'o' };

/**
 * The instance id of a claim: the blob key, what asked, and 16 hex digits of a hash of what makes the
 * request unique (the event id, the sweep time, the operator request). Only `[a-z0-9-]`, at most 86
 * characters: within the backend's instance-id rules. A redelivered event maps to the same id.
 */
export function runInstanceId(key: string, origin: RunOrigin, discriminator: string): string {
  return `${key}-${ORIGIN_TAG[origin]}${murmur128Hex(discriminator).slice(0, 16)}`;
}

/** The blob key an instance id belongs to (the part before the origin tag), or undefined. */
export function blobKeyOfInstance(instanceId: string): string | undefined {
  return /^([a-z0-9]+-(?:[0-9]{10}|nohour)-[0-9a-f]{32})-[eso][0-9a-f]{16}$/.exec(instanceId)?.[1];
}

export interface ClaimRequest {
  readonly ref: BlobRef;
  readonly instanceId: string;
  readonly observation?: Observation;
  readonly rerunFrom?: RerunFrom;
  /** A run seen dead (deadRun): the claim replaces it. */
  readonly replaceRun?: string;
}

export interface DeadRun {
  readonly instanceId: string;
  /** `ended`: its instance is over (terminated, failed, purged) yet it holds the blob; `stuck`: no progress. */
  readonly reason: 'ended' | 'stuck';
  readonly runtimeStatus: string | null;
}

/**
 * The run holding the blob, if it can no longer finish: its instance ended without committing or failing
 * (an operator terminated it, its history was purged) or it made no progress past the bound. A live run
 * releases the blob before its instance ends, so an ended instance that still holds it is dead.
 */
export async function deadRun(
  client: DurableClient,
  state: BlobState | undefined,
  now: Date,
  stuckAfterMs: number,
): Promise<DeadRun | undefined> {
  const run = state?.run;
  if (!run) return undefined;
  let runtimeStatus: string | null;
  try {
    runtimeStatus = String((await client.getStatus(run.instanceId)).runtimeStatus);
  } catch (error) {
    // Unknown to the task hub (purged, or its start was lost): it can never release the blob. Any other
    // failure to ask says nothing about the run: it is not replaced on a guess.
    if (!/\b404\b/.test((error as Error).message)) return undefined;
    runtimeStatus = null;
  }
  if (runtimeStatus === null || !ACTIVE.has(runtimeStatus))
    return { instanceId: run.instanceId, reason: 'ended', runtimeStatus };
  if (now.getTime() - Date.parse(run.lastProgressAt) > stuckAfterMs)
    return { instanceId: run.instanceId, reason: 'stuck', runtimeStatus };
  return undefined;
}

/**
 * Starts the orchestration that claims the blob (see domain/blob-state.ts `claim`): one call, no waiting
 * for any run. `duplicate`: an instance with this id is already running (the same event delivered again),
 * so this request is being handled.
 */
export async function startClaim(
  client: DurableClient,
  config: AppConfig,
  request: ClaimRequest,
): Promise<'started' | 'duplicate'> {
  const input: ProcessBlobInput = {
    ref: request.ref,
    key: blobKey(request.ref),
    stuckAfterMs: config.stuckRunMs,
    ...(request.observation ? { observation: request.observation } : {}),
    ...(request.rerunFrom !== undefined ? { rerunFrom: request.rerunFrom } : {}),
    ...(request.replaceRun !== undefined ? { replaceRun: request.replaceRun } : {}),
  };
  try {
    await client.startNew(names.processBlob, { instanceId: request.instanceId, input });
    return 'started';
  } catch (error) {
    const status = await client.getStatus(request.instanceId).catch(() => undefined);
    if (status && ACTIVE.has(String(status.runtimeStatus))) return 'duplicate';
    throw error;
  }
}

export interface PokeOptions {
  readonly now: Date;
  /** Drop the observation if the entity shows it read already (events; the sweep knows it is behind). */
  readonly dropStale: boolean;
  /** Terminate a stuck run before replacing it (the sweep; the trigger must stay quick). */
  readonly terminateStuck: boolean;
}

/**
 * The one path of an observation (an event, a sweep poke) to a claim: read the blob's entity once, drop a
 * stale observation, name a run that holds the blob but can never finish for replacement (and terminate it
 * when stuck, if asked), and start the claim.
 */
export async function pokeBlob(
  client: DurableClient,
  config: AppConfig,
  request: Omit<ClaimRequest, 'replaceRun'> & { readonly observation: Observation },
  options: PokeOptions,
): Promise<{ outcome: 'stale' | 'started' | 'duplicate'; dead?: DeadRun }> {
  const key = blobKey(request.ref);
  const current = await client.readEntityState<BlobState>(blobEntity(key));
  const state = current.entityExists && current.entityState ? withDefaults(current.entityState) : undefined;
  const { contentLength, sequencer } = request.observation;
  if (options.dropStale && state && isStale(state, contentLength, sequencer)) return { outcome: 'stale' };
  const dead = await deadRun(client, state, options.now, config.stuckRunMs);
  if (dead?.reason === 'stuck' && options.terminateStuck)
    await client.terminate(dead.instanceId, 'no progress past FLOWLOG_STUCK_RUN_MINUTES; replaced');
  const outcome = await startClaim(client, config, {
    ...request,
    ...(dead ? { replaceRun: dead.instanceId } : {}),
  });
  return dead ? { outcome, dead } : { outcome };
}
