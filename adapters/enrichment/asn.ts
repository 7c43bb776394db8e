/**
 * ASN data: either MMDB files (GeoLite2-ASN / GeoIP2-ISP style records) or range CSVs in the
 * @ip-location-db format (the default data). A parsed CSV table is cached as a flat binary file keyed by
 * the CSV files' paths, sizes and modification times, so only the first start-up on a machine pays for
 * parsing (~0.3 s for the default data; reading the cache back takes ~20 ms).
 */

import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  type AsnLookup,
  AsnRangeBuilder,
  AsnRangeTable,
  EnrichmentDataError,
  type IpAddress,
} from '../../domain/enrich';
import { cacheFile, cacheKey, readCached, writeCached } from './cache';
import { ASN_FIELDS, asnFromRecord, errorText, mmdbLookup, openMmdb, routeByFamily } from './mmdb';

export interface AsnSource {
  readonly lookup: AsnLookup;
  readonly kind: 'mmdb' | 'csv';
  readonly details: readonly string[];
  readonly buildDate: string | null;
}

function isMmdb(path: string): boolean {
  return path.toLowerCase().endsWith('.mmdb');
}

export async function openAsn(paths: readonly string[], cacheDir: string | null): Promise<AsnSource> {
  const mmdb = paths.filter(isMmdb);
  if (mmdb.length > 0 && mmdb.length < paths.length) {
    throw new EnrichmentDataError(
      'ASN',
      paths.join(', '),
      'wrong-kind',
      'mixes MMDB and CSV files; give either MMDB files or @ip-location-db CSV files',
    );
  }
  if (mmdb.length > 0) {
    const files = await Promise.all(mmdb.map((p) => openMmdb(p, 'ASN')));
    const { v4, v6 } = routeByFamily(files);
    return {
      lookup: mmdbLookup(files, asnFromRecord, ASN_FIELDS),
      kind: 'mmdb',
      details: [
        `IPv4: ${v4 === null ? 'none' : `${basename(v4.path)} (${v4.databaseType})`}`,
        `IPv6: ${v6 === null ? 'none' : `${basename(v6.path)} (${v6.databaseType})`}`,
      ],
      buildDate: files[0]?.buildEpoch.toISOString().slice(0, 10) ?? null,
    };
  }
  const { table, cache } = await loadAsnCsv(paths, cacheDir);
  return {
    lookup: Object.assign((address: IpAddress) => table.lookup(address), {
      sourceOf: (address: IpAddress) => {
        const files = paths.filter((p) => /ipv6/i.test(basename(p)) === (address.family === 6));
        return `${(files.length > 0 ? files : paths).join(', ')} (ASN range CSV)`;
      },
    }),
    kind: 'csv',
    details: [`${table.ipv4Ranges} IPv4 ranges, ${table.ipv6Ranges} IPv6 ranges`, `cache: ${cache}`],
    buildDate: null,
  };
}

/** Parses the CSV files (or reads the cached table); `cache` says which happened. */
export async function loadAsnCsv(
  paths: readonly string[],
  cacheDir: string | null,
): Promise<{ table: AsnRangeTable; cache: string }> {
  const identity: string[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      identity.push(`${resolve(p)}\0${st.size}\0${st.mtimeMs}`);
    } catch (cause) {
      throw new EnrichmentDataError(
        'ASN',
        p,
        'missing',
        `cannot read the file (${errorText(cause)}); pass an ASN MMDB or @ip-location-db ASN CSV with --asn (FLOWLOG_ASN_PATH), or reinstall the default data with \`npm ci\` (@ip-location-db/asn)`,
        { cause },
      );
    }
  }
  const key = cacheKey('asn-v2', ...identity);
  if (cacheDir !== null) {
    const cached = await readCached(cacheDir, 'asn', key);
    const table = cached === null ? null : AsnRangeTable.fromBytes(cached);
    if (table !== null) return { table, cache: `read ${cacheFile(cacheDir, 'asn', key)}` };
  }
  const builder = new AsnRangeBuilder();
  for (const p of paths) {
    let bytes: Buffer;
    try {
      bytes = await readFile(p);
    } catch (cause) {
      throw new EnrichmentDataError('ASN', p, 'missing', `cannot read the file (${errorText(cause)})`, {
        cause,
      });
    }
    builder.add(bytes, p);
  }
  const table = builder.build();
  if (table.ipv4Ranges + table.ipv6Ranges === 0) {
    throw new EnrichmentDataError('ASN', paths.join(', '), 'corrupt', 'no ASN ranges in the file(s)');
  }
  const cache =
    cacheDir === null ? 'disabled' : `parsed, ${await writeCached(cacheDir, 'asn', key, table.toBytes())}`;
  return { table, cache };
}
