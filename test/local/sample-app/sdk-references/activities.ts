import * as df from 'durable-functions';
import { diskFiles, sdkNames } from './names';

/** Greets its input; the host's fault injector makes it fail where a test needs a failure. */
df.app.activity(sdkNames.hello, {
  handler: (name: unknown) => `Hello, ${String(name)}!`,
});

df.app.activity(sdkNames.getFileList, {
  handler: (_directory: unknown) => [...diskFiles],
});

df.app.activity(sdkNames.getFileSize, {
  handler: (file: unknown) => Number(/\d+/.exec(String(file))?.[0] ?? 0),
});
