import { murmur128Hex } from './hash';

/** A flow-log blob in a source storage account. */
export interface BlobRef {
  readonly account: string;
  readonly container: string;
  /** Blob name inside the container (Azure layout: `resourceId=/.../PT1H.json`). */
  readonly name: string;
}

/**
 * Durable entity key and orchestration instance id of a blob. Instance ids may not contain `/` and are
 * best short, so the key is readable context plus a 128-bit hash of the full reference.
 */
export function blobKey(ref: BlobRef): string {
  const hash = murmur128Hex(`${ref.account}\u001f${ref.container}\u001f${ref.name}`);
  const hour = /\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\//.exec(ref.name);
  const when = hour ? `${hour[1]}${hour[2]}${hour[3]}${hour[4]}` : 'nohour';
  return `${ref.account.toLowerCase()}-${when}-${hash}`;
}

/** `/blobServices/default/containers/{container}/blobs/{name}` (Event Grid subject). */
export function parseBlobSubject(subject: string): { container: string; name: string } | undefined {
  const m = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(subject);
  return m ? { container: m[1]!, name: m[2]! } : undefined;
}

/**
 * Account, container and name of a blob URL (`https://{account}.blob.core.windows.net/{container}/{name}`,
 * or the path-style `http://127.0.0.1:port/{account}/{container}/{name}` that Azurite uses). Names are
 * URL-decoded.
 */
export function parseBlobUrl(url: string): BlobRef | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const parts = u.pathname.split('/').filter((p) => p !== '');
  const hostAccount = /^([a-z0-9]{3,24})\.blob\./.exec(u.hostname)?.[1];
  const [account, container, ...rest] = hostAccount ? [hostAccount, ...parts] : parts;
  if (!account || !container || rest.length === 0) return undefined;
  const name = rest.map((p) => safeDecode(p)).join('/');
  return { account, container, name };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
