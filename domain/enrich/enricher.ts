/**
 * The enricher: fills a summary's enrichment fields in place from what is known about its two addresses.
 *
 * Everything about one address (GeoIP, ASN, service tag, label, side class) is worked out once and kept
 * in a per-distinct-address cache, so enriching a summary is, on a hit, two Map lookups, a few compares
 * for the flow type, one Map lookup for the service name, and field copies: no allocation. GeoIP and
 * ASN lookups are plain functions passed in (the adapters wrap the MMDB / CSV readers), so this module
 * stays free of I/O.
 */

import type { FlowSummary } from '../summary/schema';
import type { RenderedSides, RowFactsEnricher } from '../summary/serialize';
import { type FlowSide, type FlowType, flowTypeOf, type SideClass } from './flow-type';
import { formatIp, type IpAddress, type IpFamily, ipv4OfBytes, parseIp } from './ip';
import { l7Protocol } from './l7';
import type { Label, LabelIndex } from './labels';
import type { ServiceTag, ServiceTagIndex, ServiceTagMatch } from './service-tags';
import { type SpecialRange, specialRange } from './special';
import { U32HashMap } from './u32-hash-map';

export interface GeoInfo {
  /** ISO 3166-1 alpha-2. */
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
}

export interface AsnInfo {
  readonly asn: number;
  readonly org: string | null;
}

/**
 * A GeoIP or ASN lookup of a parsed address (an IPv4-mapped IPv6 address arrives as IPv4: parseIp folds
 * it); the function routes it to the database of that family. `sourceOf` names the database that answers
 * an address (file and type), for `flowlog lookup`.
 */
export interface GeoLookup {
  (address: IpAddress): GeoInfo | null;
  readonly sourceOf?: (address: IpAddress) => string | null;
}
export interface AsnLookup {
  (address: IpAddress): AsnInfo | null;
  readonly sourceOf?: (address: IpAddress) => string | null;
}

/** Which data answered each field group of an address (file path and database type), null: none. */
export interface AnsweredBy {
  readonly geo: string | null;
  readonly asn: string | null;
}

export interface EnricherSources {
  readonly geo?: GeoLookup | null;
  readonly asn?: AsnLookup | null;
  readonly serviceTags?: ServiceTagIndex | null;
  readonly labels?: LabelIndex | null;
}

export interface EnricherOptions {
  /** The cache is emptied when it reaches this many addresses (default 1,000,000). */
  readonly maxCacheEntries?: number;
  /** ASNs whose public addresses count as Azure (AzurePublic). Default: Microsoft's 8068–8075. */
  readonly microsoftAsns?: readonly number[];
}

export const DEFAULT_MICROSOFT_ASNS: readonly number[] = [8068, 8069, 8070, 8071, 8072, 8073, 8074, 8075];

export interface SummaryEnricher {
  /** Fills the enrichment fields of the summary in place. */
  enrich(summary: FlowSummary): void;
}

export interface EnrichmentStats {
  /** Summaries enriched. */
  readonly summaries: number;
  /** Address lookups (two per summary). */
  readonly lookups: number;
  readonly hits: number;
  readonly misses: number;
  /** hits / lookups, 0 when nothing was looked up. */
  readonly hitRate: number;
  /** Distinct addresses in the cache now. */
  readonly cachedAddresses: number;
  /** Times the cache was emptied (size cap reached, or data reloaded). */
  readonly cacheResets: number;
}

