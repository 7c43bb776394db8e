import { spawn } from 'node:child_process';
import { open, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { LoadedEnricher } from '../../adapters/enrichment';
import { computePanelSets, SummaryStore } from '../../domain/analysis/panels';
import { EnrichmentDataError } from '../../domain/enrich/errors';
import type { FlowLogError } from '../../domain/errors';
import { BlobSummarizer } from '../../domain/summarize';
import type { FlowSummary } from '../../domain/summary/schema';
import { GROUP_LINE_START, ROW_LINE_START, SummaryReader } from '../../domain/summary/serialize';
import { dashboardBundle } from '../../local/dashboard/bundle';
import { pageHtml } from '../../local/dashboard/page';
import { parseCommandArgs, positiveInt, UsageError } from '../args';
import { ENRICHMENT_FLAGS, enrichmentOptions, loadEnrichment } from '../enrichment';
import { collectInputs, type InputFile } from '../files';
import { READ_BYTES } from '../process-files';

export const REPORT_USAGE = `Usage: flowlog report <files or folders...> --html FILE [--open] [--title TEXT] [--window SECONDS]
                      [--geoip PATH] [--asn PATH] [--service-tags PATH] [--labels PATH] [--threat-feed LIST] [--no-enrich]

The live dashboard's page as one self-contained HTML file (script, world map and the panels of every
time range and resource inside, computed here: its size does not grow with the rows; it opens offline): time line by decision, top talkers and conversations, flow types, denied sources with their
countries and ports, service tags, a world map of remote countries, per-blob freshness, with a time-range
and resource filter. For a quick look at downloaded flow logs, or to attach to a ticket.

Inputs: NSG (v1, v2) and VNet (v4) flow-log PT1H.json files, summarized the way flowlog process does
(same rows, same ids, enriched unless --no-enrich), and summary NDJSON (flowlog process --out, or rows
read from the Event Hub), recognised by their first row. Folders are searched for *.json, *.ndjson and
*.jsonl. Rows are deduplicated by id, as ADX does.

Options:
  --html FILE           where to write the page                                          (required)
  --open                open the page in the default browser afterwards (xdg-open / open / start)
  --title TEXT          the page's title                                  (default: flowlog report)
  --window SECONDS      window length for flow-log files                                 (default 60)
  --geoip, --asn, --service-tags, --labels, --threat-feed, --no-enrich: enrichment as for flowlog process
  -h, --help            this text

Exit codes: 0 written; 1 written, but some input could not be read (see stderr); 2 usage error or
enrichment data missing; 3 internal error.`;

const SUMMARY_FILE = /\.(ndjson|jsonl)$/i;

/** True when the file's first non-blank bytes start a summary row (not a flow-log document). */
async function isSummaryFile(path: string): Promise<boolean> {
  const f = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await f.read(buf, 0, buf.length, 0);
    // A summary stream starts with a group line (contract v3) or a row (v2, or rows off the hub).
    const head = buf.subarray(0, bytesRead).toString('utf8').trimStart();
    return head.startsWith(ROW_LINE_START) || head.startsWith(GROUP_LINE_START);
  } finally {
    await f.close();
  }
}

async function summaryFilesUnder(dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await summaryFilesUnder(full, out);
    else if (entry.isFile() && SUMMARY_FILE.test(entry.name)) out.push(full);
  }
}

/** The inputs split into flow-log files (for processFiles) and summary NDJSON files. */
async function classify(inputs: readonly string[]): Promise<{ logs: InputFile[]; summaries: string[] }> {
  const logs: InputFile[] = [];
  const summaries: string[] = [];
  for (const input of inputs) {
    const info = await stat(resolve(input)).catch((cause: Error) => {
      throw new UsageError(`cannot read input "${input}": ${cause.message}`);
    });
    if (info.isDirectory()) await summaryFilesUnder(resolve(input), summaries);
    for (const file of await collectInputs([input])) {
      if (await isSummaryFile(file.path)) summaries.push(file.path);
      else logs.push(file);
    }
  }
  return { logs, summaries: [...new Set(summaries)].sort() };
}

/**
 * The summaries of flow-log files, as objects: BlobSummarizer.push (the same rows and ids as `flowlog
 * process`: it checks the fast path against this one), enriched in place. No NDJSON is written and read
 * back: that cost a report of 366,000 rows ~20 s and gigabytes of garbage.
 */
async function summarizeLogs(
  files: readonly InputFile[],
  windowSeconds: number,
  enricher: LoadedEnricher['enricher'] | null,
  onProblem: (text: string) => void,
): Promise<FlowSummary[]> {
  const rows: FlowSummary[] = [];
  const buffer = new Uint8Array(READ_BYTES);
  for (const file of files) {
    const summarizer = new BlobSummarizer({ blob: file.identity, windowSeconds });
    const problems: FlowLogError[] = [];
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(file.path, 'r');
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) break;
        const before = rows.length;
        summarizer.push(buffer.subarray(0, bytesRead), rows, problems);
        if (enricher !== null) for (let i = before; i < rows.length; i++) enricher.enrich(rows[i]!);
      }
      summarizer.end(true, problems);
    } catch (cause) {
      onProblem(`${file.path}: cannot read the file (${(cause as Error).message})`);
    } finally {
      await handle?.close();
    }
    for (const p of problems) onProblem(p.message);
  }
  return rows;
}

