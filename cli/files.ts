import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { blobIdentityForFile } from '../domain/blob-identity';

export interface InputFile {
  readonly path: string;
  readonly size: number;
  /** Blob identity for ids: the Azure-layout tail, else the path relative to the folder given. */
  readonly identity: string;
}

const FLOW_LOG_FILE = /\.json$/i;

/** Expands files and folders (recursively, `*.json`) in a stable order. */
export async function collectInputs(inputs: readonly string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const input of inputs) {
    const absolute = resolve(input);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absolute);
    } catch (cause) {
      throw new Error(`cannot read input "${input}": ${(cause as Error).message}`, { cause });
    }
    if (info.isDirectory()) {
      const files: string[] = [];
      await walk(absolute, files);
      files.sort();
      for (const file of files) {
        const size = (await stat(file)).size;
        out.push({ path: file, size, identity: blobIdentityForFile(relative(absolute, file)) });
      }
    } else {
      out.push({
        path: absolute,
        size: info.size,
        identity: blobIdentityForFile(relative(resolve(absolute, '..'), absolute)),
      });
    }
  }
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile() && FLOW_LOG_FILE.test(entry.name)) out.push(full);
  }
}
