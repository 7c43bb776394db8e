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
import { packSections, unpackSections } from './sections';

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

/** `FLSTIDX` + format version: the cached form of a built index (`toBytes` / `fromBytes`). */
const INDEX_MAGIC = new Uint8Array([0x46, 0x4c, 0x53, 0x54, 0x49, 0x44, 0x58, 1]);

type PackedTag = [
  name: string,
  region: string | null,
  systemService: string | null,
  changeNumber: number | null,
  prefixCount: number,
];

function isPackedTag(value: unknown): value is PackedTag {
  return (
    Array.isArray(value) &&
    value.length === 5 &&
    typeof value[0] === 'string' &&
    (value[1] === null || typeof value[1] === 'string') &&
    (value[2] === null || typeof value[2] === 'string') &&
    (value[3] === null || typeof value[3] === 'number') &&
    typeof value[4] === 'number'
  );
}

export class ServiceTagIndex {
  readonly changeNumber: number;
  readonly cloud: string;
  readonly tagCount: number;
  readonly prefixCount: number;
  private readonly tags: readonly ServiceTag[];
  private readonly table: PrefixTable<ServiceTag>;

  /** Builds the index of a document (~400 ms for Microsoft's ~130,000 prefixes). */
  constructor(doc: ServiceTagsDocument, table?: PrefixTable<ServiceTag>) {
    this.changeNumber = doc.changeNumber;
    this.cloud = doc.cloud;
    this.tags = doc.tags;
    this.tagCount = doc.tags.length;
    this.table = table ?? PrefixTable.build(doc.prefixes, compareServiceTags);
    this.prefixCount = this.table.size;
  }

  /** The built index as bytes, for a loader's cache; `fromBytes` reads it back in milliseconds. */
  toBytes(): Uint8Array {
    const number = new Map(this.tags.map((t, i) => [t, i]));
    const meta = {
      changeNumber: this.changeNumber,
      cloud: this.cloud,
      tags: this.tags.map(
        (t): PackedTag => [t.name, t.region, t.systemService, t.changeNumber, t.prefixCount],
      ),
    };
    return packSections(INDEX_MAGIC, [
      new TextEncoder().encode(JSON.stringify(meta)),
      ...this.table.toSections((tag) => number.get(tag) ?? 0),
    ]);
  }

  /** Reads `toBytes` output; null if the bytes are not a whole index of this format version. */
  static fromBytes(bytes: Uint8Array): ServiceTagIndex | null {
    const sections = unpackSections(bytes, INDEX_MAGIC);
    if (sections === null || sections.length !== 8) return null;
    let meta: unknown;
    try {
      meta = JSON.parse(new TextDecoder().decode(sections[0]));
    } catch {
      return null;
    }
    if (!isRecord(meta) || typeof meta['changeNumber'] !== 'number' || typeof meta['cloud'] !== 'string')
      return null;
    const packedTags = meta['tags'];
    if (!Array.isArray(packedTags) || !packedTags.every(isPackedTag)) return null;
    const tags = packedTags.map(
      ([name, region, systemService, changeNumber, prefixCount]): ServiceTag => ({
        name,
        region,
        systemService,
        changeNumber,
        prefixCount,
      }),
    );
    const table = PrefixTable.fromSections(sections.slice(1), tags, compareServiceTags);
    if (table === null) return null;
    return new ServiceTagIndex(
      { changeNumber: meta['changeNumber'], cloud: meta['cloud'], tags, prefixes: [] },
      table,
    );
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
