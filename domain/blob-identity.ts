/**
 * Blob identity: the part of a blob name (or file path) that names a flow-log hour, from `resourceId=` /
 * `flowLogResourceID=` on. The same identity comes out of an Azure blob name, a URL, and a downloaded copy
 * of the blob on disk, so summary ids agree however the blob was read.
 */

import { murmur128Hex } from './hash';

const IDENTITY_START = /(?:^|\/)(resourceId=|flowLogResourceID=)/i;

/** Azure's layout `y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=MAC/PT1H.json`, anchored at the end of the name. */
const HOUR_PATH =
  /\/y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\/m=(\d{2})\/macAddress=([0-9A-Fa-f:-]+)\/PT1H\.json$/;

export interface FlowLogHourPath {
  /** Start of the hour the blob covers, UTC. */
  readonly hourStart: Date;
  readonly macAddress: string;
}

function toSlashes(path: string): string {
  return path.replace(/\\/g, '/');
}

/**
 * The identity of a blob name, URL path or file path, or undefined when it does not follow the Azure layout
 * (callers then use a path relative to the folder they were given).
 */
export function blobIdentityFromName(name: string): string | undefined {
  const path = toSlashes(safeDecode(name));
  const match = IDENTITY_START.exec(path);
  if (!match) return undefined;
  const start = match.index + (match[0].startsWith('/') ? 1 : 0);
  return path.slice(start);
}

/**
 * The identity a blob's rows carry in one generation. A blob rewritten from byte 0 (a new generation,
 * rare: deleted and recreated within its hour) holds new data at the same record ordinals, so its rows
 * get `<identity>#g<N>`: their ids never collide with the old generation's, whose rows stay valid (they
 * were real traffic). Generation 0 is the identity itself, as `flowlog process` gives it.
 */
export function generationIdentity(identity: string, generation: number): string {
  return generation > 0 ? `${identity}#g${generation}` : identity;
}

/**
 * The `blob` field of a blob's rows: 16 hex characters, the first 64 bits of MurmurHash3 x86 128 of its
 * (generation) identity. The identity itself (~300 bytes) is part of every id but is not repeated in
 * every row; the ledger and `flowlog blob-id` show the pair.
 */
export function blobIdOf(identity: string): string {
  return murmur128Hex(identity).slice(0, 16);
}

/**
 * The identity a blob's rows are made with in the app: its Azure-layout identity, else `container/name`,
 * with the generation appended (generationIdentity).
 */
export function blobIdentityOfRef(
  ref: { readonly container: string; readonly name: string },
  generation: number,
): string {
  return generationIdentity(blobIdentityFromName(ref.name) ?? `${ref.container}/${ref.name}`, generation);
}

/** Identity of a file: its Azure-layout tail when present, else its path relative to `root`. */
export function blobIdentityForFile(relativePath: string): string {
  return blobIdentityFromName(relativePath) ?? toSlashes(relativePath).replace(/^\.\//, '');
}

/** Hour and MAC from an Azure-layout blob name, or undefined. */
export function parseHourPath(name: string): FlowLogHourPath | undefined {
  const m = HOUR_PATH.exec(toSlashes(name));
  if (!m) return undefined;
  const hourStart = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4])));
  if (Number.isNaN(hourStart.getTime())) return undefined;
  return { hourStart, macAddress: normalizeMac(m[6] ?? '') };
}

/** MAC as the contract writes it: upper case, no separators. */
export function normalizeMac(mac: string): string {
  let needsWork = false;
  for (let i = 0; i < mac.length; i++) {
    const c = mac.charCodeAt(i);
    if ((c >= 97 && c <= 102) || c === 45 || c === 58) {
      needsWork = true;
      break;
    }
  }
  return needsWork ? mac.replace(/[-:]/g, '').toUpperCase() : mac;
}

function safeDecode(name: string): string {
  if (!name.includes('%')) return name;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
