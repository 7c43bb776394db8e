/**
 * Special-purpose address ranges (IANA IPv4 and IPv6 Special-Purpose Address Registries, RFC 6890, plus
 * Azure's platform addresses). An address in any of them is never looked up in GeoIP or ASN data: it
 * has no location, and a database answer for it would be wrong.
 */

import type { IpAddress } from './ip';
import { parseCidr } from './ip';
import { PrefixTable } from './prefix-table';

export type SpecialKind =
  /** RFC 1918 (IPv4) and unique local fc00::/7 (IPv6): address space a VNet or a site normally uses. */
  | 'private'
  /** 100.64.0.0/10, RFC 6598 shared address space (carrier-grade NAT); usable inside a VNet. */
  | 'shared'
  | 'loopback'
  | 'link-local'
  /** Azure platform addresses: 168.63.129.16 (DNS, DHCP, health probes) and 169.254.169.254 (IMDS). */
  | 'azure-platform'
  | 'multicast'
  | 'broadcast'
  | 'unspecified'
  | 'documentation'
  | 'benchmarking'
  | 'reserved';

export interface SpecialRange {
  readonly kind: SpecialKind;
  /** The block, e.g. `10.0.0.0/8`. */
  readonly cidr: string;
  /** What the block is, with its reference, e.g. `private-use (RFC 1918)`. */
  readonly description: string;
  /** True for space a VNet or an on-premises site may use (RFC 1918, 100.64/10, fc00::/7). */
  readonly privateSpace: boolean;
}

const RANGES: ReadonlyArray<readonly [string, SpecialKind, string]> = [
  ['0.0.0.0/8', 'unspecified', '"this network" (RFC 791)'],
  ['10.0.0.0/8', 'private', 'private-use (RFC 1918)'],
  ['100.64.0.0/10', 'shared', 'shared address space, carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback', 'loopback (RFC 1122)'],
  ['168.63.129.16/32', 'azure-platform', 'Azure platform address: DNS, DHCP, health probes (WireServer)'],
  ['169.254.0.0/16', 'link-local', 'link-local (RFC 3927)'],
  ['169.254.169.254/32', 'azure-platform', 'Azure Instance Metadata Service (IMDS)'],
  ['172.16.0.0/12', 'private', 'private-use (RFC 1918)'],
  ['192.0.0.0/24', 'reserved', 'IETF protocol assignments (RFC 6890)'],
  ['192.0.2.0/24', 'documentation', 'documentation TEST-NET-1 (RFC 5737)'],
  ['192.168.0.0/16', 'private', 'private-use (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking', 'benchmarking (RFC 2544)'],
  ['198.51.100.0/24', 'documentation', 'documentation TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'documentation', 'documentation TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0/4', 'multicast', 'multicast (RFC 5771)'],
  ['240.0.0.0/4', 'reserved', 'reserved for future use (RFC 1112)'],
  ['255.255.255.255/32', 'broadcast', 'limited broadcast (RFC 919)'],
  ['::/128', 'unspecified', 'unspecified address (RFC 4291)'],
  ['::1/128', 'loopback', 'loopback (RFC 4291)'],
  ['100::/64', 'reserved', 'discard-only (RFC 6666)'],
  ['2001:db8::/32', 'documentation', 'documentation (RFC 3849)'],
  ['fc00::/7', 'private', 'unique local (RFC 4193)'],
  ['fe80::/10', 'link-local', 'link-local unicast (RFC 4291)'],
  ['ff00::/8', 'multicast', 'multicast (RFC 4291)'],
];

const VALUES: readonly SpecialRange[] = RANGES.map(([cidr, kind, description]) => ({
  kind,
  cidr,
  description,
  privateSpace: kind === 'private' || kind === 'shared',
}));

const TABLE = PrefixTable.build(
  VALUES.map((value) => {
    const cidr = parseCidr(value.cidr);
    if (cidr === null) throw new Error(`special range table: bad CIDR ${value.cidr}`);
    return { cidr, value };
  }),
  () => 0,
);

/** The special range containing the address (most specific), or null for a global unicast address. */
export function specialRange(address: IpAddress): SpecialRange | null {
  return TABLE.lookup(address)?.value ?? null;
}

/** Every special range, in table order (for documentation and tests). */
export function specialRanges(): readonly SpecialRange[] {
  return VALUES;
}
