import type { EntityContext } from 'durable-functions';
import * as df from 'durable-functions';
import { blobOps, names } from '../app/names';
import {
  type BlobState,
  commitRun,
  emptyBlobState,
  failRun,
  newGeneration,
  type Observation,
  observe,
  type RerunFrom,
  type RunCommit,
  rerun,
} from '../domain/blob-state';

/**
 * Per-blob state (cursor, generation, observed length, errors, stats), keyed by blobKey(ref). One
 * operation at a time per blob, so a commit and a new observation can never interleave. All logic is in
 * domain/blob-state.ts; this handler validates and dispatches. Results are returned as values: the SDK
 * loses an entity exception's message on the way to the orchestrator.
 */
/** The state without its per-record offsets: what the ledger needs, small enough for history. */
const compact = (state: BlobState): BlobState => ({ ...state, recordOffsets: [] });

function handle(context: EntityContext<BlobState>): void {
  const state = context.df.getState(() => emptyBlobState()) ?? emptyBlobState();
  const input: unknown = context.df.getInput();
  switch (context.df.operationName) {
    case blobOps.observe:
      context.df.setState(observe(state, input as Observation));
      return;
    case blobOps.beginRun:
      context.df.return({ cursor: state.cursor, generation: state.generation });
      return;
    case blobOps.commit: {
      const { state: next, more } = commitRun(state, input as RunCommit);
      context.df.setState(next);
      context.df.return({ more, state: compact(next) });
      return;
    }
    case blobOps.fail: {
      const { error, at } = input as { error: string; at: string };
      const next = failRun(state, error, at);
      context.df.setState(next);
      context.df.return({ state: compact(next) });
      return;
    }
    case blobOps.newGeneration:
      context.df.setState(
        newGeneration(state, String((input as { reason?: string })?.reason ?? 'prefix changed')),
      );
      context.df.return({ generation: state.generation + 1 });
      return;
    case blobOps.rerun:
      try {
        context.df.setState(rerun(state, (input as { from: RerunFrom }).from));
        context.df.return({ ok: true });
      } catch (error) {
        context.df.return({ ok: false, error: (error as Error).message });
      }
      return;
    case blobOps.forget:
      // Housekeeping: the blob's hour is long over and it was read completely.
      context.df.destructOnExit();
      return;
    case blobOps.get:
      context.df.return(state);
      return;
    default:
      context.df.return({ ok: false, error: `unknown operation ${context.df.operationName}` });
  }
}

df.app.entity(names.blobStateEntity, handle);
