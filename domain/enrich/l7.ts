/**
 * `l7Protocol`: the IANA service name of a destination port and transport protocol, as Traffic Analytics'
 * L7Protocol column gives it (`https`, `ssh`, `domain`, `ms-wbt-server`, …), `unknown` otherwise.
 * The table (iana-services.data.ts) is generated from IANA's registry; it has every well-known port and
 * the common registered ones.
 */

import { IANA_SERVICES } from './iana-services.data';

export const UNKNOWN_L7 = 'unknown';

// Dense tables indexed by port (2 × 64 Ki entries): one array load per summary, no hashing.
const tcp: string[] = new Array<string>(65536).fill(UNKNOWN_L7);
const udp: string[] = new Array<string>(65536).fill(UNKNOWN_L7);
let tcpCount = 0;
let udpCount = 0;
for (const line of IANA_SERVICES.split('\n')) {
  const [portText, first, second] = line.split(' ');
  const port = Number(portText);
  if (first === undefined || !Number.isInteger(port) || port < 0 || port > 65535) continue;
  const tcpName = second === undefined ? first : first === '-' ? undefined : first;
  const udpName = second === undefined ? first : second === '-' ? undefined : second;
  if (tcpName !== undefined) {
    tcp[port] = tcpName;
    tcpCount++;
  }
  if (udpName !== undefined) {
    udp[port] = udpName;
    udpCount++;
  }
}

/**
 * Service name of (destination port, protocol); `protocol` is the summary's: `TCP`, `UDP`, or an IANA
 * protocol number as a string (`6` and `17` are TCP and UDP). Other protocols have no ports: `unknown`.
 */
export function l7Protocol(port: number, protocol: string): string {
  let table: string[];
  if (protocol === 'TCP' || protocol === '6') table = tcp;
  else if (protocol === 'UDP' || protocol === '17') table = udp;
  else return UNKNOWN_L7;
  // Integers 0..65535 only; anything else (NaN, fractions, out of range) is unknown.
  return (port & 0xffff) === port ? (table[port] ?? UNKNOWN_L7) : UNKNOWN_L7;
}

/** Number of (port, protocol) names known, for `flowlog lookup --sources` style descriptions. */
export function l7TableSize(): { readonly tcp: number; readonly udp: number } {
  return { tcp: tcpCount, udp: udpCount };
}
