import * as df from 'durable-functions';
import { names } from './names';

/** Succeeds unless the host injects a fault: the target of the retry tests. */
df.app.activity(names.flaky, {
  handler: (note: unknown) => `checked ${String(note)}`,
});
