import { readFileSync } from 'node:fs';
import { summariesOfEvent } from '../../adapters/event-hubs';
import { blobIdentityFromName } from '../../domain/blob-identity';
import type { FlowLogError } from '../../domain/errors';
import { type SimulatedBlob, simulateBlobs } from '../../domain/simulate/simulate';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { serializeSummary } from '../../domain/summary/serialize';
import type { ReceivedEvent } from '../../local/eventhubs';
import { NSG_CONTAINER, type OfflineStack } from '../../local/offline-stack';

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

/** Every summary row on the local hub, in arrival order (several per event; duplicates kept). */
export function hubRows(stack: OfflineStack, hub = 'flow-summaries'): FlowSummary[] {
  return stack.eventHubs.events(hub).flatMap((e) => summariesOfEvent(e));
}

/** Hub events deduplicated by id (what ADX's dedup view keeps), as summaries. */
export function dedupById(events: readonly ReceivedEvent[]): Map<string, FlowSummary> {
  const byId = new Map<string, FlowSummary>();
  for (const e of events) {
    const rows = summariesOfEvent(e);
    if (rows.length === 0) throw new Error(`event ${String(e.messageId)} carries no summary`);
    if (e.messageId !== `${rows[0]!.id}+${rows.length}`)
      throw new Error(`messageId ${String(e.messageId)} is not the first row's id and the row count`);
    for (const body of rows) {
      const previous = byId.get(body.id);
      if (previous && serializeSummary(previous) !== serializeSummary(body))
        throw new Error(`id ${body.id} sent with two different bodies`);
      byId.set(body.id, body);
    }
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
    if (!a)
      return `missing summary ${e.id} (${e.srcIp}→${e.dstIp}:${e.dstPort} record at byte ${e.recordOffset})`;
    if (serializeSummary(a) !== serializeSummary(e))
      return `summary ${e.id} differs:\n${serializeSummary(a)}\n${serializeSummary(e)}`;
  }
  return undefined;
}

/** One simulated NSG blob of `minutes` records in the given hour of 2026-11-30 (UTC). */
export function simulatedNsgBlob(seed: number, minutes: number, hour: number): SimulatedBlob {
  return [
    ...simulateBlobs({
      nsgs: 1,
      vnets: 0,
      hours: 1,
      flowsPerMinute: 3,
      seed,
      start: new Date(Date.UTC(2026, 10, 30, hour)),
      minutesPerHour: minutes,
    }),
  ][0]!;
}

/** POST /api/blobs/rerun for a blob of the NSG container (as an admin: the in-process default). */
export function rerunRequest(stack: OfflineStack, name: string, from: unknown) {
  return stack.host.http({
    method: 'POST',
    url: '/api/blobs/rerun',
    body: JSON.stringify({ account: stack.account, container: NSG_CONTAINER, name, from }),
  });
}