/** Everything the app knows about one address (`flowlog lookup`). */
export interface AddressInfo {
  readonly input: string;
  /** Canonical text of the address; null if the input is not an address. */
  readonly address: string | null;
  readonly family: IpFamily | null;
  /** The special-purpose range containing it; such an address is never looked up in GeoIP/ASN. */
  readonly special: SpecialRange | null;
  readonly geo: GeoInfo | null;
  readonly asn: AsnInfo | null;
  /** True when the ASN is one of the Microsoft ASNs that make an address count as Azure. */
  readonly microsoftAsn: boolean;
  /** The service tag the summaries carry (longest prefix, then the tie-break), or null. */
  readonly serviceTag: ServiceTagMatch | null;
  /** Every service tag containing the address, most specific first. */
  readonly serviceTags: readonly ServiceTagMatch[];
  /** The label the summaries carry, or null. */
  readonly label: Label | null;
  /** Every label containing the address, most specific first. */
  readonly labels: readonly Label[];
  /** Side class used for the flow type. */
  readonly sideClass: SideClass;
  /** The database that gave the location and the AS (the service tags and labels come from one source each). */
  readonly answeredBy: AnsweredBy;
  /** The per-side summary fields this address gets. */
  readonly fields: AddressFields;
  /** Why some data is absent (not an address, special range, source not loaded). */
  readonly notes: readonly string[];
}

/** The per-side enrichment fields of a summary (without the src/dst prefix). */
export interface AddressFields {
  readonly Country: string | null;
  readonly City: string | null;
  readonly Lat: number | null;
  readonly Lon: number | null;
  readonly Asn: number | null;
  readonly AsOrg: string | null;
  readonly ServiceTag: string | null;
  readonly AzureRegion: string | null;
  readonly Label: string | null;
}

/** What one side of a summary gets from enrichment (field names without the src/dst prefix). */
export interface SideEnrichment {
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly asn: number | null;
  readonly asOrg: string | null;
  readonly serviceTag: string | null;
  readonly azureRegion: string | null;
  readonly label: string | null;
}

/** Copies both sides' facts into a summary's enrichment fields (plain stores: this is the hot path). */
export function writeSides(summary: FlowSummary, src: SideEnrichment, dst: SideEnrichment): void {
  summary.srcCountry = src.country;
  summary.srcCity = src.city;
  summary.srcLat = src.lat;
  summary.srcLon = src.lon;
  summary.srcAsn = src.asn;
  summary.srcAsOrg = src.asOrg;
  summary.srcServiceTag = src.serviceTag;
  summary.srcAzureRegion = src.azureRegion;
  summary.srcLabel = src.label;
  summary.dstCountry = dst.country;
  summary.dstCity = dst.city;
  summary.dstLat = dst.lat;
  summary.dstLon = dst.lon;
  summary.dstAsn = dst.asn;
  summary.dstAsOrg = dst.asOrg;
  summary.dstServiceTag = dst.serviceTag;
  summary.dstAzureRegion = dst.azureRegion;
  summary.dstLabel = dst.label;
}

/**
 * The cached facts of one address: flat, one hidden class, shared by every summary that names it, and by
 * every address with the same facts (interned: on an internet-facing NIC ~100,000 distinct addresses had
 * ~31,000 distinct facts). Never changed once made, so an encoder may keep each side's rendered fields on
 * it (`srcRendered` / `dstRendered`, see RenderedSides in domain/summary/serialize.ts).
 */
class AddressFacts implements FlowSide, RenderedSides {
  srcRendered: Uint8Array | undefined = undefined;
  dstRendered: Uint8Array | undefined = undefined;
  constructor(
    readonly country: string | null,
    readonly city: string | null,
    readonly lat: number | null,
    readonly lon: number | null,
    readonly asn: number | null,
    readonly asOrg: string | null,
    readonly serviceTag: string | null,
    readonly azureRegion: string | null,
    readonly label: string | null,
    readonly sideClass: SideClass,
  ) {}
}

const NOT_AN_ADDRESS = new AddressFacts(null, null, null, null, null, null, null, null, null, 'other');

interface Resolved {
  readonly address: IpAddress | null;
  readonly special: SpecialRange | null;
  readonly geo: GeoInfo | null;
  readonly asn: AsnInfo | null;
  readonly microsoftAsn: boolean;
  readonly tag: ServiceTag | null;
  readonly label: Label | null;
  readonly sideClass: SideClass;
}

