import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import * as df from 'durable-functions';
import {
  type EmitChunkResult,
  type ParseChunkInput,
  type ParseChunkResult,
  type PlanResult,
  type ProcessBlobInput,
  type ProcessBlobOutput,
  type RecordBlobStatusInput,
  runStagingPrefix,
} from '../common/contracts';
import { blobOps, names } from '../common/names';
import type { BlobState, ClaimVerdict, RunVerdict } from '../domain/blob-state';
import { type BlobCursor, type BlockBoundary, cursorAt } from '../domain/framing/blocks';
import type { ReadChunk } from '../domain/read-chunks';

/**
 * A run failed in a way retrying cannot cure (a permanent storage or hub error, a refused commit): the
 * entity records it as permanent, so only an operator rerun starts the next run.
 */
class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}

function validate(input: unknown): ProcessBlobInput {
  const i = input as ProcessBlobInput | undefined;
  if (!i?.ref?.account || !i.ref.container || !i.ref.name || !i.key || typeof i.stuckAfterMs !== 'number')
    throw new Error('processBlob needs {ref, key, stuckAfterMs}');
  return i;
}

/** The fingerprint the plan's boundary table gives for the blocks up to `end`. */
function fingerprintAt(boundaries: readonly BlockBoundary[], end: number): string {
  return boundaries.find((b) => b.end === end)?.fingerprint ?? '';
}

/**
 * One run over one blob. It first claims the blob on its entity (every event, sweep poke and operator
 * rerun starts an instance of its own; the entity grants at most one of them a token). The holder then
 * plans (block list → byte ranges), turns chunks into enriched rows in parallel (parseChunk: ids final
 * there, from each record's byte offset), emits them, and only then commits the
 * cursor with its token; a commit from a run whose token was replaced is refused. If more was committed
 * meanwhile it goes round again (continueAsNew, same token). Deterministic: time comes from
 * context.df.currentUtcDateTime, every decision from activity and entity results.
 */
