import type { EntityContext } from 'durable-functions';
import * as df from 'durable-functions';
import { appServices } from '../app/services';
import { blobOps, names } from '../common/names';
import {
  type BlobState,
  beginRound,
  type ClaimRequest,
  claim,
  commitRun,
  emptyBlobState,
  failRunWith,
  type HourCheck,
  newGeneration,
  type RunCommit,
  type RunFailure,
  settleHour,
  withDefaults,
} from '../domain/blob-state';

/**
 * Per-blob state (cursor, generation, observed length, the run holding the blob, errors, stats), keyed by
 * blobKey(ref). Operations run one at a time per blob, so a claim and a commit never interleave. All
 * logic is in domain/blob-state.ts; this handler validates and dispatches. Results are returned as values:
 * the SDK loses an entity exception's message on the way to the orchestrator.
 */
/** The state without its per-record offsets: what the ledger needs, small enough for history. */
const compactState = (state: BlobState): BlobState => ({ ...state, recordOffsets: [] });

function has<K extends string>(input: unknown, ...keys: K[]): input is Record<K, unknown> {
  return typeof input === 'object' && input !== null && keys.every((k) => k in input);
}

function handle(context: EntityContext<BlobState>): void {
  const state = withDefaults(context.df.getState(() => emptyBlobState()) ?? emptyBlobState());
  const input: unknown = context.df.getInput();
  const op = context.df.operationName;
  const invalid = (needs: string) =>
    context.df.return({ ok: false, reason: 'refused', error: `${op} needs ${needs}` });
  switch (op) {
    case blobOps.claim: {
      if (!has(input, 'instanceId', 'ref', 'at', 'stuckAfterMs')) {
        invalid('{instanceId, ref, at, stuckAfterMs}');
        return;
      }
      const { state: next, verdict } = claim(state, input as unknown as ClaimRequest);
      context.df.setState(next);
      const { counters } = appServices();
      if (next.hourReopened > state.hourReopened) counters.add('hours.reopened');
      if (verdict.kind === 'granted') {
        counters.add('runs.started');
        if (verdict.replaced !== undefined) counters.add('runs.stuckReplaced');
      } else counters.add(verdict.kind === 'covered' ? 'runs.coalesced' : 'claims.declined');
      context.df.return(verdict);
      return;
    }
    case blobOps.beginRound: {
      if (!has(input, 'token', 'at')) {
        invalid('{token, at}');
        return;
      }
      const { state: next, verdict } = beginRound(state, Number(input.token), String(input.at));
      context.df.setState(next);
      context.df.return(verdict);
      return;
    }
    case blobOps.commit: {
      if (!has(input, 'token', 'generation', 'cursor', 'readLength')) {
        invalid('{token, generation, cursor, readLength, ...}');
        return;
      }
      const { config, counters } = appServices();
      const { state: next, verdict } = commitRun(state, input as unknown as RunCommit, config.hourGraceMs);
      context.df.setState(next);
      if (next.hourComplete && !state.hourComplete) counters.add('hours.completed');
      context.df.return({ ...verdict, state: compactState(next) });
      return;
    }
    case blobOps.settleHour: {
      // Signalled by the sweep (nothing waits for the answer): it wrote the ledger row this decides.
      if (!has(input, 'at', 'contentLength')) {
        invalid('{at, contentLength}');
        return;
      }
      const { config, counters } = appServices();
      const check: HourCheck = {
        at: String(input.at),
        contentLength: Number(input.contentLength),
        graceMs: config.hourGraceMs,
      };
      const { state: next, verdict } = settleHour(state, check);
      if (verdict.changed) {
        context.df.setState(next);
        counters.add('hours.completed');
      }
      context.df.return(verdict);
      return;
    }
    case blobOps.fail: {
      if (!has(input, 'token', 'error', 'at')) {
        invalid('{token, error, permanent, at}');
        return;
      }
      const { state: next, verdict } = failRunWith(state, input as unknown as RunFailure);
      context.df.setState(next);
      context.df.return({ ...verdict, state: compactState(next) });
      return;
    }
    case blobOps.newGeneration: {
      if (!has(input, 'token')) {
        invalid('{token, reason}');
        return;
      }
      const reason = String((input as { reason?: unknown }).reason ?? 'prefix changed');
      const { state: next, verdict } = newGeneration(state, Number(input.token), reason);
      context.df.setState(next);
      context.df.return(verdict);
      return;
    }
    case blobOps.forget:
      // Housekeeping: the blob's hour is long over and it was read completely.
      context.df.destructOnExit();
      return;
    case blobOps.get:
      context.df.return(state);
      return;
    default:
      context.df.return({ ok: false, reason: 'refused', error: `unknown operation ${op}` });
  }
}

df.app.entity(names.blobStateEntity, handle);
