import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import * as df from 'durable-functions';
import {
  type BeginRunResult,
  type EmitChunkResult,
  type EnrichChunkResult,
  type ParseChunkResult,
  type PlanResult,
  type ProcessBlobInput,
  stagedName,
} from '../app/contracts';
import { blobOps, names } from '../app/names';
import { parseHourPath } from '../domain/blob-identity';
import type { BlobState } from '../domain/blob-state';
import { cursorAt } from '../domain/framing/blocks';
import type { ReadChunk } from '../domain/read-chunks';

/** Rounds one instance runs through continueAsNew before it lets a new event start a fresh one. */
const MAX_ROUNDS = 50;
/** A blob's hour is complete when the hour plus this grace is over and everything committed was read. */
const HOUR_GRACE_MS = 15 * 60_000;

/** A run failed permanently: recorded on the entity and the ledger, then the orchestration fails. */
class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}

function validate(input: unknown): ProcessBlobInput {
  const i = input as ProcessBlobInput | undefined;
  if (!i?.ref?.account || !i.ref.container || !i.ref.name || !i.key)
    throw new Error('processBlob needs {ref, key}');
  return i;
}

/**
 * One run over one blob: plan (block list → byte ranges), parse chunks in parallel, enrich, emit, and only
 * then advance the cursor on the entity. Serialized per blob by its instance id (= entity key).
 * Deterministic: time comes from context.df.currentUtcDateTime, every decision from activity results.
 */
const processBlob: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = validate(context.df.getInput());
  const { ref, key } = input;
  const entity = new df.EntityId(names.blobStateEntity, key);
  const retry = new df.RetryOptions(input.retry?.firstIntervalMs ?? 2000, input.retry?.attempts ?? 5);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  const now = () => context.df.currentUtcDateTime.toISOString();

  if (input.rerunFrom !== undefined && (input.round ?? 0) === 0) {
    const reset = (yield context.df.callEntity(entity, blobOps.rerun, { from: input.rerunFrom })) as {
      ok: boolean;
      error?: string;
    };
    if (!reset.ok) return { kind: 'rerun-refused', error: reset.error };
  }
  const begin = (yield context.df.callEntity(entity, blobOps.beginRun)) as BeginRunResult;
  const generation = begin.generation;

  try {
    const plan = (yield context.df.callActivityWithRetry(names.planBlobRead, retry, {
      ref,
      cursor: begin.cursor,
    })) as PlanResult;

    if (plan.kind === 'failed') throw new RunFailedError(plan.error);
    if (plan.kind === 'prefix-changed') {
      yield context.df.callEntity(entity, blobOps.newGeneration, { reason: plan.reason });
      context.df.continueAsNew({ ...input, rerunFrom: undefined, round: (input.round ?? 0) + 1 });
      return { kind: 'new-generation', reason: plan.reason };
    }

    const hour = parseHourPath(ref.name);
    const hourOver =
      hour !== undefined &&
      context.df.currentUtcDateTime.getTime() > hour.hourStart.getTime() + 3_600_000 + HOUR_GRACE_MS;
    let cursor = begin.cursor;
    let readLength = plan.contentLength;
    const totals = { blocks: 0, records: 0, tuples: 0, summaries: 0, events: 0, problems: 0 };
    const newRecordOffsets: number[] = [];
    const staged: string[] = [];

    if (plan.kind === 'read') {
      // Parse: fan out over chunks of whole blocks.
      let chunks: readonly ReadChunk[] = plan.chunks;
      let parsed = (yield context.df.Task.all(
        chunks.map((chunk, i) =>
          context.df.callActivityWithRetry(names.parseChunk, retry, {
            ref,
            key,
            generation,
            chunk,
            scanStart: i === 0 ? plan.scanStart : 'array-body',
            atCursor: i === 0,
          }),
        ),
      )) as ParseChunkResult[];
      const aligned = parsed.every(
        (p, i) => p.kind === 'parsed' && (i === parsed.length - 1 || p.consumedEnd === chunks[i]!.end),
      );
      if (!aligned && chunks.length > 1) {
        // A chunk edge fell inside a record (never seen from Azure's writer): read the range in one piece.
        const whole: ReadChunk = {
          start: chunks[0]!.start,
          end: chunks[chunks.length - 1]!.end,
          blocks: plan.blocks,
        };
        chunks = [whole];
        parsed = [
          (yield context.df.callActivityWithRetry(names.parseChunk, retry, {
            ref,
            key,
            generation,
            chunk: whole,
            scanStart: plan.scanStart,
            atCursor: true,
          })) as ParseChunkResult,
        ];
      }
      const ok = parsed.map((p) => {
        if (p.kind !== 'parsed') throw new RunFailedError(p.error);
        return p;
      });
      let consumedEnd = cursor.byteOffset;
      const ordinalBases: number[] = [];
      let ordinal = cursor.recordOrdinal;
      for (const p of ok) {
        ordinalBases.push(ordinal);
        ordinal += p.records;
        consumedEnd = Math.max(consumedEnd, p.consumedEnd);
        newRecordOffsets.push(...p.recordOffsets);
        totals.records += p.records;
        totals.tuples += p.tuples;
        totals.summaries += p.summaries;
        totals.problems += p.problems;
      }

      // Enrich, then emit: each chunk's staged summaries move on by reference.
      const enriched = (yield context.df.Task.all(
        ok.map((p, i) =>
          context.df.callActivityWithRetry(names.enrichChunk, retry, {
            staged: p.staged,
            ordinalBase: ordinalBases[i]!,
            output: stagedName(key, generation, chunks[i]!, 'enriched'),
          }),
        ),
      )) as EnrichChunkResult[];
      const emitted = (yield context.df.Task.all(
        enriched.map((e) => context.df.callActivityWithRetry(names.emitChunk, retry, { staged: e.staged })),
      )) as EmitChunkResult[];
      staged.push(...ok.map((p) => p.staged), ...enriched.map((e) => e.staged));
      for (const e of emitted) {
        if (e.kind === 'failed') throw new RunFailedError(e.error);
        totals.events += e.events;
      }
      totals.blocks = plan.blocks;
      cursor = cursorAt(plan.boundaries, plan.cursor, consumedEnd, ordinal);
      readLength = plan.contentLength;
    }

    const hourComplete = hourOver && readLength > 0;
    const commit = (yield context.df.callEntity(entity, blobOps.commit, {
      generation,
      cursor,
      readLength,
      eTag: plan.eTag,
      newRecordOffsets,
      stats: totals,
      hourComplete,
      at: now(),
    })) as { more: boolean; state: BlobState };
    yield context.df.callActivityWithRetry(names.recordBlobStatus, retry, {
      key,
      ref,
      state: commit.state,
      cleanup: staged,
    });

    if (commit.more && (input.round ?? 0) < MAX_ROUNDS) {
      context.df.continueAsNew({ ...input, rerunFrom: undefined, round: (input.round ?? 0) + 1 });
      return { kind: 'continued', ...totals };
    }
    return { kind: plan.kind === 'read' ? 'read' : 'up-to-date', cursor: cursor.byteOffset, ...totals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = (yield context.df.callEntity(entity, blobOps.fail, { error: message, at: now() })) as {
      state: BlobState;
    };
    yield context.df.callActivityWithRetry(names.recordBlobStatus, retry, { key, ref, state: failed.state });
    throw error;
  }
};

df.app.orchestration(names.processBlob, processBlob);
