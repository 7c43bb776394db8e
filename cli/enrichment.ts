import type { EnrichmentOptions, LoadedEnricher } from '../adapters/enrichment';
import { type OptionSpec, UsageError } from './args';

/** The enrichment data flags shared by `process` and `lookup`. */
export const ENRICHMENT_FLAGS = {
  geoip: { type: 'string' },
  asn: { type: 'string' },
  'service-tags': { type: 'string' },
  labels: { type: 'string' },
  'threat-feed': { type: 'string' },
  'no-enrich': { type: 'boolean' },
} as const satisfies Record<string, OptionSpec>;

export interface EnrichmentFlagValues {
  readonly geoip?: string | boolean | undefined;
  readonly asn?: string | boolean | undefined;
  readonly 'service-tags'?: string | boolean | undefined;
  readonly labels?: string | boolean | undefined;
  readonly 'threat-feed'?: string | boolean | undefined;
  readonly 'no-enrich'?: string | boolean | undefined;
}

const DATA_FLAGS = ['geoip', 'asn', 'service-tags', 'labels', 'threat-feed'] as const;

/** The loader's options from the flags; a data flag together with --no-enrich is a usage error. */
export function enrichmentOptions(values: EnrichmentFlagValues): EnrichmentOptions {
  const text = (name: (typeof DATA_FLAGS)[number]) => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} needs a path`);
    return v;
  };
  if (values['no-enrich'] === true) {
    const given = DATA_FLAGS.filter((f) => values[f] !== undefined);
    if (given.length > 0)
      throw new UsageError(`--no-enrich cannot be combined with ${given.map((f) => `--${f}`).join(', ')}`);
    return { enabled: false };
  }
  const geoipPath = text('geoip');
  const asnPath = text('asn');
  const serviceTagsPath = text('service-tags');
  const labelsPath = text('labels');
  const feedList = text('threat-feed');
  let threatFeeds: import('../adapters/enrichment/threat-feeds').ThreatFeedSpec[] | undefined;
  if (feedList !== undefined) {
    // Required only when given: the other commands and --no-enrich never load the adapters.
    const feeds =
      require('../adapters/enrichment/threat-feeds') as typeof import('../adapters/enrichment/threat-feeds');
    try {
      threatFeeds = feeds.parseThreatFeedList(feedList, false);
    } catch (error) {
      if (error instanceof feeds.ThreatFeedListError) throw new UsageError(`--threat-feed: ${error.message}`);
      throw error;
    }
  }
  return {
    enabled: true,
    ...(threatFeeds === undefined ? {} : { threatFeeds }),
    ...(geoipPath === undefined ? {} : { geoipPath }),
    ...(asnPath === undefined ? {} : { asnPath }),
    ...(serviceTagsPath === undefined ? {} : { serviceTagsPath }),
    ...(labelsPath === undefined ? {} : { labelsPath }),
  };
}

/**
 * Loads the enrichment data (adapters/enrichment is required only here, so `--no-enrich` and the other
 * commands never pay for loading the MMDB reader and the address tables' code).
 */
export function loadEnrichment(options: EnrichmentOptions): Promise<LoadedEnricher> {
  const adapters = require('../adapters/enrichment') as typeof import('../adapters/enrichment');
  return adapters.loadEnricher(options);
}

/** The lookup renderings (same lazy loading). */
export function lookupFormat(): Pick<
  typeof import('../adapters/enrichment'),
  'formatLookupJson' | 'formatLookupText'
> {
  return require('../adapters/enrichment') as typeof import('../adapters/enrichment');
}

export const ENRICHMENT_FLAGS_HELP = `  --geoip PATH          City/Country MMDB file(s), comma-separated: MaxMind GeoLite2/GeoIP2, DB-IP, IPinfo
                                                                (default: DB-IP City Lite, installed)
  --asn PATH            ASN MMDB (GeoLite2-ASN, IPinfo ASN/Lite) or range CSV file(s), comma-separated
                                                                (default: ip-location-db ASN, installed)
  --service-tags PATH   Azure ServiceTags_Public_*.json, a path or blob URL              (default: none)
  --labels PATH         topology and threat labels CSV (cidr,label,kind)                  (default: none)
  --threat-feed LIST    blocklists as threat labels: [name=]file or https URL, comma-separated
                        (one address or CIDR block per line, # and ; comments)         (default: none)
  --no-enrich           no enrichment data at all`;
