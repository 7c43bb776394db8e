/**
 * Traffic Analytics' flow types, decided from what is known about each side of a flow.
 *
 * Each address first gets a side class (the first rule that applies):
 *   threat  a `threat` label covers it (the most specific label)
 *   vnet    a `vnet` label covers it
 *   s2s     an `s2s` label covers it
 *   p2s     a `p2s` label covers it
 *   azure   an Azure platform address (168.63.129.16, 169.254.169.254), or a public address inside an
 *           Azure service tag, or announced by a Microsoft ASN (8068–8075)
 *   private unlabelled RFC 1918, 100.64.0.0/10 or fc00::/7 space
 *   public  any other global unicast address
 *   other   loopback, link-local, multicast, documentation, reserved, or text that is not an address
 *
 * Then the pair decides (`flowTypeOf`); the table is in docs/enrichment.md:
 *   1. either side threat                              → MaliciousFlow
 *   2. both vnet: same label → IntraVNet, else          → InterVNet
 *   3. anchor = a vnet side, else an unlabelled private side (assumed to be the VNet: a flow log is
 *      always captured in a VNet); no anchor           → Unknown
 *   4. by the other side: vnet → (rule 2), s2s → S2S, p2s → P2S, azure → AzurePublic,
 *      public → ExternalPublic, private → UnknownPrivate, other → Unknown
 */

export const FLOW_TYPES = [
  'IntraVNet',
  'InterVNet',
  'S2S',
  'P2S',
  'AzurePublic',
  'ExternalPublic',
  'MaliciousFlow',
  'UnknownPrivate',
  'Unknown',
] as const;
export type FlowType = (typeof FLOW_TYPES)[number];

export const SIDE_CLASSES = ['threat', 'vnet', 's2s', 'p2s', 'azure', 'private', 'public', 'other'] as const;
export type SideClass = (typeof SIDE_CLASSES)[number];

/** What the decision needs of one side: its class and, for a vnet side, the VNet's label. */
export interface FlowSide {
  readonly sideClass: SideClass;
  /** The label covering the address (compared between two vnet sides), or null. */
  readonly label: string | null;
}

function fromAnchor(anchor: FlowSide, other: FlowSide): FlowType {
  switch (other.sideClass) {
    case 'vnet':
      return anchor.sideClass === 'vnet' && anchor.label === other.label ? 'IntraVNet' : 'InterVNet';
    case 's2s':
      return 'S2S';
    case 'p2s':
      return 'P2S';
    case 'azure':
      return 'AzurePublic';
    case 'public':
      return 'ExternalPublic';
    case 'private':
      return 'UnknownPrivate';
    case 'threat':
      return 'MaliciousFlow';
    case 'other':
      return 'Unknown';
  }
}

/** The flow type of a flow between two sides (symmetric: the direction does not matter). */
export function flowTypeOf(a: FlowSide, b: FlowSide): FlowType {
  const ca = a.sideClass;
  const cb = b.sideClass;
  if (ca === 'threat' || cb === 'threat') return 'MaliciousFlow';
  if (ca === 'vnet') return fromAnchor(a, b);
  if (cb === 'vnet') return fromAnchor(b, a);
  if (ca === 'private') return fromAnchor(a, b);
  if (cb === 'private') return fromAnchor(b, a);
  return 'Unknown';
}
