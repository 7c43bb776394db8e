import { checkFlowLogBlobName } from './blob-name';
import { parseBlobSubject, parseBlobUrl } from './blob-ref';

/** A `Microsoft.Storage.BlobCreated` event reduced to what the app needs. */
export interface BlobCreated {
  readonly eventId: string;
  readonly account: string;
  readonly container: string;
  readonly name: string;
  readonly url: string;
  /** Size of the whole blob after the operation. */
  readonly contentLength: number;
  /** Without quotes (current events quote it, older ones do not). */
  readonly eTag: string;
  /** Opaque per-blob order of events; compare with compareSequencers. */
  readonly sequencer: string;
  readonly api: string;
  readonly eventTime: string;
}

export type BlobEventVerdict =
  | { readonly kind: 'accepted'; readonly event: BlobCreated }
  | { readonly kind: 'ignored'; readonly reason: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** APIs after which a block blob is fully committed (Event Grid docs). */
const COMMITTED_APIS = new Set(['PutBlockList', 'PutBlob', 'CopyBlob', 'FlushWithClose']);

export const normalizeETag = (eTag: string): string => eTag.replace(/^W\//, '').replace(/^"|"$/g, '');

/**
 * Order of two sequencers of the same blob: negative, zero or positive. They are hex strings compared as
 * strings; values of different lengths are left-padded first.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.padStart(width, '0');
  const pb = b.padStart(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/**
 * Reads an Event Grid (Event Grid schema or CloudEvents 1.0) BlobCreated event and decides whether it is
 * a flow-log blob this app serves: right event type and API, an account in `accounts`, a container in
 * `containers`, a name ending in PT1H.json. Everything else is ignored with a reason (counted, not an error).
 */
export function readBlobCreated(
  raw: unknown,
  accounts: ReadonlySet<string>,
  containers: ReadonlySet<string>,
): BlobEventVerdict {
  if (!isObject(raw)) return { kind: 'ignored', reason: 'event is not an object' };
  const type = raw['eventType'] ?? raw['type'];
  if (type !== 'Microsoft.Storage.BlobCreated')
    return { kind: 'ignored', reason: `event type ${String(type)}` };
  const data = raw['data'];
  if (!isObject(data)) return { kind: 'ignored', reason: 'event has no data' };
  const api = String(data['api'] ?? '');
  if (!COMMITTED_APIS.has(api)) return { kind: 'ignored', reason: `api ${api} does not commit a blob` };
  const subject = parseBlobSubject(String(raw['subject'] ?? ''));
  const url = String(data['url'] ?? '');
  const fromUrl = parseBlobUrl(url);
  const topic = String(raw['topic'] ?? raw['source'] ?? '');
  const account = /\/storageAccounts\/([^/]+)$/i.exec(topic)?.[1] ?? fromUrl?.account;
  const container = subject?.container ?? fromUrl?.container;
  const name = subject?.name ?? fromUrl?.name;
  if (!account || !container || !name)
    return { kind: 'ignored', reason: 'cannot tell account, container and blob name' };
  if (!accounts.has(account.toLowerCase()))
    return { kind: 'ignored', reason: `account ${account} is not configured` };
  if (!containers.has(container))
    return { kind: 'ignored', reason: `container ${container} is not a flow-log container` };
  if (!name.endsWith('/PT1H.json')) return { kind: 'ignored', reason: 'not a PT1H.json flow-log blob' };
  if (subject && fromUrl && (subject.container !== fromUrl.container || subject.name !== fromUrl.name))
    return { kind: 'ignored', reason: 'subject and url name different blobs' };
  const checked = checkFlowLogBlobName(name);
  if (!checked.ok) return { kind: 'ignored', reason: checked.reason };
  const contentLength = Number(data['contentLength']);
  if (!Number.isFinite(contentLength) || contentLength < 0)
    return { kind: 'ignored', reason: 'no contentLength' };
  return {
    kind: 'accepted',
    event: {
      eventId: String(raw['id'] ?? ''),
      account: account.toLowerCase(),
      container,
      name,
      url,
      contentLength,
      eTag: normalizeETag(String(data['eTag'] ?? '')),
      sequencer: String(data['sequencer'] ?? ''),
      api,
      eventTime: String(raw['eventTime'] ?? raw['time'] ?? ''),
    },
  };
}
