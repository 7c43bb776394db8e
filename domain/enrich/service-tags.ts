/**
 * Azure service tags (the weekly `ServiceTags_Public_YYYYMMDD.json`): validation of the document and the
 * longest-prefix index over every tag's `addressPrefixes`, IPv4 and IPv6.
 *
 * Tie-break for two tags listing the same block (which is common: `Storage.EastUS`, `Storage`,
 * `AzureCloud.eastus` and `AzureCloud` may all list one prefix):
 *   1. a tag that is not `AzureCloud*` beats an `AzureCloud*` tag (the service is the useful answer);
 *   2. a regional tag (`properties.region` set: `Storage.EastUS`, `AzureCloud.eastus`) beats a global one
 *      (`Storage`, `AzureCloud`, `AzureFrontDoor.Frontend`);
 *   3. otherwise the lower name in ordinal order, so the answer never depends on file order.
 * A longer prefix always wins before the tie-break applies.
 */

import { EnrichmentDataError } from './errors';
import { type Cidr, formatCidr, type IpAddress, parseCidr } from './ip';
import { type PrefixEntry, PrefixTable } from './prefix-table';

export interface ServiceTag {
  /** e.g. `Storage.EastUS`, `AzureCloud.eastus`, `AzureFrontDoor.Frontend`. */
  readonly name: string;
  /** Azure region name (`eastus`), or null for a global tag. */
  readonly region: string | null;
  readonly systemService: string | null;
  readonly changeNumber: number | null;
  readonly prefixCount: number;
}

export interface ServiceTagsDocument {
  /** Top-level changeNumber: changes whenever any tag changes. */
  readonly changeNumber: number;
  readonly cloud: string;
  readonly tags: readonly ServiceTag[];
  /** Every (tag, block) pair of the document. */
  readonly prefixes: readonly PrefixEntry<ServiceTag>[];
}

export interface ServiceTagMatch {
  readonly tag: ServiceTag;
  /** The matched block (canonical text), e.g. `20.38.98.0/24`. */
  readonly prefix: string;
}

const DATASET = 'service tags';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a parsed service tags document. Throws EnrichmentDataError (corrupt) naming the source and
 * the first thing wrong.
 */
export function parseServiceTags(json: unknown, source: string): ServiceTagsDocument {
  const bad = (what: string) =>
    new EnrichmentDataError(
      DATASET,
      source,
      'corrupt',
      `${what}. Expected the ServiceTags_*.json format that Microsoft publishes weekly ({ changeNumber, cloud, values: [{ name, properties: { addressPrefixes } }] }).`,
    );
  if (!isRecord(json)) throw bad('the document is not a JSON object');
  const changeNumber = json['changeNumber'];
  if (typeof changeNumber !== 'number' || !Number.isFinite(changeNumber))
    throw bad('changeNumber is missing');
  const cloud = typeof json['cloud'] === 'string' ? json['cloud'] : '';
  const values = json['values'];
  if (!Array.isArray(values)) throw bad('values is not an array');
  const tags: ServiceTag[] = [];
  const prefixes: PrefixEntry<ServiceTag>[] = [];
  for (let i = 0; i < values.length; i++) {
    const value: unknown = values[i];
    if (!isRecord(value)) throw bad(`values[${i}] is not an object`);
    const name = value['name'];
    if (typeof name !== 'string' || name.length === 0) throw bad(`values[${i}] has no name`);
    const props = value['properties'];
    if (!isRecord(props)) throw bad(`tag ${name} has no properties`);
    const list = props['addressPrefixes'];
    if (!Array.isArray(list)) throw bad(`tag ${name} has no addressPrefixes array`);
    const region = typeof props['region'] === 'string' && props['region'] !== '' ? props['region'] : null;
    const systemService =
      typeof props['systemService'] === 'string' && props['systemService'] !== ''
        ? props['systemService']
        : null;
    const tagChange = typeof props['changeNumber'] === 'number' ? props['changeNumber'] : null;
    const tag: ServiceTag = {
      name,
      region,
      systemService,
      changeNumber: tagChange,
      prefixCount: list.length,
    };
    tags.push(tag);
    for (const p of list) {
      const cidr: Cidr | null = typeof p === 'string' ? parseCidr(p) : null;
      if (cidr === null) throw bad(`tag ${name} lists ${JSON.stringify(p)}, which is not an address prefix`);
      prefixes.push({ cidr, value: tag });
    }
  }
  return { changeNumber, cloud, tags, prefixes };
}

function isAzureCloud(tag: ServiceTag): boolean {
  return tag.name === 'AzureCloud' || tag.name.startsWith('AzureCloud.');
}

function isRegional(tag: ServiceTag): boolean {
  return tag.region !== null;
}

/** The tie-break rule for two tags listing the same block (negative: `a` wins). */
export function compareServiceTags(a: ServiceTag, b: ServiceTag): number {
  const cloudA = isAzureCloud(a);
  if (cloudA !== isAzureCloud(b)) return cloudA ? 1 : -1;
  const regionalA = isRegional(a);
  if (regionalA !== isRegional(b)) return regionalA ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export class ServiceTagIndex {
  readonly changeNumber: number;
  readonly cloud: string;
  readonly tagCount: number;
  readonly prefixCount: number;
  private readonly table: PrefixTable<ServiceTag>;

  constructor(doc: ServiceTagsDocument) {
    this.changeNumber = doc.changeNumber;
    this.cloud = doc.cloud;
    this.tagCount = doc.tags.length;
    this.prefixCount = doc.prefixes.length;
    this.table = PrefixTable.build(doc.prefixes, compareServiceTags);
  }

  /** The most specific tag containing the address, or null. */
  lookup(address: IpAddress): ServiceTag | null {
    return this.table.lookup(address)?.value ?? null;
  }

  /** The most specific tag and its block, or null. */
  match(address: IpAddress): ServiceTagMatch | null {
    const e = this.table.lookup(address);
    return e === undefined ? null : toMatch(e);
  }

  /** Every tag containing the address, most specific first. */
  allMatches(address: IpAddress): ServiceTagMatch[] {
    return this.table.allMatches(address).map(toMatch);
  }
}

function toMatch(e: PrefixEntry<ServiceTag>): ServiceTagMatch {
  return { tag: e.value, prefix: formatCidr(e.cidr) };
}