export class Enricher implements SummaryEnricher, RowFactsEnricher<AddressFacts> {
  private geo: GeoLookup | null;
  private asn: AsnLookup | null;
  private serviceTags: ServiceTagIndex | null;
  private labels: LabelIndex | null;
  private readonly microsoft: ReadonlySet<number>;
  private readonly maxCacheEntries: number;
  private cache = new Map<string, AddressFacts>();
  /**
   * IPv4 addresses by value (→ index in v4Facts): the encoder hands over the address bytes, so rows of
   * IPv4 traffic make no strings and hash no strings. Filled from both ways in (bytes and text).
   */
  private v4 = new U32HashMap(12);
  private v4Facts: AddressFacts[] = [];
  /** One facts object per distinct lookup result (see AddressFacts and intern). Emptied with the cache. */
  private interned: InternedFacts = new Map();
  private lastSrcIp = '';
  private lastSrc: AddressFacts = NOT_AN_ADDRESS;
  private lastDstIp = '';
  private lastDst: AddressFacts = NOT_AN_ADDRESS;
  private summaries = 0;
  private hits = 0;
  private misses = 0;
  private resets = 0;
  /** The fields of a summary depend only on its addresses, port and protocol (see SummaryEnricherLike). */
  readonly fieldsDependOnAddressesAndPort = true;

  /**
   * The facts of the address written as ASCII at b[from, to), through the cache (one lookup counted):
   * what appendRecord asks per row side instead of building address strings (RowFactsEnricher).
   */
  factsAt(b: Uint8Array, from: number, to: number): AddressFacts {
    const v = ipv4OfBytes(b, from, to);
    return v < 0
      ? this.facts(String.fromCharCode.apply(null, b.subarray(from, to) as unknown as number[]))
      : this.ipv4Facts(v);
  }

  /** What `enrich` writes into a summary whose sides have these facts (its dstPort and protocol set). */
  fillRow(summary: FlowSummary, src: AddressFacts, dst: AddressFacts): void {
    writeSides(summary, src, dst);
    summary.flowType = flowTypeOf(src, dst);
    summary.l7Protocol = l7Protocol(summary.dstPort, summary.protocol);
  }

  /** The flowType of a row with these sides (as fillRow writes it). */
  flowTypeOf(src: AddressFacts, dst: AddressFacts): string {
    return flowTypeOf(src, dst);
  }

  /** The l7Protocol of a row (as fillRow writes it). */
  l7Of(dstPort: number, protocol: string): string {
    return l7Protocol(dstPort, protocol);
  }

  /** Rows enriched through factsAt (each counted once, as `enrich` counts a summary). */
  countRows(rows: number): void {
    this.summaries += rows;
  }

  constructor(sources: EnricherSources, options: EnricherOptions = {}) {
    this.geo = sources.geo ?? null;
    this.asn = sources.asn ?? null;
    this.serviceTags = sources.serviceTags ?? null;
    this.labels = sources.labels ?? null;
    this.microsoft = new Set(options.microsoftAsns ?? DEFAULT_MICROSOFT_ASNS);
    this.maxCacheEntries = Math.max(1, options.maxCacheEntries ?? 1_000_000);
  }

  enrich(summary: FlowSummary): void {
    this.summaries++;
    // Consecutive summaries of one flow group usually share an address (the NIC's): check the last one
    // of each side before the Map.
    const srcIp = summary.srcIp;
    let src: AddressFacts;
    if (srcIp === this.lastSrcIp) {
      this.hits++;
      src = this.lastSrc;
    } else {
      src = this.facts(srcIp);
      this.lastSrcIp = srcIp;
      this.lastSrc = src;
    }
    const dstIp = summary.dstIp;
    let dst: AddressFacts;
    if (dstIp === this.lastDstIp) {
      this.hits++;
      dst = this.lastDst;
    } else {
      dst = this.facts(dstIp);
      this.lastDstIp = dstIp;
      this.lastDst = dst;
    }
    writeSides(summary, src, dst);
    summary.flowType = flowTypeOf(src, dst);
    summary.l7Protocol = l7Protocol(summary.dstPort, summary.protocol);
  }

