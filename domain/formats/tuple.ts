import type { TupleLayout } from './record';

/** One flow tuple, normalised. The aggregator does not build these (too slow); tests and tools do. */
export interface FlowTuple {
  /** Epoch seconds (VNet milliseconds are converted). */
  readonly time: number;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** `TCP`, `UDP`, or the IANA number as a string. */
  readonly protocol: string;
  readonly direction: 'Inbound' | 'Outbound';
  readonly decision: 'Allow' | 'Deny';
  /** B, C, E (v2, VNet), D (VNet: denied); null for NSG v1. */
  readonly state: 'B' | 'C' | 'E' | 'D' | null;
  /** VNet encryption status (`X`, `NX`, `NX_*`), else null. */
  readonly encryption: string | null;
  readonly packetsSrcToDst: number;
  readonly bytesSrcToDst: number;
  readonly packetsDstToSrc: number;
  readonly bytesDstToSrc: number;
}

export const FIELD_COUNT: Readonly<Record<TupleLayout, number>> = {
  'nsg-v1': 8,
  'nsg-v2': 13,
  'vnet-v4': 13,
};

const DIGITS = /^\d+$/;

/** IANA protocol number → contract spelling. */
export function protocolName(token: string): string | undefined {
  if (token === 'T') return 'TCP';
  if (token === 'U') return 'UDP';
  if (!DIGITS.test(token) || Number(token) > 255) return undefined;
  const n = Number(token);
  return n === 6 ? 'TCP' : n === 17 ? 'UDP' : String(n);
}

function counter(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  if (token === '') return 0;
  return DIGITS.test(token) ? Number(token) : undefined;
}

/**
 * Parses one tuple string with the field order of its layout. Returns the tuple, or a message saying what
 * is wrong (the caller adds where).
 */
export function parseTuple(text: string, layout: TupleLayout): FlowTuple | string {
  const f = text.split(',');
  const expected = FIELD_COUNT[layout];
  if (f.length !== expected)
    return `expected ${expected} comma-separated fields for ${layout}, got ${f.length}`;
  const [t, src, dst, sport, dport, proto, dir] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!DIGITS.test(t)) return `timestamp "${t}" is not an epoch number`;
  if (src === '' || dst === '') return 'empty source or destination address';
  if (!DIGITS.test(sport) || !DIGITS.test(dport) || Number(dport) > 65535 || Number(sport) > 65535)
    return `ports "${sport}" / "${dport}" are not 0-65535`;
  const protocol = protocolName(proto);
  if (protocol === undefined) return `protocol "${proto}" is neither T/U nor an IANA number`;
  if (dir !== 'I' && dir !== 'O') return `direction "${dir}" is not I or O`;
  const raw = Number(t);
  const time = raw >= 1e11 ? Math.floor(raw / 1000) : raw;
  const direction = dir === 'I' ? 'Inbound' : 'Outbound';

  let decision: 'Allow' | 'Deny';
  let state: FlowTuple['state'] = null;
  let encryption: string | null = null;
  let countersFrom = -1;
  if (layout === 'vnet-v4') {
    const s = f[7];
    if (s !== 'B' && s !== 'C' && s !== 'E' && s !== 'D') return `flow state "${s}" is not B, C, E or D`;
    state = s;
    decision = s === 'D' ? 'Deny' : 'Allow';
    encryption = f[8] ?? '';
    countersFrom = 9;
  } else {
    const d = f[7];
    if (d !== 'A' && d !== 'D') return `decision "${d}" is not A or D`;
    decision = d === 'A' ? 'Allow' : 'Deny';
    if (layout === 'nsg-v2') {
      const s = f[8];
      if (s !== 'B' && s !== 'C' && s !== 'E') return `flow state "${s}" is not B, C or E`;
      state = s;
      countersFrom = 9;
    }
  }
  let counters = [0, 0, 0, 0];
  if (countersFrom > 0) {
    const parsed = [0, 1, 2, 3].map((i) => counter(f[countersFrom + i]));
    if (parsed.some((c) => c === undefined)) return 'packet/byte counters must be empty or whole numbers';
    counters = parsed as number[];
  }
  return {
    time,
    srcIp: src,
    dstIp: dst,
    srcPort: Number(sport),
    dstPort: Number(dport),
    protocol,
    direction,
    decision,
    state,
    encryption,
    packetsSrcToDst: counters[0]!,
    bytesSrcToDst: counters[1]!,
    packetsDstToSrc: counters[2]!,
    bytesDstToSrc: counters[3]!,
  };
}
