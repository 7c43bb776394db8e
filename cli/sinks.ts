import { lstat, open, rename, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** Where `flowlog process` writes NDJSON: one batch of bytes at a time, resolved when written. */
export interface ByteSink {
  /**
   * Resolves once the bytes are written (or buffered by the stream) and may be reused. A sink that
   * took the bytes' buffer away (transferred it to another thread) resolves with the buffer to reuse
   * instead, when it got one back.
   */
  writeBytes(bytes: Uint8Array): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

/**
 * A file, written straight from the batches (no copy into a stream buffer). An existing regular file
 * is moved aside and deleted in the background rather than truncated: truncating a large file frees
 * its blocks inside the open call and slows the writes that follow (measured here: writing 147 MB
 * took 137–377 ms over a truncated file, 51–58 ms into a new one). Anything else (a device such as
 * /dev/null, a symbolic link, a pipe) is opened as it is.
 */
export async function fileSink(path: string): Promise<ByteSink> {
  let removing: Promise<void> = Promise.resolve();
  try {
    if ((await lstat(path)).isFile()) {
      const aside = `${path}.${process.pid}.replaced`;
      await rename(path, aside);
      removing = unlink(aside).catch(() => undefined);
    }
  } catch {
    // No such file (or not ours to move): open it as it is.
  }
  const handle = await open(path, 'w');
  return {
    async writeBytes(bytes) {
      let at = 0;
      while (at < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
        at += bytesWritten;
      }
      return undefined;
    },
    close: async () => {
      await handle.close();
      await removing;
    },
  };
}

/**
 * A stream such as stdout. A stream may keep a reference to the bytes until they are flushed, so a
 * batch counts as written only when the stream says so (its write callback).
 */
export function streamSink(stream: Writable): ByteSink {
  return {
    writeBytes: (bytes) =>
      new Promise<undefined>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve(undefined)));
      }),
    close: () =>
      stream === process.stdout || stream === process.stderr
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) =>
            stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
          ),
  };
}
