/**
 * Counts the host's in-flight work (episodes, activity and entity executions, queued deliveries,
 * client API requests) so `waitForIdle()` knows when nothing is left to run, and limits concurrency.
 */

export class WorkTracker {
  private pending = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** Unexpected host errors (bugs, not app failures); `waitForIdle` reports them. */
  readonly internalErrors: unknown[] = [];

  get inFlight(): number {
    return this.pending;
  }

  /** Marks one unit of work as started; call the returned function exactly once when it ends. */
  begin(): () => void {
    this.pending += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.pending -= 1;
      if (this.pending === 0) this.notifyIdle();
    };
  }

  /** Runs `work` as tracked work; failures are recorded as internal errors, never thrown. */
  run(work: () => Promise<void> | void): void {
    const end = this.begin();
    Promise.resolve()
      .then(work)
      .catch((err: unknown) => {
        this.internalErrors.push(err);
      })
      .finally(end);
  }

  /** Resolves at the next moment the count is zero (checked after pending callbacks have run). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      if (this.pending === 0) this.notifyIdle();
    });
  }

  private notifyIdle(): void {
    // setImmediate lets promise chains that are about to start new work do so first.
    setImmediate(() => {
      if (this.pending !== 0) return;
      const waiters = this.idleWaiters.splice(0);
      for (const resolve of waiters) resolve();
    });
  }
}

/** A counting semaphore: at most `limit` tasks run at once, the rest wait in FIFO order. */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`Concurrency limit must be >= 1, got ${limit}`);
  }

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so `running` never overshoots.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.running -= 1;
    }
  }
}