  /** Flow type of two addresses (through the cache). */
  flowType(srcIp: string, dstIp: string): FlowType {
    return flowTypeOf(this.facts(srcIp), this.facts(dstIp));
  }

  stats(): EnrichmentStats {
    const lookups = this.hits + this.misses;
    return {
      summaries: this.summaries,
      lookups,
      hits: this.hits,
      misses: this.misses,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      cachedAddresses: this.cache.size + this.v4Facts.length,
      cacheResets: this.resets,
    };
  }

  /** Swaps data sources (a reloaded service tags file or labels table) and empties the cache. */
  replaceSources(sources: EnricherSources): void {
    if (sources.geo !== undefined) this.geo = sources.geo;
    if (sources.asn !== undefined) this.asn = sources.asn;
    if (sources.serviceTags !== undefined) this.serviceTags = sources.serviceTags;
    if (sources.labels !== undefined) this.labels = sources.labels;
    this.cache = new Map();
    this.v4 = new U32HashMap(12);
    this.v4Facts = [];
    this.interned = new Map();
    this.forgetLast();
    this.resets++;
  }

  private forgetLast(): void {
    this.lastSrcIp = '';
    this.lastSrc = NOT_AN_ADDRESS;
    this.lastDstIp = '';
    this.lastDst = NOT_AN_ADDRESS;
  }

  /** Everything known about an address, uncached and with every matching tag and label. */
  lookup(input: string): AddressInfo {
    const text = input.trim();
    const r = this.resolve(text);
    const notes: string[] = [];
    const a = r.address;
    if (a === null) notes.push('not an IPv4 or IPv6 address');
    else {
      if (r.special !== null) notes.push('special-purpose range: not looked up in GeoIP or ASN data');
      else {
        if (this.geo === null) notes.push('no GeoIP data loaded');
        else if (r.geo === null) notes.push('not in the GeoIP data');
        if (this.asn === null) notes.push('no ASN data loaded');
        else if (r.asn === null) notes.push('not in the ASN data');
      }
      if (this.serviceTags === null) notes.push('no service tags loaded');
      if (this.labels === null) notes.push('no labels loaded');
    }
    const f = toFacts(r);
    return {
      input,
      address: a === null ? null : formatIp(a),
      family: a === null ? null : a.family,
      special: r.special,
      geo: r.geo,
      asn: r.asn,
      microsoftAsn: r.microsoftAsn,
      serviceTag:
        a === null || r.tag === null || this.serviceTags === null ? null : this.serviceTags.match(a),
      serviceTags: a === null || this.serviceTags === null ? [] : this.serviceTags.allMatches(a),
      label: r.label,
      labels: a === null || this.labels === null ? [] : this.labels.allMatches(a),
      sideClass: r.sideClass,
      answeredBy: {
        geo: a === null || r.geo === null ? null : (this.geo?.sourceOf?.(a) ?? null),
        asn: a === null || r.asn === null ? null : (this.asn?.sourceOf?.(a) ?? null),
      },
      fields: {
        Country: f.country,
        City: f.city,
        Lat: f.lat,
        Lon: f.lon,
        Asn: f.asn,
        AsOrg: f.asOrg,
        ServiceTag: f.serviceTag,
        AzureRegion: f.azureRegion,
        Label: f.label,
      },
      notes,
    };
  }

  /** IPv4 addresses are kept by value (whatever their spelling), others by their text. */
  private facts(ip: string): AddressFacts {
    const cached = this.cache.get(ip);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const address = parseIp(ip);
    if (address !== null && address.family === 4) return this.ipv4Facts(address.value);
    this.misses++;
    const f = address === null ? NOT_AN_ADDRESS : this.intern(this.resolveAddress(address));
    this.remember(ip, -1, f);
    return f;
  }

  /** The facts of an IPv4 address, by its value (one lookup counted). */
  private ipv4Facts(value: number): AddressFacts {
    const i = this.v4.get(value);
    if (i >= 0) {
      this.hits++;
      return this.v4Facts[i]!;
    }
    this.misses++;
    const f = this.intern(this.resolveAddress({ family: 4, value }));
    this.remember(null, value, f);
    return f;
  }