async function readSummaryFile(path: string, onProblem: (text: string) => void): Promise<FlowSummary[]> {
  const { readFile } = await import('node:fs/promises');
  const out: FlowSummary[] = [];
  const reader = new SummaryReader();
  const lines = (await readFile(path, 'utf8')).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      const s = reader.read(line);
      if (s !== null) out.push(s);
    } catch (error) {
      onProblem(`${path}:${i + 1}: not a summary row or group line (${(error as Error).message})`);
    }
  }
  return out;
}

/** Opens a file in the desktop's browser; false when there is no opener. */
function openInBrowser(path: string): Promise<boolean> {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', path]]
        : ['xdg-open', [path]];
  return new Promise((done) => {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

export interface ReportResult {
  readonly rows: number;
  readonly duplicates: number;
  readonly problems: number;
  readonly bytes: number;
}

/** Builds the page from the inputs (used by the command and the tests). */
export async function buildReport(
  inputs: readonly string[],
  o: {
    windowSeconds: number;
    enricher: LoadedEnricher['enricher'] | null;
    title: string;
    onProblem: (t: string) => void;
  },
): Promise<{ html: string; result: ReportResult }> {
  const { logs, summaries } = await classify(inputs);
  if (logs.length === 0 && summaries.length === 0)
    throw new UsageError('no flow-log (*.json) or summary (*.ndjson, *.jsonl) files in the inputs');
  let problems = 0;
  const onProblem = (t: string) => {
    problems++;
    o.onProblem(t);
  };
  const store = new SummaryStore(Number.MAX_SAFE_INTEGER);
  if (logs.length > 0) store.add(await summarizeLogs(logs, o.windowSeconds, o.enricher, onProblem));
  for (const path of summaries) store.add(await readSummaryFile(path, onProblem));
  const kept = store.rows();
  // The page carries every panel of every range and resource, computed here, not the rows: its size
  // does not grow with them (a report of 20 internet-facing NIC-hours: 366,000 rows, 160 MB as rows).
  const { extent, sets } = computePanelSets(kept, store.resources());
  const source = [
    logs.length > 0 ? `${logs.length} flow-log file${logs.length === 1 ? '' : 's'}` : '',
    summaries.length > 0 ? `${summaries.length} summary file${summaries.length === 1 ? '' : 's'}` : '',
  ]
    .filter((x) => x !== '')
    .join(' + ');
  const html = pageHtml({
    title: o.title,
    mode: 'report',
    script: await dashboardBundle(),
    panelsJson: JSON.stringify({ extent, resources: store.resources(), sets }),
    meta: {
      summaries: kept.length,
      duplicates: store.duplicates,
      source,
      inputs: inputs.map((i) => basename(i)),
      generatedAt: new Date().toISOString().slice(0, 19).replace('T', ' '),
      enriched: o.enricher !== null,
    },
  });
  return { html, result: { rows: kept.length, duplicates: store.duplicates, problems, bytes: html.length } };
}

export async function runReport(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    html: { type: 'string' },
    open: { type: 'boolean' },
    title: { type: 'string' },
    window: { type: 'string', short: 'w' },
    ...ENRICHMENT_FLAGS,
  });
  if (values.help) {
    process.stdout.write(`${REPORT_USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one file or folder');
  const htmlPath = values.html as string | undefined;
  if (htmlPath === undefined || htmlPath === '') throw new UsageError('--html FILE is required');
  const windowSeconds = positiveInt(values.window as string | undefined, 'window', 60);
  const enrichment = enrichmentOptions(values);
  let loaded: LoadedEnricher | null = null;
  if (enrichment.enabled) {
    try {
      loaded = await loadEnrichment(enrichment);
    } catch (error) {
      if (!(error instanceof EnrichmentDataError)) throw error;
      process.stderr.write(`flowlog report: ${error.message}\n`);
      return 2;
    }
  }
  const { html, result } = await buildReport(positionals, {
    windowSeconds,
    enricher: loaded?.enricher ?? null,
    title: (values.title as string | undefined) ?? 'flowlog report',
    onProblem: (t) => process.stderr.write(`flowlog: ${t}\n`),
  });
  await writeFile(htmlPath, html);
  process.stderr.write(
    `flowlog report: ${resolve(htmlPath)}: ${result.rows} summaries${result.duplicates > 0 ? ` (${result.duplicates} duplicates dropped)` : ''}, ${(result.bytes / 1024).toFixed(0)} KiB${result.problems > 0 ? `; ${result.problems} problems` : ''}\n`,
  );
  if (values.open === true && !(await openInBrowser(resolve(htmlPath))))
    process.stderr.write('flowlog report: no browser opener found (xdg-open); open the file yourself\n');
  return result.problems > 0 ? 1 : 0;
}
