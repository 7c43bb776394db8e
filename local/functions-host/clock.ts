/**
 * The host's clock, used for OrchestratorStarted timestamps (which become `currentUtcDateTime`),
 * durable timers and retry delays.
 *
 * - `real`: wall time plus an offset; timers fire by themselves when their time comes.
 * - `manual`: time stands still at `startTime` plus the offset; timers fire only when a test advances.
 * In both modes `advance(ms)` moves time forward and fires every timer that became due, which is how
 * tests fast-forward through timers and retry back-offs.
 */

export type ClockMode = 'real' | 'manual';

export interface ClockTimer {
  readonly id: number;
  readonly fireAt: Date;
}

interface PendingTimer extends ClockTimer {
  readonly callback: () => void;
}

const maxTimeoutMs = 2 ** 31 - 1;

export class HostClock {
  private offsetMs = 0;
  private nextId = 1;
  private readonly pending = new Map<number, PendingTimer>();
  private handle: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly manualBase: number;

  constructor(
    readonly mode: ClockMode = 'real',
    startTime?: Date,
  ) {
    this.manualBase = (startTime ?? new Date()).getTime();
  }

  now(): Date {
    const base = this.mode === 'real' ? Date.now() : this.manualBase;
    return new Date(base + this.offsetMs);
  }

  /** Moves time forward by `ms` and fires the timers that became due, earliest first. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('The clock only moves forward.');
    this.offsetMs += ms;
    this.fireDue();
  }

  /** Moves time to the earliest pending timer (if it is in the future) and fires it. */
  advanceToNextTimer(): boolean {
    const next = this.nextTimer();
    if (next === undefined) return false;
    const gap = next.fireAt.getTime() - this.now().getTime();
    if (gap > 0) this.offsetMs += gap;
    this.fireDue();
    return true;
  }

  setTimer(fireAt: Date, callback: () => void): ClockTimer {
    const timer: PendingTimer = { id: this.nextId++, fireAt, callback };
    this.pending.set(timer.id, timer);
    // Even an already-due timer fires asynchronously, like a queue message would.
    this.arm();
    return { id: timer.id, fireAt };
  }

  cancel(timer: ClockTimer | number | undefined): void {
    if (timer === undefined) return;
    this.pending.delete(typeof timer === 'number' ? timer : timer.id);
    this.arm();
  }

  pendingTimers(): ClockTimer[] {
    return [...this.pending.values()].map(({ id, fireAt }) => ({ id, fireAt }));
  }

  nextTimer(): ClockTimer | undefined {
    let earliest: PendingTimer | undefined;
    for (const timer of this.pending.values()) {
      if (earliest === undefined || timer.fireAt.getTime() < earliest.fireAt.getTime()) earliest = timer;
    }
    return earliest;
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }

  private fireDue(): void {
    const now = this.now().getTime();
    const due = [...this.pending.values()]
      .filter((t) => t.fireAt.getTime() <= now)
      .sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime() || a.id - b.id);
    for (const timer of due) {
      if (!this.pending.delete(timer.id)) continue;
      timer.callback();
    }
    this.arm();
  }

  /** Keeps one Node timer for the earliest pending durable timer (or for due ones in manual mode). */
  private arm(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    if (this.stopped) return;
    const next = this.nextTimer();
    if (next === undefined) return;
    const delay = next.fireAt.getTime() - this.now().getTime();
    if (this.mode === 'manual' && delay > 0) return;
    this.handle = setTimeout(() => this.fireDue(), Math.min(Math.max(delay, 0), maxTimeoutMs));
  }
}
