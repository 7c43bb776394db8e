import type { ContainerClient } from '@azure/storage-blob';
import { blobService } from './clients';
import type { AppConfig } from './config';
import { ExternalError, isRetryable } from './errors';
import { countStorageOp } from './storage-ops';

/**
 * Staging blobs in host storage: how activities hand each other data without putting it in orchestration
 * history. Names are deterministic (blob key, generation, byte range, stage), so a retried activity
 * overwrites its own output instead of adding another.
 */
export class Staging {
  private container: ContainerClient | undefined;
  private ensured: Promise<unknown> | undefined;

  constructor(private readonly config: AppConfig) {}

  private async client(): Promise<ContainerClient> {
    this.container ??= blobService(this.config.hostStorage).getContainerClient(this.config.stagingContainer);
    this.ensured ??= this.container.createIfNotExists();
    await this.ensured;
    return this.container;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    try {
      countStorageOp('stagingWrite');
      await (await this.client()).getBlockBlobClient(name).uploadData(bytes);
    } catch (cause) {
      throw new ExternalError(
        `staging ${name}: write failed (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }

  async get(name: string): Promise<Buffer> {
    try {
      countStorageOp('stagingRead');
      return await (await this.client()).getBlockBlobClient(name).downloadToBuffer();
    } catch (cause) {
      throw new ExternalError(
        `staging ${name}: read failed (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }

  /** Deletes every staged blob whose name starts with `prefix` (a run's or a blob's folder); returns how many. */
  async deletePrefix(prefix: string): Promise<number> {
    if (prefix === '' || !prefix.endsWith('/'))
      throw new RangeError(`staging prefix must name a folder (end with '/'), got '${prefix}'`);
    const container = await this.client();
    const names: string[] = [];
    try {
      countStorageOp('list');
      for await (const item of container.listBlobsFlat({ prefix })) names.push(item.name);
    } catch (cause) {
      throw new ExternalError(`staging ${prefix}: listing failed`, isRetryable(cause), { cause });
    }
    return this.delete(names);
  }

  /** Deletes staged blobs by name (missing ones are fine); returns how many existed. */
  async delete(staged: readonly string[]): Promise<number> {
    const container = await this.client();
    let deleted = 0;
    for (const name of staged) {
      countStorageOp('stagingDelete');
      const r = await container.deleteBlob(name).then(
        () => true,
        (e: { statusCode?: number }) => {
          if (e.statusCode === 404) return false;
          throw new ExternalError(`staging ${name}: delete failed`, isRetryable(e), { cause: e });
        },
      );
      if (r) deleted++;
    }
    return deleted;
  }
}
