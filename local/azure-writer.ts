import type { ContainerClient } from '@azure/storage-blob';

/**
 * Writes a flow-log blob the way Azure does: block 0 is `{"records":[`, the last block is `]}`, and every
 * new record is staged as its own block (with a leading comma after the first) and committed just
 * before the closer, which is re-committed last. Returns what a BlobCreated event carries.
 */
export interface CommitInfo {
  readonly contentLength: number;
  readonly eTag: string;
  readonly url: string;
  readonly blocks: number;
  /** Byte offset of the record just appended (where its `{` is), when the commit appended one. */
  readonly recordOffset?: number;
}

const HEADER = '{"records":[';
const CLOSER = ']}';

/**
 * Block ids must all have one length within a blob; Azure's are random, these are readable. `version`
 * counts the blob's re-creations: a rewritten blob has new block ids, as Azure's writer gives it.
 */
const blockId = (tag: string, n: number, version = 0) =>
  Buffer.from(`${tag}${version.toString(36).padStart(3, '0')}-${String(n).padStart(8, '0')}`).toString(
    'base64',
  );

export class AzureStyleBlobWriter {
  private readonly blocks = new Map<string, string[]>();
  private readonly versions = new Map<string, number>();

  constructor(private readonly container: ContainerClient) {}

  /** Appends one record (a JSON text) to the blob, creating it with header and closer on first use. */
  async appendRecord(name: string, recordJson: string): Promise<CommitInfo> {
    const client = this.container.getBlockBlobClient(name);
    let ids = this.blocks.get(name);
    if (!ids) {
      ids = [blockId('H', 0, this.version(name))];
      await client.stageBlock(ids[0]!, Buffer.from(HEADER), HEADER.length);
      await client.stageBlock(blockId('Z', 0, this.version(name)), Buffer.from(CLOSER), CLOSER.length);
      this.blocks.set(name, ids);
    }
    const body = Buffer.from(ids.length === 1 ? recordJson : `,${recordJson}`);
    const id = blockId('D', ids.length, this.version(name));
    await client.stageBlock(id, body, body.length);
    ids.push(id);
    const info = await this.commit(name, ids);
    // The record ends just before the closing block.
    return { ...info, recordOffset: info.contentLength - CLOSER.length - Buffer.byteLength(recordJson) };
  }

  /** Replaces the blob with a fresh one (new block ids): what a rewrite or re-creation looks like. */
  async recreate(name: string, records: readonly string[]): Promise<CommitInfo> {
    this.blocks.delete(name);
    this.versions.set(name, this.version(name) + 1);
    await this.container.getBlockBlobClient(name).deleteIfExists();
    let info: CommitInfo | undefined;
    for (const r of records) info = await this.appendRecord(name, r);
    if (!info) throw new Error('recreate needs at least one record');
    return info;
  }

  private version(name: string): number {
    return this.versions.get(name) ?? 0;
  }

  private async commit(name: string, ids: readonly string[]): Promise<CommitInfo> {
    const client = this.container.getBlockBlobClient(name);
    const response = await client.commitBlockList([...ids, blockId('Z', 0, this.version(name))]);
    const props = await client.getProperties();
    return {
      contentLength: props.contentLength ?? 0,
      eTag: response.etag ?? '',
      url: client.url,
      blocks: ids.length + 1,
    };
  }
}

let sequence = 0;

/** A `Microsoft.Storage.BlobCreated` event (Event Grid schema) for a commit. */
export function blobCreatedEvent(
  account: string,
  container: string,
  name: string,
  commit: CommitInfo,
  id?: string,
) {
  sequence++;
  return {
    id: id ?? `evt-${Date.now()}-${sequence}`,
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/flowlog-local/providers/Microsoft.Storage/storageAccounts/${account}`,
    subject: `/blobServices/default/containers/${container}/blobs/${name}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: new Date().toISOString(),
    data: {
      api: 'PutBlockList',
      clientRequestId: `req-${sequence}`,
      requestId: `rid-${sequence}`,
      eTag: `"${commit.eTag.replace(/"/g, '')}"`,
      contentType: 'application/octet-stream',
      contentLength: commit.contentLength,
      blobType: 'BlockBlob',
      url: commit.url,
      sequencer: String(sequence).padStart(32, '0'),
      storageDiagnostics: { batchId: 'local' },
    },
    dataVersion: '',
    metadataVersion: '1',
  };
}
