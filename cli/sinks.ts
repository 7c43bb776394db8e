import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** Where `flowlog process` writes NDJSON: one batch of bytes at a time, resolved when written. */
export interface ByteSink {
  /** Resolves once the bytes are written (or buffered by the stream) and may be reused. */
  writeBytes(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** A file, written with positional writes straight from the batch (no copy into a stream buffer). */
export async function fileSink(path: string): Promise<ByteSink> {
  const handle = await open(path, 'w');
  return {
    async writeBytes(bytes) {
      let at = 0;
      while (at < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, at, bytes.length - at);
        at += bytesWritten;
      }
    },
    close: () => handle.close(),
  };
}

/**
 * A stream such as stdout. A stream may keep a reference to the bytes until they are flushed, so a
 * batch counts as written only when the stream says so (its write callback).
 */
export function streamSink(stream: Writable): ByteSink {
  return {
    writeBytes: (bytes) =>
      new Promise<void>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      }),
    close: () =>
      stream === process.stdout || stream === process.stderr
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) =>
            stream.end((err?: Error | null) => (err ? reject(err) : resolve())),
          ),
  };
}
