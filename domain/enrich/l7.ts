/**
 * `l7Protocol`: the IANA service name of a destination port and transport protocol, as Traffic Analytics'
 * L7Protocol column gives it (`https`, `ssh`, `domain`, `ms-wbt-server`, …), `unknown` otherwise.
 * The table (iana-services.data.ts) is generated from IANA's registry; it has every well-known port and
 * the common registered ones.
 */

import { IANA_SERVICES } from './iana-services.data';

export const UNKNOWN_L7 = 'unknown';

const tcp = new Map<number, string>();
const udp = new Map<number, string>();
for (const line of IANA_SERVICES.split('\n')) {
  const [portText, first, second] = line.split(' ');
  const port = Number(portText);
  if (first === undefined || !Number.isInteger(port)) continue;
  if (second === undefined) {
    tcp.set(port, first);
    udp.set(port, first);
  } else {
    if (first !== '-') tcp.set(port, first);
    if (second !== '-') udp.set(port, second);
  }
}

/**
 * Service name of (destination port, protocol); `protocol` is the summary's: `TCP`, `UDP`, or an IANA
 * protocol number as a string (`6` and `17` are TCP and UDP). Other protocols have no ports: `unknown`.
 */
export function l7Protocol(port: number, protocol: string): string {
  let table: Map<number, string>;
  if (protocol === 'TCP' || protocol === '6') table = tcp;
  else if (protocol === 'UDP' || protocol === '17') table = udp;
  else return UNKNOWN_L7;
  return table.get(port) ?? UNKNOWN_L7;
}

/** Number of (port, protocol) names known, for `flowlog lookup --sources` style descriptions. */
export function l7TableSize(): { readonly tcp: number; readonly udp: number } {
  return { tcp: tcp.size, udp: udp.size };
}
