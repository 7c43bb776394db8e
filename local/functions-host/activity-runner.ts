/**
 * Runs activity executions through the worker path, at most `maxConcurrentActivityFunctions` at a
 * time, consulting the fault injector first, and turns each into TaskCompleted / TaskFailed material.
 */
import type { CapturedRegistration } from './core-shim';
import { bump, type HostCounters } from './counters';
import type { ActivityCall, FaultInjector } from './faults';
import type { FunctionCatalog } from './function-catalog';
import { type FailureDetails, failureDetailsOf } from './history';
import { triggerOf } from './invoke';
import type { RpcInvocationResponse, RpcParameterBinding } from './rpc-types';
import { fromTypedData, parseJsonText, toJsonText } from './typed-data';
import { Limiter, type WorkTracker } from './work-tracker';

export interface ActivityJob {
  readonly instanceId: string;
  readonly taskScheduledId: number;
  readonly name: string;
  readonly inputJson: string | undefined;
}

export type ActivityOutcome =
  | { readonly ok: true; readonly resultJson: string }
  | { readonly ok: false; readonly failure: FailureDetails };

export interface ActivityRunnerDeps {
  readonly catalog: FunctionCatalog;
  readonly invoke: (
    registration: CapturedRegistration,
    inputData: RpcParameterBinding[],
  ) => Promise<RpcInvocationResponse>;
  readonly extraInputs: (registration: CapturedRegistration) => RpcParameterBinding[];
  readonly faults: FaultInjector;
  readonly counters: HostCounters;
  readonly work: WorkTracker;
  readonly maxConcurrent: number;
}

export class ActivityRunner {
  private readonly limiter: Limiter;
  /** Duplicates waiting for their instance's next execution of an activity (`beforeNext`). */
  private readonly deferred: Array<{ instanceId: string; before: string; run: () => Promise<void> }> = [];

  constructor(private readonly deps: ActivityRunnerDeps) {
    this.limiter = new Limiter(deps.maxConcurrent);
  }

  /** Activities executing right now (never above the limit). */
  get active(): number {
    return this.limiter.active;
  }

  /** Runs the job and hands over its outcome; a duplicated job hands over a second outcome later. */
  run(job: ActivityJob, onDone: (outcome: ActivityOutcome) => void): void {
    this.deps.work.run(async () => {
      // A duplicate of an earlier job of this instance that waits for this activity runs first.
      const waiting = this.deferred.findIndex(
        (d) => d.instanceId === job.instanceId && d.before.toLowerCase() === job.name.toLowerCase(),
      );
      if (waiting >= 0) await this.deferred.splice(waiting, 1)[0]!.run();
      const outcome = await this.limiter.run(() => this.execute(job, 1));
      onDone(outcome);
      const duplicate = this.deps.faults.takeDuplicate(this.callOf(job, 1));
      if (duplicate === undefined) return;
      const runAgain = async () => {
        this.deps.counters.duplicateActivityExecutions += 1;
        onDone(await this.limiter.run(() => this.execute(job, 2)));
      };
      if (duplicate.beforeNext !== undefined) {
        this.deferred.push({ instanceId: job.instanceId, before: duplicate.beforeNext, run: runAgain });
        return;
      }
      if (duplicate.afterMs > 0) await new Promise((resolve) => setTimeout(resolve, duplicate.afterMs));
      await runAgain();
    });
  }

  private callOf(job: ActivityJob, execution: number): ActivityCall {
    return {
      name: job.name,
      input: parseJsonText(job.inputJson),
      instanceId: job.instanceId,
      taskScheduledId: job.taskScheduledId,
      execution,
    };
  }

  private async execute(job: ActivityJob, execution: number): Promise<ActivityOutcome> {
    const { counters } = this.deps;
    counters.activityExecutions += 1;
    bump(counters.activityExecutionsByName, job.name);
    const outcome = await this.attempt(job, execution);
    if (!outcome.ok) counters.activityFailures += 1;
    return outcome;
  }

  private async attempt(job: ActivityJob, execution: number): Promise<ActivityOutcome> {
    const registration = this.deps.catalog.find(job.name, 'activityTrigger');
    if (registration === undefined) {
      return {
        ok: false,
        failure: {
          ErrorType: 'FunctionNotFound',
          ErrorMessage: `The function '${job.name}' doesn't exist, is disabled, or is not an activity function.`,
          IsNonRetriable: false,
        },
      };
    }
    const injected = this.deps.faults.check(this.callOf(job, execution));
    if (injected !== undefined) {
      this.deps.counters.injectedFaults += 1;
      return { ok: false, failure: failureDetailsOf(injected) };
    }
    const trigger = triggerOf(registration);
    // A string input goes as `string`: the library JSON-parses it back into the orchestrator's value.
    const data = job.inputJson === undefined ? {} : { string: job.inputJson };
    try {
      const response = await this.deps.invoke(registration, [
        { name: trigger.name, data },
        ...this.deps.extraInputs(registration),
      ]);
      return { ok: true, resultJson: toJsonText(fromTypedData(response.returnValue)) };
    } catch (err) {
      return { ok: false, failure: failureDetailsOf(err) };
    }
  }
}
