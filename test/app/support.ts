import { readFileSync } from 'node:fs';
import { blobIdentityFromName } from '../../domain/blob-identity';
import type { FlowLogError } from '../../domain/errors';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { serializeSummary } from '../../domain/summary/serialize';
import type { ReceivedEvent } from '../../local/eventhubs';

/** What `flowlog process` gives for a finished blob: the summaries every path must reproduce. */
export function expectedSummaries(
  name: string,
  text: string,
  windowSeconds = 60,
  blob = blobIdentityFromName(name) ?? name,
): FlowSummary[] {
  const s = new BlobSummarizer({ blob, windowSeconds });
  const out: FlowSummary[] = [];
  const problems: FlowLogError[] = [];
  s.push(new TextEncoder().encode(text), out, problems);
  s.end(true, problems);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
  return out;
}

export function expectedFromFile(path: string, name: string): FlowSummary[] {
  return expectedSummaries(name, readFileSync(path, 'utf8'));
}

/** Hub events deduplicated by id (what ADX's dedup view keeps), as summaries. */
export function dedupById(events: readonly ReceivedEvent[]): Map<string, FlowSummary> {
  const byId = new Map<string, FlowSummary>();
  for (const e of events) {
    const body = (e.body ?? JSON.parse(String(e.bodyBytes))) as FlowSummary;
    const previous = byId.get(body.id);
    if (previous && serializeSummary(previous) !== serializeSummary(body))
      throw new Error(`id ${body.id} sent with two different bodies`);
    byId.set(body.id, body);
    if (e.messageId !== body.id)
      throw new Error(`messageId ${String(e.messageId)} differs from the body id ${body.id}`);
  }
  return byId;
}

export function assertSameSummaries(
  actual: Map<string, FlowSummary>,
  expected: readonly FlowSummary[],
): string | undefined {
  if (actual.size !== expected.length)
    return `expected ${expected.length} distinct summaries, got ${actual.size}`;
  for (const e of expected) {
    const a = actual.get(e.id);
    if (!a) return `missing summary ${e.id} (${e.srcIp}→${e.dstIp}:${e.dstPort} record ${e.recordOrdinal})`;
    if (serializeSummary(a) !== serializeSummary(e))
      return `summary ${e.id} differs:\n${serializeSummary(a)}\n${serializeSummary(e)}`;
  }
  return undefined;
}
