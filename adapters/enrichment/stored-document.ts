/**
 * The enrichment documents the refresh timers keep in host storage (topology, threat feeds): read back
 * as JSON, with the errors an operator can act on.
 */
import type { BlobClient } from '@azure/storage-blob';
import { EnrichmentDataError } from '../../domain/enrich';
import { errorText } from './mmdb';

/**
 * The parsed JSON of the stored document, or null when there is none yet (before the first refresh).
 * EnrichmentDataError (naming `dataset` and `source`) when it cannot be read or is not JSON; `what` says
 * what it holds (`the stored topology`).
 */
export async function readStoredDocument(
  blob: BlobClient,
  dataset: string,
  source: string,
  what: string,
): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await blob.downloadToBuffer();
  } catch (cause) {
    const status =
      typeof cause === 'object' && cause !== null && 'statusCode' in cause ? Number(cause.statusCode) : NaN;
    if (status === 404) return null;
    throw new EnrichmentDataError(
      dataset,
      source,
      'missing',
      `cannot read ${what} (${Number.isNaN(status) ? errorText(cause) : `HTTP ${status}`}); the app's identity needs Storage Blob Data Contributor on host storage`,
      { cause },
    );
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (cause) {
    throw new EnrichmentDataError(
      dataset,
      source,
      'corrupt',
      `not JSON (${errorText(cause)}); delete it, the next refresh writes it again`,
      { cause },
    );
  }
}
