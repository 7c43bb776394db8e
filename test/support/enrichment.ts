import { type FlowSummary, SUMMARY_FIELDS } from '../../domain/summary/schema';

/** A summary with every field at its zero (nullable fields null), then the given fields. */
export function emptySummary(fields: Partial<FlowSummary>): FlowSummary {
  const out: Record<string, string | number | null> = {};
  for (const f of SUMMARY_FIELDS) {
    out[f.name] = f.nullable ? null : f.kind === 'string' || f.kind === 'datetime' ? '' : 0;
  }
  return { ...(out as FlowSummary), ...fields };
}