const processBlob: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = validate(context.df.getInput());
  const { ref, key } = input;
  const entity = new df.EntityId(names.blobStateEntity, key);
  const retry = new df.RetryOptions(input.retry?.firstIntervalMs ?? 2000, input.retry?.attempts ?? 5);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  const now = () => context.df.currentUtcDateTime.toISOString();
  const round = input.round ?? 0;

  let token: number;
  let begin: { cursor: BlobCursor; generation: number; observations: number };
  if (input.token === undefined) {
    const verdict = (yield context.df.callEntity(entity, blobOps.claim, {
      instanceId: context.df.instanceId,
      ref,
      at: now(),
      stuckAfterMs: input.stuckAfterMs,
      ...(input.observation ? { observation: input.observation } : {}),
      ...(input.rerunFrom !== undefined ? { rerunFrom: input.rerunFrom } : {}),
      ...(input.replaceRun !== undefined ? { replace: input.replaceRun } : {}),
    })) as ClaimVerdict;
    if (verdict.kind !== 'granted') return verdict satisfies ProcessBlobOutput;
    token = verdict.token;
    begin = verdict;
  } else {
    token = input.token;
    const verdict = (yield context.df.callEntity(entity, blobOps.beginRound, {
      token,
      at: now(),
    })) as RunVerdict<{ cursor: BlobCursor; generation: number; observations: number }>;
    if (!verdict.ok) return { kind: 'superseded', error: verdict.error } satisfies ProcessBlobOutput;
    begin = verdict;
  }
  const generation = begin.generation;
  const runPrefix = runStagingPrefix(key, generation, token, round);
  const next = (): ProcessBlobInput => {
    const { observation: _o, rerunFrom: _r, replaceRun: _p, ...rest } = input;
    return { ...rest, token, round: round + 1 };
  };
  /** Files this round staged: a round that ended well removes them by name (no listing needed). */
  const staged: string[] = [];
  const status = (state: BlobState): RecordBlobStatusInput => ({ key, ref, state, cleanupNames: staged });
  /** After a failure, activities of this round may still be writing: its folder is removed as a whole. */
  const failedStatus = (state: BlobState): RecordBlobStatusInput => ({
    key,
    ref,
    state,
    cleanupPrefix: runPrefix,
  });

  try {
    // Before the plan, so its block list is no older: the entity calls the hour complete only if the
    // hour plus FLOWLOG_HOUR_GRACE_MINUTES was over by then and the run read all it listed.
    const listedAt = now();
    const plan = (yield context.df.callActivityWithRetry(names.planBlobRead, retry, {
      ref,
      cursor: begin.cursor,
    })) as PlanResult;

    if (plan.kind === 'storage-failed') throw new RunFailedError(plan.error);
    if (plan.kind === 'prefix-changed') {
      const renewed = (yield context.df.callEntity(entity, blobOps.newGeneration, {
        token,
        reason: plan.reason,
      })) as RunVerdict;
      if (!renewed.ok) return { kind: 'superseded', error: renewed.error } satisfies ProcessBlobOutput;
      context.df.continueAsNew(next());
      return { kind: 'new-generation', token } satisfies ProcessBlobOutput;
    }

    let cursor = begin.cursor;
    const totals = { blocks: 0, records: 0, tuples: 0, summaries: 0, events: 0, problems: 0 };
    const newRecordOffsets: number[] = [];

    if (plan.kind === 'read') {
      // Parse: fan out over chunks of whole blocks, each read pinned to the version the plan listed.
      const parseInput = (chunk: ReadChunk, first: boolean): ParseChunkInput => ({
        ref,
        key,
        generation,
        stagingPrefix: runPrefix,
        chunk,
        eTag: plan.eTag,
        fingerprintAtEnd: fingerprintAt(plan.boundaries, chunk.end),
        scanStart: first ? plan.scanStart : 'array-body',
        atCursor: first,
      });
      let chunks: readonly ReadChunk[] = plan.chunks;
      let parsed = (yield context.df.Task.all(
        chunks.map((chunk, i) =>
          context.df.callActivityWithRetry(names.parseChunk, retry, parseInput(chunk, i === 0)),
        ),
      )) as ParseChunkResult[];
      for (const p of parsed) if (p.kind === 'parsed') staged.push(p.staged);
      const storageFailure = parsed.find((p) => p.kind === 'storage-failed');
      if (storageFailure) throw new RunFailedError(storageFailure.error);
      if (parsed.some((p) => p.kind === 'changed')) {
        // Rewritten since the plan: nothing was emitted yet; plan again (it starts a new generation).
        yield context.df.callActivityWithRetry(names.recordBlobStatus, retry, {
          key,
          ref,
          cleanupPrefix: runPrefix,
        });
        context.df.continueAsNew(next());
        return { kind: 'continued', token } satisfies ProcessBlobOutput;
      }
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
          (yield context.df.callActivityWithRetry(
            names.parseChunk,
            retry,
            parseInput(whole, true),
          )) as ParseChunkResult,
        ];
        for (const p of parsed) if (p.kind === 'parsed') staged.push(p.staged);
      }
      const ok = parsed.map((p) => {
        if (p.kind === 'parsed') return p;
        // Misaligned even as one piece, or changed / failed on the second read.
        if (p.kind === 'changed') throw new Error(p.error);
        throw new RunFailedError(p.error);
      });
      let consumedEnd = cursor.byteOffset;
      // Records read so far (status only: ids never depend on it).
      let ordinal = cursor.recordOrdinal;
      for (const p of ok) {
        ordinal += p.records;
        consumedEnd = Math.max(consumedEnd, p.consumedEnd);
        newRecordOffsets.push(...p.recordOffsets);
        totals.records += p.records;
        totals.tuples += p.tuples;
        totals.summaries += p.summaries;
        totals.problems += p.problems;
      }

      // Emit: each chunk's staged rows move on by reference (a chunk without rows sends nothing).
      const emitted = (yield context.df.Task.all(
        ok
          .filter((p) => p.summaries > 0)
          .map((p) =>
            context.df.callActivityWithRetry(names.emitChunk, retry, { staged: p.staged, partitionKey: key }),
          ),
      )) as EmitChunkResult[];
      for (const e of emitted) {
        if (e.kind === 'failed') throw new RunFailedError(e.error);
        totals.events += e.events;
      }
      totals.blocks = plan.blocks;
      cursor = cursorAt(plan.boundaries, plan.cursor, consumedEnd, ordinal);
    }

    const readLength = plan.contentLength;
    const committed = (yield context.df.callEntity(entity, blobOps.commit, {
      token,
      generation,
      cursor,
      readLength,
      observationsAtBegin: begin.observations,
      eTag: plan.eTag,
      newRecordOffsets,
      stats: totals,
      listedAt,
      at: now(),
    })) as RunVerdict<{ more: boolean }> & { state: BlobState };
    if (!committed.ok && committed.reason === 'superseded') {
      // Another run holds the blob now (this one was taken for stuck): it reads what this one read.
      yield context.df.callActivityWithRetry(names.recordBlobStatus, retry, {
        key,
        ref,
        cleanupPrefix: runPrefix,
      });
      return { kind: 'superseded', error: committed.error } satisfies ProcessBlobOutput;
    }
    yield context.df.callActivityWithRetry(
      names.recordBlobStatus,
      retry,
      committed.ok ? status(committed.state) : failedStatus(committed.state),
    );
    if (!committed.ok) throw new RunFailedError(committed.error);
    if (committed.more) {
      context.df.continueAsNew(next());
      return { kind: 'continued', token } satisfies ProcessBlobOutput;
    }
    return { kind: plan.kind, cursor: cursor.byteOffset, token } satisfies ProcessBlobOutput;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failed = (yield context.df.callEntity(entity, blobOps.fail, {
      token,
      error: message,
      permanent: error instanceof RunFailedError,
      at: now(),
    })) as RunVerdict & { state: BlobState };
    // A replaced run only removes its own staging; the ledger belongs to the run holding the blob.
    yield context.df.callActivityWithRetry(
      names.recordBlobStatus,
      retry,
      failed.ok ? failedStatus(failed.state) : { key, ref, cleanupPrefix: runPrefix },
    );
    if (input.failAsOutput) return { kind: 'failed', error: message } satisfies ProcessBlobOutput;
    throw error;
  }
};

df.app.orchestration(names.processBlob, processBlob);
