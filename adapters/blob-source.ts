import { normalizeETag } from '../domain/blob-event';
import { checkFlowLogBlobName } from '../domain/blob-name';
import type { BlobRef } from '../domain/blob-ref';
import type { CommittedBlock } from '../domain/framing/blocks';
import { blobService } from './clients';
import type { AppConfig } from './config';
import { ExternalError, isRetryable } from './errors';
import { countStorageOp } from './storage-ops';

/** The blob is no longer the version a read was conditioned on (412 ConditionNotMet). */
export class BlobVersionChangedError extends ExternalError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
    this.name = 'BlobVersionChangedError';
  }
}

export interface BlobSnapshot {
  readonly blocks: CommittedBlock[];
  readonly contentLength: number;
  readonly eTag: string;
}

/** Reads flow-log blobs of the configured source accounts, and only of those. */
export class FlowLogBlobs {
  constructor(private readonly config: AppConfig) {}

  private client(ref: BlobRef) {
    const connection = this.config.sourceAccounts.get(ref.account.toLowerCase());
    if (!connection)
      throw new ExternalError(`storage account ${ref.account} is not in FLOWLOG_SOURCE_ACCOUNTS`, false);
    if (!this.config.containers.has(ref.container))
      throw new ExternalError(`container ${ref.container} is not in FLOWLOG_CONTAINERS`, false);
    // Checked again here, where the client is made: whatever path a name took, it never reaches storage
    // unless it is a flow-log name (the client would resolve "..", reaching other containers).
    const name = checkFlowLogBlobName(ref.name);
    if (!name.ok) throw new ExternalError(`${ref.container}: ${name.reason}`, false);
    return blobService(connection).getContainerClient(ref.container).getBlockBlobClient(ref.name);
  }

  /** The committed block list with the blob's length and eTag (one storage call). */
  async snapshot(ref: BlobRef): Promise<BlobSnapshot> {
    try {
      countStorageOp('blockList');
      const list = await this.client(ref).getBlockList('committed');
      return {
        blocks: (list.committedBlocks ?? []).map((b) => ({ name: b.name, size: b.size })),
        contentLength: list.blobContentLength ?? 0,
        eTag: normalizeETag(list.etag ?? ''),
      };
    } catch (cause) {
      if (cause instanceof ExternalError) throw cause;
      throw new ExternalError(
        `${ref.container}/${ref.name}: cannot list committed blocks (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }

  /**
   * Bytes [start, end), of the version `ifMatch` names when given (an unquoted eTag): a blob rewritten
   * since gives BlobVersionChangedError instead of other bytes.
   */
  async read(ref: BlobRef, start: number, end: number, ifMatch?: string): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    try {
      countStorageOp('rangedRead');
      return await this.client(ref).downloadToBuffer(start, end - start, {
        concurrency: 1,
        ...(ifMatch !== undefined ? { conditions: { ifMatch: `"${ifMatch}"` } } : {}),
      });
    } catch (cause) {
      if (cause instanceof ExternalError) throw cause;
      if ((cause as { statusCode?: number }).statusCode === 412)
        throw new BlobVersionChangedError(
          `${ref.container}/${ref.name}: changed since version ${ifMatch} (bytes ${start}-${end})`,
          { cause },
        );
      throw new ExternalError(
        `${ref.container}/${ref.name}: cannot read bytes ${start}-${end} (${(cause as Error).message})`,
        isRetryable(cause),
        { cause },
      );
    }
  }
}
