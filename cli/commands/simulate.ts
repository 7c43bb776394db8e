import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { blobText, simulateBlobs } from '../../domain/simulate/simulate';
import { nonNegativeInt, parseCommandArgs, positiveInt, UsageError } from '../args';

export const SIMULATE_USAGE = `Usage: flowlog simulate --out DIR [--nsgs N] [--vnets N] [--hours H] [--flows-per-minute F] [--seed S] [--start ISO]
                        [--long-tail N [--long-tail-space octets|internet]]

Writes realistic NSG v2 and VNet v4 flow-log blobs in Azure's folder layout under DIR
(DIR/<container>/resourceId=.../y=/m=/d=/h=/m=00/macAddress=.../PT1H.json): heavy hitters, scanners on
deny rules, B/C/E lifecycles with delta counters, IPv6 peers, window-edge timestamps. Deterministic per
seed.

Options:
  --out DIR                 output folder                               (required)
  --nsgs N                  NICs logged by NSG flow logs (v2)            (default 2)
  --vnets N                 NICs logged by VNet flow logs (v4)           (default 2)
  --hours H                 hours per NIC                                (default 1)
  --flows-per-minute F      new flows per NIC per minute                 (default 50)
  --seed S                  random seed                                  (default 1)
  --start ISO               first hour, UTC                              (default 2026-11-30T00:00:00Z)
  --long-tail N             half of the outbound internet flows go to N distinct public addresses
                            instead of the heavy hitters (many distinct addresses, as in real
                            traffic; for enrichment benchmarks)                  (default 0: none)
  --long-tail-space S       where the long tail lives: octets (a few /16s) or internet (anywhere in
                            public IPv4, one in eight IPv6, half the scans from it: an
                            internet-facing NIC, as in the bench's internet-facing set)  (default octets)
  -h, --help                this text

Exit codes: 0 written; 2 usage error.`;

function longTailSpace(value: string | undefined): 'octets' | 'internet' {
  if (value === undefined || value === 'octets' || value === 'internet') return value ?? 'octets';
  throw new UsageError(`--long-tail-space must be octets or internet, got "${value}"`);
}

export interface SimulateSummary {
  readonly blobs: number;
  readonly records: number;
  readonly tuples: number;
  readonly bytes: number;
}

export async function runSimulate(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    out: { type: 'string', short: 'o' },
    nsgs: { type: 'string' },
    vnets: { type: 'string' },
    hours: { type: 'string' },
    'flows-per-minute': { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string' },
    'long-tail': { type: 'string' },
    'long-tail-space': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  if (values.out === undefined) throw new UsageError('--out DIR is required');
  const start = new Date((values.start as string | undefined) ?? '2026-11-30T00:00:00Z');
  if (Number.isNaN(start.getTime()))
    throw new UsageError(`--start must be an ISO date, got "${values.start}"`);
  const summary = await simulateToFolder(values.out as string, {
    nsgs: nonNegativeInt(values.nsgs as string | undefined, 'nsgs', 2),
    vnets: nonNegativeInt(values.vnets as string | undefined, 'vnets', 2),
    hours: positiveInt(values.hours as string | undefined, 'hours', 1),
    flowsPerMinute: positiveInt(values['flows-per-minute'] as string | undefined, 'flows-per-minute', 50),
    seed: nonNegativeInt(values.seed as string | undefined, 'seed', 1),
    start,
    longTail: nonNegativeInt(values['long-tail'] as string | undefined, 'long-tail', 0),
    longTailSpace: longTailSpace(values['long-tail-space'] as string | undefined),
  });
  process.stderr.write(
    `flowlog: wrote ${summary.blobs} blobs, ${summary.records} records, ${summary.tuples} tuples, ${(summary.bytes / 1e6).toFixed(1)} MB under ${values.out}\n`,
  );
  return 0;
}

export async function simulateToFolder(
  outDir: string,
  options: Parameters<typeof simulateBlobs>[0],
): Promise<SimulateSummary> {
  let blobs = 0;
  let records = 0;
  let tuples = 0;
  let bytes = 0;
  for (const blob of simulateBlobs(options)) {
    const path = join(outDir, blob.container, ...blob.name.split('/'));
    await mkdir(dirname(path), { recursive: true });
    const text = blobText(blob);
    await writeFile(path, text);
    blobs++;
    records += blob.records.length;
    tuples += blob.tuples;
    bytes += Buffer.byteLength(text);
  }
  return { blobs, records, tuples, bytes };
}
