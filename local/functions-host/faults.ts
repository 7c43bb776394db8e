/**
 * Fault injection for activity executions: fail the next N matching calls, or fail at random with a
 * seeded RNG (chaos mode), so retries and failure paths can be exercised deterministically.
 * An injected fault replaces the execution: the activity code does not run, and the orchestrator sees
 * an ordinary TaskFailed carrying the injected error.
 * Duplicates model at-least-once delivery: a matching execution runs a second time once its result
 * was delivered, and the second result is delivered too (a second TaskCompleted or TaskFailed for
 * the same task), as happens on Azure when a work item's lease is lost or its message reappears.
 */

import { seededRandom } from '../../domain/random';

export interface ActivityCall {
  readonly name: string;
  readonly input: unknown;
  readonly instanceId: string;
  readonly taskScheduledId: number;
  /** 1 for the scheduled execution, 2 for its duplicate (`duplicateActivity`). */
  readonly execution: number;
}

export type ActivityMatcher = string | ((call: ActivityCall) => boolean);

export interface FaultRule {
  readonly matcher: ActivityMatcher;
  remaining: number;
  readonly error: () => Error;
}

export interface ChaosOptions {
  /** Probability in [0, 1] that a matching execution fails. */
  probability: number;
  seed: number;
  /** Which activities are eligible (all when omitted). */
  match?: ActivityMatcher;
  error?: Error | string;
}

export { seededRandom };

function errorFactory(error: Error | string | undefined, fallback: string): () => Error {
  if (error instanceof Error) return () => error;
  const message = error ?? fallback;
  return () => new Error(message);
}

function matches(matcher: ActivityMatcher | undefined, call: ActivityCall): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'string') return matcher.toLowerCase() === call.name.toLowerCase();
  return matcher(call);
}

export class FaultInjector {
  private readonly rules: FaultRule[] = [];
  private readonly duplicates: Array<{
    readonly matcher: ActivityMatcher;
    remaining: number;
    readonly afterMs: number;
    readonly beforeNext: string | undefined;
  }> = [];
  private chaosConfig: { options: ChaosOptions; random: () => number; error: () => Error } | undefined;
  /** Executions replaced by an injected fault so far. */
  injected = 0;

  /** Fails the next `times` executions matching `match` (a name, case-insensitive, or a predicate). */
  failActivity(match: ActivityMatcher, times = 1, error?: Error | string): FaultRule {
    const rule: FaultRule = {
      matcher: match,
      remaining: times,
      error: errorFactory(error, 'Injected activity fault'),
    };
    this.rules.push(rule);
    return rule;
  }

  /**
   * Runs the next `times` executions matching `match` twice: after the first result reached the
   * orchestration, the activity runs again (its code and side effects too) and that result is
   * delivered as well. The orchestration must ignore the second answer to the same task. With
   * `afterMs`, the second run starts that long (real time) after the first result was delivered, as a
   * message redelivered after a lease loss arrives while the orchestration has moved on. With
   * `beforeNext: name`, it runs (and completes) right before the same instance's next execution of
   * activity `name`: a deterministic "the redelivery lands in the middle of what came next".
   */
  duplicateActivity(
    match: ActivityMatcher,
    times = 1,
    options: { afterMs?: number; beforeNext?: string } = {},
  ): void {
    this.duplicates.push({
      matcher: match,
      remaining: times,
      afterMs: options.afterMs ?? 0,
      beforeNext: options.beforeNext,
    });
  }

  /** When this (first) execution runs again (a delay, or before another activity), or undefined. */
  takeDuplicate(call: ActivityCall): { afterMs: number; beforeNext: string | undefined } | undefined {
    if (call.execution !== 1) return undefined;
    const rule = this.duplicates.find((d) => d.remaining > 0 && matches(d.matcher, call));
    if (rule === undefined) return undefined;
    rule.remaining -= 1;
    return { afterMs: rule.afterMs, beforeNext: rule.beforeNext };
  }

  chaos(options: ChaosOptions): void {
    if (!(options.probability >= 0 && options.probability <= 1))
      throw new RangeError('probability must be in [0, 1]');
    this.chaosConfig = {
      options,
      random: seededRandom(options.seed),
      error: errorFactory(options.error, 'Chaos: injected activity fault'),
    };
  }

  clear(): void {
    this.rules.length = 0;
    this.duplicates.length = 0;
    this.chaosConfig = undefined;
  }

  /** The error to fail this execution with, or undefined to run it normally. */
  check(call: ActivityCall): Error | undefined {
    for (const rule of this.rules) {
      if (rule.remaining > 0 && matches(rule.matcher, call)) {
        rule.remaining -= 1;
        this.injected += 1;
        return rule.error();
      }
    }
    const chaos = this.chaosConfig;
    if (
      chaos !== undefined &&
      matches(chaos.options.match, call) &&
      chaos.random() < chaos.options.probability
    ) {
      this.injected += 1;
      return chaos.error();
    }
    return undefined;
  }
}
