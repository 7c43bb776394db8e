import * as df from 'durable-functions';
import { names } from './names';

/** Squares a number: the fan-out unit of work. */
export const squareActivity = df.app.activity(names.square, {
  handler: (n: unknown) => {
    if (typeof n !== 'number') throw new TypeError(`Square expects a number, got ${typeof n}`);
    return n * n;
  },
});
