import { type FieldKind, type FlowSummary, SUMMARY_FIELDS } from './schema';

/** Pre-rendered `"name":` prefixes in contract order, so a row is one pass over the schema. */
const WRITERS: ReadonlyArray<{
  readonly name: keyof FlowSummary;
  readonly prefix: string;
  readonly kind: FieldKind;
}> = SUMMARY_FIELDS.map((f, i) => ({
  name: f.name,
  prefix: `${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`,
  kind: f.kind,
}));

/**
 * One summary as one line of JSON (no trailing newline), fields in contract order. This is both the
 * NDJSON line of `flowlog process` and the Event Hubs message body that ADX ingests.
 */
export function serializeSummary(summary: FlowSummary): string {
  let out = '';
  for (const w of WRITERS) {
    const value = summary[w.name] as string | number | null;
    out += w.prefix;
    if (value === null || value === undefined) out += 'null';
    else if (w.kind === 'string' || w.kind === 'datetime') out += JSON.stringify(value);
    else out += Number.isFinite(value) ? String(value) : 'null';
  }
  return `${out}}`;
}
