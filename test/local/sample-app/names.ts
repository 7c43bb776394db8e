/** Names shared by the sample app's functions and the host tests (no registrations here). */
export const names = {
  httpStart: 'HttpStart',
  blobCreated: 'BlobCreated',
  sweepTimer: 'Sweep',
  fanOut: 'FanOut',
  parent: 'Parent',
  transfer: 'Transfer',
  approval: 'Approval',
  poller: 'Poller',
  mixed: 'Mixed',
  gate: 'Gate',
  square: 'Square',
  slowSquare: 'SlowSquare',
  flaky: 'Flaky',
  counter: 'Counter',
} as const;

export interface FanOutInput {
  numbers: number[];
  counterKey: string;
  /** Square (default) or SlowSquare, which takes a few milliseconds and records its concurrency. */
  activity?: 'Square' | 'SlowSquare';
}

export interface FanOutOutput {
  squares: number[];
  sum: number;
  note: string;
  total: number;
}

export interface PollerInput {
  iteration: number;
  stopAfter: number;
  intervalSeconds: number;
}

export interface MixedInput {
  width: number;
  /** Where Task.any's timeout timer fires, in seconds from the orchestration's current time. */
  raceTimeoutSeconds: number;
}
