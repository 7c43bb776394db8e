import { readFileSync } from 'node:fs';
import { rowsOfEvent, summariesOfEvent, TABLE_PROPERTY } from '../../adapters/event-hubs';
import { adxRouting } from '../../common/names';
import { blobIdentityFromName } from '../../domain/blob-identity';
import type { FlowLogError } from '../../domain/errors';
import { type SimulatedBlob, simulateBlobs } from '../../domain/simulate/simulate';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { SummaryReader, wholeSummaryText } from '../../domain/summary/serialize';
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

/** The summaries of these hub events in arrival order, joined with their groups (one reader for all). */
export function eventSummaries(events: readonly ReceivedEvent[]): FlowSummary[] {
  const reader = new SummaryReader();
  return events.flatMap((e) => summariesOfEvent(e, reader));
}

/** Every summary row on the local hub, in arrival order (several per event; duplicates kept). */
export function hubRows(stack: OfflineStack, hub = 'flow-summaries'): FlowSummary[] {
  return eventSummaries(stack.eventHubs.events(hub));
}

/** A summary whole: its row and its group's line (what a row says once joined in ADX). */
export const wholeSummary = wholeSummaryText;

/**
 * Hub events deduplicated by id (what ADX's dedup view keeps), as summaries joined with their groups.
 * Checks each event's routing (FlowGroups events hold only group lines, FlowSummaries events only rows)
 * and messageId (first line's id and the line count), and that an id never comes with two bodies.
 */
export function dedupById(events: readonly ReceivedEvent[]): Map<string, FlowSummary> {
  const byId = new Map<string, FlowSummary>();
  const reader = new SummaryReader();
  for (const e of events) {
    const lines = rowsOfEvent(e.bodyBytes ?? e.body, e.properties);
    if (lines.length === 0) throw new Error(`event ${String(e.messageId)} carries nothing`);
    const table = e.properties?.[TABLE_PROPERTY];
    const rows = reader.readAll(lines);
    if (table === adxRouting.groups.table) {
      if (rows.length !== 0) throw new Error(`FlowGroups event ${String(e.messageId)} carries summary rows`);
      const first = JSON.parse(lines[0]!) as { group: string };
      if (e.messageId !== `g${first.group}+${lines.length}`)
        throw new Error(`messageId ${String(e.messageId)} is not g + the first group id and the line count`);
      continue;
    }
    if (table !== adxRouting.rows.table) throw new Error(`event ${String(e.messageId)} routed to ${table}`);
    if (rows.length !== lines.length)
      throw new Error(`FlowSummaries event ${String(e.messageId)} carries group lines`);
    if (e.messageId !== `${rows[0]!.id}+${rows.length}`)
      throw new Error(`messageId ${String(e.messageId)} is not the first row's id and the row count`);
    for (const body of rows) {
      const previous = byId.get(body.id);
      if (previous && wholeSummary(previous) !== wholeSummary(body))
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
    if (wholeSummary(a) !== wholeSummary(e))
      return `summary ${e.id} differs:\n${wholeSummary(a)}\n${wholeSummary(e)}`;
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
