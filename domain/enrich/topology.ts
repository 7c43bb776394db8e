/**
 * Topology labels from Azure's own description of the network (Resource Graph rows of
 * Microsoft.Network resources), so IntraVNet / InterVNet / S2S / P2S work without a hand-made CSV:
 *   - a VNet's address spaces, and the remote address space of each of its peerings  → `vnet`, VNet name
 *   - a Virtual WAN hub's address prefix                                              → `vnet`, hub name
 *   - a local network gateway's prefixes, a VPN site's prefixes, the public prefixes an
 *     ExpressRoute circuit advertises on Microsoft peering                             → `s2s`, resource name
 *   - the VPN client address pools of VPN gateways and Virtual WAN P2S gateways         → `p2s`, gateway name
 *   - public IP addresses and prefixes of the estate                                  → `vnet`, the VNet they
 *     are used in (found through the NIC / gateway / firewall / bastion ip configuration), else the name of
 *     the resource that uses them, else their own name
 * Subnets are not rows of their own: they lie inside their VNet's address space and carry its label.
 * Pure: the adapter queries Resource Graph and stores the rows (adapters/enrichment/topology.ts).
 */

import { formatCidr, parseCidr } from './ip';
import type { LabelKind } from './labels';

export interface TopologyRow {
  readonly cidr: string;
  readonly label: string;
  readonly kind: Exclude<LabelKind, 'threat'>;
  /** The resource the row comes from (for `flowlog lookup` and errors). */
  readonly resource: string;
}

export interface TopologyResult {
  readonly rows: TopologyRow[];
  /** Prefixes that could not be read (`<resource id>: <text>`), kept out of the rows. */
  readonly skipped: string[];
}

/** Resource types the query asks for (lower case, as Resource Graph reports `type`). */
export const TOPOLOGY_RESOURCE_TYPES = [
  'microsoft.network/virtualnetworks',
  'microsoft.network/virtualhubs',
  'microsoft.network/localnetworkgateways',
  'microsoft.network/vpnsites',
  'microsoft.network/expressroutecircuits',
  'microsoft.network/virtualnetworkgateways',
  'microsoft.network/p2svpngateways',
  'microsoft.network/publicipaddresses',
  'microsoft.network/publicipprefixes',
  // Only to find which VNet a public IP is used in:
  'microsoft.network/networkinterfaces',
  'microsoft.network/azurefirewalls',
  'microsoft.network/bastionhosts',
] as const;

type Json = Readonly<Record<string, unknown>>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

function objects(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The segment after `/<type>/` in an ARM id (`…/virtualNetworks/hub/subnets/a` → `hub` for virtualNetworks). */
export function armIdSegment(id: string, type: string): string | null {
  const parts = id.split('/');
  for (let i = 0; i + 1 < parts.length; i++)
    if (parts[i]?.toLowerCase() === type.toLowerCase()) return parts[i + 1] || null;
  return null;
}

/** The resource name of an ARM id of a child (`…/providers/Microsoft.Network/loadBalancers/lb/frontend…/x` → `lb`). */
function ownerName(id: string): string | null {
  const parts = id.split('/');
  const p = parts.findIndex((s) => s.toLowerCase() === 'providers');
  return p >= 0 ? (parts[p + 3] ?? null) || null : null;
}

/** Topology rows from Resource Graph resources (`{id, name, type, properties}`); unknown types are ignored. */
export function topologyRows(resources: readonly unknown[]): TopologyResult {
  const rows: TopologyRow[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  // ip configuration id (lower case) → VNet name, from every resource whose ip configurations sit in a subnet
  const vnetOfIpConfig = new Map<string, string>();
  for (const r of resources) {
    for (const c of objects(at(r, 'properties', 'ipConfigurations'))) {
      const id = c['id'];
      const subnet = at(c, 'properties', 'subnet', 'id');
      const vnet = typeof subnet === 'string' ? armIdSegment(subnet, 'virtualNetworks') : null;
      if (typeof id === 'string' && vnet !== null) vnetOfIpConfig.set(id.toLowerCase(), vnet);
    }
  }
  const add = (resource: string, prefixes: readonly string[], label: string, kind: TopologyRow['kind']) => {
    for (const text of prefixes) {
      const cidr = parseCidr(text.trim());
      if (cidr === null) {
        skipped.push(`${resource}: ${JSON.stringify(text)} is not an address or CIDR block`);
        continue;
      }
      // Azure accepts host bits in some prefixes (e.g. 10.0.0.4/24 in an address pool); the block is meant.
      const row: TopologyRow = { cidr: formatCidr(cidr), label, kind, resource };
      const key = `${row.cidr},${row.kind},${row.label}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push(row);
    }
  };
  for (const r of resources) {
    if (!isObject(r)) continue;
    const id = typeof r['id'] === 'string' ? r['id'] : '';
    const name = typeof r['name'] === 'string' && r['name'] !== '' ? r['name'] : (ownerName(id) ?? id);
    const type = typeof r['type'] === 'string' ? r['type'].toLowerCase() : '';
    const p = r['properties'];
    switch (type) {
      case 'microsoft.network/virtualnetworks':
        add(id, strings(at(p, 'addressSpace', 'addressPrefixes')), name, 'vnet');
        for (const peering of objects(at(p, 'virtualNetworkPeerings'))) {
          const remote = at(peering, 'properties', 'remoteVirtualNetwork', 'id');
          const remoteName = typeof remote === 'string' ? armIdSegment(remote, 'virtualNetworks') : null;
          const space =
            at(peering, 'properties', 'remoteVirtualNetworkAddressSpace', 'addressPrefixes') ??
            at(peering, 'properties', 'remoteAddressSpace', 'addressPrefixes');
          if (remoteName !== null) add(id, strings(space), remoteName, 'vnet');
        }
        break;
      case 'microsoft.network/virtualhubs':
        add(id, strings(at(p, 'addressPrefix')), name, 'vnet');
        break;
      case 'microsoft.network/localnetworkgateways':
        add(id, strings(at(p, 'localNetworkAddressSpace', 'addressPrefixes')), name, 's2s');
        break;
      case 'microsoft.network/vpnsites':
        add(id, strings(at(p, 'addressSpace', 'addressPrefixes')), name, 's2s');
        break;
      case 'microsoft.network/expressroutecircuits':
        for (const peering of objects(at(p, 'peerings')))
          add(
            id,
            strings(at(peering, 'properties', 'microsoftPeeringConfig', 'advertisedPublicPrefixes')),
            name,
            's2s',
          );
        break;
      case 'microsoft.network/virtualnetworkgateways':
        add(
          id,
          strings(at(p, 'vpnClientConfiguration', 'vpnClientAddressPool', 'addressPrefixes')),
          name,
          'p2s',
        );
        break;
      case 'microsoft.network/p2svpngateways':
        for (const c of objects(at(p, 'p2SConnectionConfigurations')))
          add(id, strings(at(c, 'properties', 'vpnClientAddressPool', 'addressPrefixes')), name, 'p2s');
        break;
      case 'microsoft.network/publicipaddresses':
      case 'microsoft.network/publicipprefixes': {
        const prefixes = strings(type.endsWith('prefixes') ? at(p, 'ipPrefix') : at(p, 'ipAddress'));
        const config = at(p, 'ipConfiguration', 'id');
        const label =
          typeof config === 'string'
            ? (vnetOfIpConfig.get(config.toLowerCase()) ?? ownerName(config) ?? name)
            : name;
        add(id, prefixes, label, 'vnet');
        break;
      }
      default:
        break;
    }
  }
  return { rows, skipped };
}
