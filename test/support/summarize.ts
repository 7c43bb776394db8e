import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowLogError } from '../../domain/errors';
import type { ScanStart } from '../../domain/framing/record-scanner';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';

export const REAL_FIXTURES = join(__dirname, '..', 'fixtures', 'real');

/** Summarizes bytes the way `flowlog process` does (in one chunk unless told otherwise). */
export function summarizeBytes(
  bytes: Uint8Array,
  blob: string,
  options: { start?: ScanStart; windowSeconds?: number; chunkSize?: number } = {},
) {
  const summarizer = new BlobSummarizer({
    blob,
    windowSeconds: options.windowSeconds ?? 60,
    start: options.start ?? 'document',
  });
  const summaries: FlowSummary[] = [];
  const problems: FlowLogError[] = [];
  const step = options.chunkSize ?? bytes.length;
  for (let at = 0; at < bytes.length; at += Math.max(1, step)) {
    summarizer.push(bytes.subarray(at, Math.min(bytes.length, at + Math.max(1, step))), summaries, problems);
  }
  summarizer.end((options.start ?? 'document') === 'document', problems);
  return { summaries, problems, stats: summarizer.stats };
}

export function summarizeFixture(name: string, options: { start?: ScanStart; windowSeconds?: number } = {}) {
  return summarizeBytes(readFileSync(join(REAL_FIXTURES, name)), name, options);
}
