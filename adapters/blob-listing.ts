import { parseHourPath } from '../domain/blob-identity';
import { checkFlowLogBlobName } from '../domain/blob-name';
import type { BlobRef } from '../domain/blob-ref';
import { blobService } from './clients';
import type { AppConfig } from './config';
import { countStorageOp } from './storage-ops';

export interface ListedBlob {
  readonly ref: BlobRef;
  readonly contentLength: number;
  readonly hourStart: Date;
}

/**
 * Flow-log blobs of the configured accounts and containers whose hour starts in [fromHour, toHour].
 * Lists each container flat: one list call per 5,000 blobs (docs/capacity.md counts it).
 */
export async function listFlowLogBlobs(
  config: AppConfig,
  fromHour: Date,
  toHour: Date,
  namePrefix = '',
): Promise<ListedBlob[]> {
  const out: ListedBlob[] = [];
  for (const [account, connection] of config.sourceAccounts) {
    const service = blobService(connection);
    for (const container of config.containers) {
      const client = service.getContainerClient(container);
      if (!(await client.exists())) continue;
      countStorageOp('list');
      for await (const item of client.listBlobsFlat(namePrefix ? { prefix: namePrefix } : {})) {
        const hour = parseHourPath(item.name);
        // Only names in a flow-log layout are ever read (domain/blob-name.ts).
        if (!hour || !checkFlowLogBlobName(item.name).ok) continue;
        const t = hour.hourStart.getTime();
        if (t < fromHour.getTime() || t > toHour.getTime()) continue;
        out.push({
          ref: { account, container, name: item.name },
          contentLength: item.properties.contentLength ?? 0,
          hourStart: hour.hourStart,
        });
      }
    }
  }
  return out;
}