  /** Keeps facts by text or by IPv4 value (-1: none), emptying both caches at the size cap. */
  private remember(text: string | null, v4: number, f: AddressFacts): void {
    if (this.cache.size + this.v4Facts.length >= this.maxCacheEntries) {
      this.cache.clear();
      this.v4 = new U32HashMap(12);
      this.v4Facts = [];
      this.interned.clear();
      this.resets++;
    }
    if (text !== null) this.cache.set(text, f);
    if (v4 >= 0 && this.v4.insert(v4, this.v4Facts.length)) this.v4Facts.push(f);
  }

  /**
   * The facts object already made from the same looked-up objects (GeoIP record, ASN, tag, label: the
   * lookups hand out one object each, shared by their addresses) and side class, else a new one. Keyed
   * by identity, without building key text: the GeoIP record picks a short list (on the bench's
   * internet-facing hour ~1.4 facts per record), compared field by field.
   */
  private intern(r: Resolved): AddressFacts {
    let list = this.interned.get(r.geo);
    if (list === undefined) {
      list = [];
      this.interned.set(r.geo, list);
    }
    for (const known of list) {
      if (
        known.from === r.asn &&
        known.tag === r.tag &&
        known.labelFrom === r.label &&
        known.sideClass === r.sideClass
      )
        return known.facts;
    }
    const facts = toFacts(r);
    list.push({ from: r.asn, tag: r.tag, labelFrom: r.label, sideClass: r.sideClass, facts });
    return facts;
  }

  private resolve(text: string): Resolved {
    return this.resolveAddress(parseIp(text));
  }

  private resolveAddress(address: IpAddress | null): Resolved {
    if (address === null) {
      return {
        address,
        special: null,
        geo: null,
        asn: null,
        microsoftAsn: false,
        tag: null,
        label: null,
        sideClass: 'other',
      };
    }
    const special = specialRange(address);
    const label = this.labels?.lookup(address) ?? null;
    let geo: GeoInfo | null = null;
    let asn: AsnInfo | null = null;
    let tag: ServiceTag | null = null;
    if (special === null) {
      // (An IPv4-mapped IPv6 address is looked up as the IPv4 address it carries: parseIp folded it.)
      geo = this.geo === null ? null : this.geo(address);
      asn = this.asn === null ? null : this.asn(address);
      tag = this.serviceTags === null ? null : this.serviceTags.lookup(address);
    }
    const microsoftAsn = asn !== null && this.microsoft.has(asn.asn);
    let sideClass: SideClass;
    if (label !== null) sideClass = label.kind;
    else if (special !== null)
      sideClass = special.kind === 'azure-platform' ? 'azure' : special.privateSpace ? 'private' : 'other';
    else if (tag !== null || microsoftAsn) sideClass = 'azure';
    else sideClass = 'public';
    return { address, special, geo, asn, microsoftAsn, tag, label, sideClass };
  }
}

/** Facts made per GeoIP record (null: none), with the other looked-up objects they were made from. */
type InternedFacts = Map<GeoInfo | null, InternedEntry[]>;

interface InternedEntry {
  readonly from: AsnInfo | null;
  readonly tag: ServiceTag | null;
  readonly labelFrom: Label | null;
  readonly sideClass: SideClass;
  readonly facts: AddressFacts;
}

function toFacts(r: Resolved): AddressFacts {
  return new AddressFacts(
    r.geo?.country ?? null,
    r.geo?.city ?? null,
    r.geo?.lat ?? null,
    r.geo?.lon ?? null,
    r.asn?.asn ?? null,
    r.asn?.org ?? null,
    r.tag?.name ?? null,
    r.tag?.region ?? null,
    r.label?.label ?? null,
    r.sideClass,
  );
}

/** An enricher that leaves every enrichment field null (`--no-enrich`). */
export class NullEnricher implements SummaryEnricher {
  enrich(_summary: FlowSummary): void {}
}
