import * as df from 'durable-functions';
import { names } from './names';

/** How many SlowSquare executions overlapped at most (the concurrency-limit test reads it). */
export const slowSquareGauge = { running: 0, peak: 0 };

/** Squares a number after a short pause, so executions overlap when the host allows it. */
df.app.activity(names.slowSquare, {
  handler: async (n: unknown) => {
    slowSquareGauge.running += 1;
    slowSquareGauge.peak = Math.max(slowSquareGauge.peak, slowSquareGauge.running);
    try {
      await new Promise((resolve) => setTimeout(resolve, 15));
      return Number(n) * Number(n);
    } finally {
      slowSquareGauge.running -= 1;
    }
  },
});
