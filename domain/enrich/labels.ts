/**
 * The user's topology and threat labels: rows `cidr,label,kind` with kind
 *   - `vnet`   an address space of one of the user's VNets (the label names the VNet: equal labels on both
 *              sides make a flow IntraVNet, different ones InterVNet);
 *   - `s2s`    an on-premises site reached by site-to-site VPN or ExpressRoute;
 *   - `p2s`    the address pool of point-to-site VPN clients;
 *   - `threat` an address or block on the user's threat list.
 * The most specific block wins; for the same block threat beats vnet beats s2s beats p2s, and between
 * rows of one kind the first row wins.
 */

import { EnrichmentDataError } from './errors';
import { formatCidr, type IpAddress, parseCidr } from './ip';
import { type PrefixEntry, PrefixTable } from './prefix-table';

export const LABEL_KINDS = ['vnet', 's2s', 'p2s', 'threat'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

/** One row as read from a CSV file or a table, before validation. */
export interface LabelRowInput {
  readonly cidr: unknown;
  readonly label: unknown;
  readonly kind: unknown;
  /** Where the row is, for errors: `line 12`, `entity vnets/hub`. */
  readonly where: string;
}

export interface Label {
  readonly label: string;
  readonly kind: LabelKind;
  /** The block of the row (canonical text). */
  readonly cidr: string;
}

const DATASET = 'labels';
const KIND_RANK: Readonly<Record<LabelKind, number>> = { threat: 0, vnet: 1, s2s: 2, p2s: 3 };

function isKind(value: string): value is LabelKind {
  return (LABEL_KINDS as readonly string[]).includes(value);
}

/** Validates rows; throws EnrichmentDataError (corrupt) naming the source and the row. */
export function validateLabelRows(rows: Iterable<LabelRowInput>, source: string): PrefixEntry<Label>[] {
  const out: PrefixEntry<Label>[] = [];
  for (const row of rows) {
    const bad = (what: string) =>
      new EnrichmentDataError(DATASET, source, 'corrupt', `${row.where}: ${what}`);
    const cidrText = typeof row.cidr === 'string' ? row.cidr.trim() : '';
    const labelText = typeof row.label === 'string' ? row.label.trim() : '';
    const kindText = typeof row.kind === 'string' ? row.kind.trim().toLowerCase() : '';
    if (cidrText === '') throw bad('cidr is empty');
    const cidr = parseCidr(cidrText);
    if (cidr === null) throw bad(`${JSON.stringify(cidrText)} is not an address or CIDR block`);
    if (cidr.hostBitsSet) {
      throw bad(
        `${cidrText} has bits set after the prefix; write the block as ${formatCidr(cidr)} or the host as /32`,
      );
    }
    if (labelText === '') throw bad('label is empty');
    if (!isKind(kindText))
      throw bad(`kind ${JSON.stringify(row.kind)} is not one of ${LABEL_KINDS.join(', ')}`);
    out.push({ cidr, value: { label: labelText, kind: kindText, cidr: formatCidr(cidr) } });
  }
  return out;
}

/** Splits one CSV line into fields (RFC 4180 quoting: `"a, b"`, `""` for a quote); null if a quote is unclosed. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line.charCodeAt(i) !== 44) return null;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/**
 * Reads a labels CSV: optional header naming the columns `cidr`, `label`, `kind` in any order (extra
 * columns are ignored; without a header the order is cidr,label,kind); blank lines and lines starting
 * with `#` are skipped.
 */
export function parseLabelsCsv(text: string, source: string): PrefixEntry<Label>[] {
  const rows: LabelRowInput[] = [];
  let columns = { cidr: 0, label: 1, kind: 2 };
  let sawFirst = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i === 0 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const fields = splitCsvLine(line);
    if (fields === null) {
      throw new EnrichmentDataError(DATASET, source, 'corrupt', `line ${i + 1}: unclosed quote`);
    }
    if (!sawFirst) {
      sawFirst = true;
      const names = fields.map((f) => f.trim().toLowerCase());
      if (names.includes('cidr')) {
        const at = (name: string) => {
          const k = names.indexOf(name);
          if (k < 0) {
            throw new EnrichmentDataError(
              DATASET,
              source,
              'corrupt',
              `the header has no ${name} column; expected cidr,label,kind`,
            );
          }
          return k;
        };
        columns = { cidr: at('cidr'), label: at('label'), kind: at('kind') };
        return;
      }
    }
    rows.push({
      cidr: fields[columns.cidr],
      label: fields[columns.label],
      kind: fields[columns.kind],
      where: `line ${i + 1}`,
    });
  });
  return validateLabelRows(rows, source);
}

export function compareLabels(a: Label, b: Label): number {
  return KIND_RANK[a.kind] - KIND_RANK[b.kind];
}

/**
 * The user's rows, and optionally rows found in Azure (topology, adapters/enrichment/topology.ts) under
 * them: an address any user row covers is decided by the user's rows alone (the CSV / table override what
 * Azure says, even where Azure knows a more specific block); the others by the Azure rows.
 */
export class LabelIndex {
  readonly size: number;
  readonly counts: Readonly<Record<LabelKind, number>>;
  /** Rows of the fallback (Azure topology) layer. */
  readonly fallbackSize: number;
  private readonly table: PrefixTable<Label>;
  private readonly fallback: PrefixTable<Label> | null;

  constructor(entries: readonly PrefixEntry<Label>[], fallback: readonly PrefixEntry<Label>[] = []) {
    this.size = entries.length + fallback.length;
    this.fallbackSize = fallback.length;
    const counts: Record<LabelKind, number> = { vnet: 0, s2s: 0, p2s: 0, threat: 0 };
    for (const e of entries) counts[e.value.kind]++;
    for (const e of fallback) counts[e.value.kind]++;
    this.counts = counts;
    this.table = PrefixTable.build(entries, compareLabels);
    this.fallback = fallback.length === 0 ? null : PrefixTable.build(fallback, compareLabels);
  }

  lookup(address: IpAddress): Label | null {
    return this.table.lookup(address)?.value ?? this.fallback?.lookup(address)?.value ?? null;
  }

  /** Every label whose block contains the address, most specific first (the user's rows before Azure's). */
  allMatches(address: IpAddress): Label[] {
    const user = this.table.allMatches(address).map((e) => e.value);
    return this.fallback === null
      ? user
      : [...user, ...this.fallback.allMatches(address).map((e) => e.value)];
  }
}

/** A stable text of the rows, to tell whether a reloaded table changed. */
export function labelsFingerprint(entries: readonly PrefixEntry<Label>[]): string {
  return entries.map((e) => `${e.value.cidr},${e.value.kind},${e.value.label}`).join('\n');
}
