import * as df from 'durable-functions';
import { passGate } from './gates';
import { diskFiles, sdkNames } from './names';

/** Greets its input; the host's fault injector makes it fail where a test needs a failure. */
df.app.activity(sdkNames.hello, {
  handler: (name: unknown) => `Hello, ${String(name)}!`,
});

df.app.activity(sdkNames.getFileList, {
  handler: (_directory: unknown) => [...diskFiles],
});

/** Waits while a test holds the gate named after the file. */
df.app.activity(sdkNames.getFileSize, {
  handler: async (file: unknown) => {
    await passGate(String(file));
    return Number(/\d+/.exec(String(file))?.[0] ?? 0);
  },
});
