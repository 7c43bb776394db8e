/**
 * Draws a LiveView as terminal lines for a given width (and, when given, height): the live screen, the
 * one-line status of `--no-ui`, and the summary printed at exit. Pure: colours are ANSI SGR codes added
 * only when asked, and no line is ever wider than the width.
 */
import type { BlobRow, DeniedSource, LiveView, Talker, WindowRow } from './model';

export type Style = 'title' | 'head' | 'dim' | 'good' | 'warn' | 'bad' | 'accent';

interface Seg {
  readonly t: string;
  readonly s?: Style | undefined;
}
type Line = Seg[];

export interface RenderOptions {
  readonly width: number;
  /** Rows available; sections shrink (and the least important disappear) to fit. Unbounded when absent. */
  readonly height?: number;
  readonly color?: boolean;
}

const SGR: Record<Style, string> = {
  title: '\x1b[1;36m',
  head: '\x1b[1m',
  dim: '\x1b[2m',
  good: '\x1b[32m',
  warn: '\x1b[33m',
  bad: '\x1b[1;31m',
  accent: '\x1b[36m',
};
const RESET = '\x1b[0m';

// ---- formatting ------------------------------------------------------------------------------------

export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatRate(n: number | null): string {
  if (n === null) return '–';
  if (n >= 100) return formatCount(n);
  return n.toFixed(1);
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** `2026-11-30T14:07:00Z` → `11-30 14:07`. */
function shortTime(iso: string | null): string {
  if (!iso) return '–';
  const m = /^\d{4}-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}-${m[2]} ${m[3]}:${m[4]}` : iso;
}

// ---- lines -----------------------------------------------------------------------------------------

const width = (line: Line) => line.reduce((n, seg) => n + [...seg.t].length, 0);

/** Cuts a line to `max` visible characters, ending in `…` when something was cut. */
function fit(line: Line, max: number): Line {
  if (width(line) <= max) return line;
  const out: Line = [];
  let room = max - 1;
  for (const seg of line) {
    if (room <= 0) break;
    const chars = [...seg.t];
    if (chars.length <= room) {
      out.push(seg);
      room -= chars.length;
    } else {
      out.push({ t: chars.slice(0, room).join(''), s: seg.s });
      room = 0;
    }
  }
  out.push({ t: '…' });
  return out;
}

function toText(line: Line, color: boolean): string {
  return line.map((seg) => (color && seg.s ? `${SGR[seg.s]}${seg.t}${RESET}` : seg.t)).join('');
}

function pad(text: string, n: number, right = false): string {
  const chars = [...text];
  if (chars.length > n) return n <= 1 ? chars.slice(0, n).join('') : `${chars.slice(0, n - 1).join('')}…`;
  return right
    ? text.padStart(n + (text.length - chars.length))
    : text.padEnd(n + (text.length - chars.length));
}

/** `── Title  detail ─────` across the width. */
function rule(title: string, detail: string, w: number): Line {
  const head = `── ${title} `;
  const tail = detail ? `${detail} ` : '';
  const fill = Math.max(0, w - [...head].length - [...tail].length);
  return [
    { t: head, s: 'title' },
    { t: tail, s: 'dim' },
    { t: '─'.repeat(fill), s: 'dim' },
  ];
}

/** Two panels side by side, each cut to its half. */
function beside(left: Line[], right: Line[], leftWidth: number, rightWidth: number): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = fit(left[i] ?? [], leftWidth);
    const gap = ' '.repeat(leftWidth - width(l) + 2);
    out.push([...l, { t: gap }, ...fit(right[i] ?? [], rightWidth)]);
  }
  return out;
}

// ---- sections --------------------------------------------------------------------------------------

function headerLines(v: LiveView, w: number): Line[] {
  const state = v.phase === 'running' ? 'running' : v.phase;
  const right = `${formatElapsed(v.now - v.startedAt)} ${state}`;
  const left: Line = [{ t: 'flowlog live', s: 'title' }, { t: `  ${v.header.source}` }];
  if (v.header.detail) left.push({ t: `  ·  ${v.header.detail}`, s: 'dim' });
  const room = Math.max(0, w - right.length - 1);
  const first = fit(left, room);
  const line1: Line = [
    ...first,
    { t: ' '.repeat(Math.max(1, w - width(first) - right.length)) },
    { t: right, s: v.phase === 'running' ? 'good' : 'warn' },
  ];
  const line2: Line = [];
  if (v.phase === 'running') line2.push({ t: 'Ctrl-C stops', s: 'accent' }, { t: '  ·  ', s: 'dim' });
  else if (v.phase === 'draining')
    line2.push({ t: 'stopping: letting the app catch up', s: 'warn' }, { t: '  ·  ', s: 'dim' });
  line2.push({ t: v.header.endpoints.join('  ·  '), s: 'dim' });
  return [line1, line2];
}

function throughputLines(v: LiveView): Line[] {
  const r = v.rates;
  const t = v.totals;
  const wr = v.writer;
  const kv = (k: string, value: string, unit = '/s'): Seg[] => [
    { t: `${k} `, s: 'dim' },
    { t: value, s: 'head' },
    { t: `${unit}   `, s: 'dim' },
  ];
  const lat = v.latency;
  return [
    [
      ...kv('events→hub', formatRate(r.hubEvents)),
      ...kv('summaries', formatRate(r.summaries)),
      ...kv('tuples', formatRate(r.tuples)),
      ...kv('blocks', formatRate(r.blocks)),
      ...kv('BlobCreated', formatRate(r.blobEvents)),
    ],
    [
      { t: 'totals ', s: 'dim' },
      {
        t: `${formatCount(t.hubEvents)} on hub · ${formatCount(t.summaries)} summaries · ${formatCount(t.tuples)} tuples · ${formatCount(wr?.blocks ?? 0)} blocks · data ${shortTime(wr?.dataTime ?? null)}`,
      },
      { t: wr?.exhausted ? ' · folder fully written' : '', s: 'accent' },
    ],
    [
      { t: `latency commit→hub (last ${Math.round(v.latencyWindowMs / 1000)} s) `, s: 'dim' },
      ...kv('p50', formatMs(lat.p50), ''),
      ...kv('p99', formatMs(lat.p99), ''),
      ...kv('max', formatMs(lat.max), ''),
      { t: `n=${lat.samples}`, s: 'dim' },
    ],
  ];
}

function blobTitle(v: LiveView, w: number): Line {
  const b = v.blobTotals;
  const detail = `${b.shown} shown of ${b.written} · ${b.lagging} lagging · ${b.failed} failed · lag ${formatBytes(b.lagBytes)} / ${b.lagBlocks} blocks`;
  return rule('Blobs', detail, w);
}

const STATE_STYLE: Record<BlobRow['state'], Style> = {
  new: 'dim',
  running: 'accent',
  behind: 'warn',
  'caught up': 'good',
  done: 'dim',
  failed: 'bad',
};

function blobTable(rows: readonly BlobRow[], w: number, limit: number): Line[] {
  const labelW = Math.min(24, Math.max(10, ...rows.map((r) => r.label.length)));
  const cols: [string, number, boolean][] = [
    ['blob', labelW, false],
    ['hour', 9, false],
    ['blocks r/w', 10, true],
    ['lag', 8, true],
    ['blk', 4, true],
    ['state', 10, false],
    ['gen', 3, true],
    ['runs', 5, true],
  ];
  const used = cols.reduce((n, [, cw]) => n + cw + 1, 0);
  const errorW = w - used;
  const withError = errorW >= 16;
  const header: Line = [
    {
      t: cols.map(([name, cw, right]) => pad(name, cw, right)).join(' ') + (withError ? ' last error' : ''),
      s: 'dim',
    },
  ];
  const shown = rows.slice(0, limit);
  const lines: Line[] = [header];
  if (rows.length === 0) lines.push([{ t: 'no blobs written yet', s: 'dim' }]);
  for (const r of shown) {
    const cells = [
      pad(r.label, labelW),
      pad(r.hour, 9),
      pad(`${r.consumedRecords}/${r.committedRecords}`, 10, true),
      pad(formatBytes(r.lagBytes), 8, true),
      pad(String(r.lagBlocks), 4, true),
    ];
    const line: Line = [{ t: `${cells.join(' ')} ` }, { t: pad(r.state, 10), s: STATE_STYLE[r.state] }];
    line.push({ t: ` ${pad(String(r.generation), 3, true)} ${pad(String(r.runs), 5, true)}` });
    if (withError && r.lastError)
      line.push({ t: ` ${r.lastError}`, s: r.state === 'failed' ? 'bad' : 'warn' });
    lines.push(line);
  }
  if (rows.length > shown.length) lines.push([{ t: `… ${rows.length - shown.length} more`, s: 'dim' }]);
  return lines;
}

function talkerLines(talkers: readonly Talker[], limit: number): Line[] {
  if (talkers.length === 0) return [[{ t: 'no summaries yet', s: 'dim' }]];
  const srcW = Math.max(...talkers.map((t) => t.src.length));
  const dstW = Math.max(...talkers.map((t) => t.dst.length));
  return talkers.slice(0, limit).map((t) => {
    const line: Line = [
      { t: `${pad(t.src, srcW)} → ${pad(t.dst, dstW)} ` },
      { t: pad(formatBytes(t.bytes), 9, true), s: 'head' },
      { t: ` ${pad(formatCount(t.packets), 6, true)} pkts`, s: 'dim' },
    ];
    if (t.dstLabel) line.push({ t: `  ${t.dstLabel}`, s: 'accent' });
    return line;
  });
}

function deniedLines(denied: readonly DeniedSource[], limit: number): Line[] {
  if (denied.length === 0) return [[{ t: 'no denied flows yet', s: 'dim' }]];
  const srcW = Math.max(...denied.map((d) => d.src.length));
  return denied.slice(0, limit).map((d) => [
    { t: `${pad(d.src, srcW)} ` },
    { t: pad(`${formatCount(d.denied)} denied`, 11, true), s: 'warn' },
    {
      t: `  ${d.ports} port${d.ports === 1 ? '' : 's'} · ${d.targets} target${d.targets === 1 ? '' : 's'}  `,
    },
    { t: d.rule, s: 'dim' },
  ]);
}

function windowLines(windows: readonly WindowRow[], limit: number): Line[] {
  if (windows.length === 0) return [[{ t: 'no windows yet', s: 'dim' }]];
  return windows
    .slice(0, limit)
    .map((w) => [
      { t: shortTime(w.windowStart).slice(6), s: 'head' },
      { t: ` ${pad(formatCount(w.rows), 4, true)} rows ${pad(formatCount(w.tuples), 5, true)} tuples ` },
      { t: pad(formatBytes(w.bytes), 8, true) },
      { t: ` ${pad(formatCount(w.denied), 4, true)} denied`, s: w.denied > 0 ? 'warn' : 'dim' },
      { t: ` ${pad(String(w.blobs), 2, true)} blobs`, s: 'dim' },
    ]);
}

function counterLines(v: LiveView): Line[] {
  const t = v.totals;
  const h = v.host;
  const i = v.instances;
  const wr = v.writer;
  const label = (s: string): Seg => ({ t: pad(s, 9), s: 'dim' });
  const bad = (n: number, what: string): Seg => ({
    t: `${formatCount(n)} ${what}`,
    s: n > 0 ? 'bad' : undefined,
  });
  const late = wr && wr.lateTicks > 0 ? ` · ${wr.lateTicks} late ticks` : '';
  return [
    [
      label('runs'),
      { t: `${formatCount(t.runsCompleted)} done · ` },
      bad(t.runsFailed, 'failed'),
      { t: ` · events started ${formatCount(t.runsStarted)}, joined ${formatCount(t.runsCoalesced)}` },
    ],
    [
      label('orch'),
      { t: `${i?.active ?? 0} active · ` },
      bad(i?.failed ?? 0, 'failed'),
      { t: ` · ${formatCount(h?.orchestratorEpisodes ?? 0)} episodes · ${t.newGenerations} new gen` },
    ],
    [
      label('activity'),
      { t: `${formatCount(h?.activityExecutions ?? 0)} executions · ` },
      bad(h?.activityFailures ?? 0, 'failed'),
      { t: ` · ${t.emitRetries} emit retries` },
    ],
    [label('entity'), { t: `${formatCount(h?.entityOperations ?? 0)} operations on blob entities` }],
    [
      label('events'),
      { t: `${formatCount(wr?.eventsSent ?? 0)} BlobCreated · ${formatCount(t.eventsStale)} stale · ` },
      {
        t: `${wr?.eventsRedelivered ?? 0} redelivered`,
        s: (wr?.eventsRedelivered ?? 0) > 0 ? 'warn' : undefined,
      },
      { t: late },
    ],
    [
      label('sweep'),
      { t: `${v.sweeps} sweeps · ${t.sweepPoked} blobs poked` },
      { t: v.rssBytes !== null ? ` · rss ${formatBytes(v.rssBytes)}` : '', s: 'dim' },
    ],
  ];
}

function logLines(v: LiveView): Line[] {
  return v.logs.map((l) => [
    { t: `${l.level === 'error' ? '✗' : '!'} ${new Date(l.at).toISOString().slice(11, 19)} `, s: 'dim' },
    { t: l.text, s: l.level === 'error' ? 'bad' : 'warn' },
  ]);
}

// ---- layout ----------------------------------------------------------------------------------------

interface Flex {
  /** Rows the section would like (without its title). */
  readonly want: number;
  rows: number;
  /** Has a title line (default true). */
  readonly titled?: boolean;
}

/**
 * Shares `room` rows among sections in stages: each stage lets one section grow to a target, so the blob
 * list and the first talkers and denied rows come before the rest. A section that gets rows also pays
 * one row for its title.
 */
function allocate(stages: readonly (readonly [Flex, number])[], room: number): void {
  let left = room;
  for (const [s, target] of stages) {
    const title = s.rows === 0 && s.titled !== false ? 1 : 0;
    const grow = Math.min(Math.min(target, s.want) - s.rows, left - title);
    if (grow <= 0) continue;
    s.rows += grow;
    left -= grow + title;
  }
}

/** The live screen as lines, none wider than `options.width`, at most `options.height` of them. */
export function renderFrame(v: LiveView, options: RenderOptions): string[] {
  const w = Math.max(20, options.width);
  const height = options.height ?? Number.POSITIVE_INFINITY;
  const color = options.color ?? false;
  const wide = w >= 110;
  const leftW = wide ? Math.floor((w - 2) / 2) : w;
  const rightW = wide ? w - leftW - 2 : w;

  const top = [...headerLines(v, w), rule('Throughput', '', w), ...throughputLines(v)];
  const counters = counterLines(v);
  const logs = logLines(v);
  const all = Number.POSITIVE_INFINITY;
  // The blob table: a column header, then one row per blob (or one saying there is none yet).
  const blobs: Flex = { want: Math.max(1, v.blobs.length) + 1, rows: 0 };
  const talkerRows = Math.max(v.talkers.length, 1);
  const deniedRows = Math.max(v.denied.length, 1);
  const windowRows = Math.max(v.windows.length, 1);
  const talkers: Flex = { want: wide ? Math.max(talkerRows, deniedRows) : talkerRows, rows: 0 };
  const denied: Flex = { want: wide ? 0 : deniedRows, rows: 0 };
  const windows: Flex = { want: wide ? Math.max(windowRows, counters.length) : windowRows, rows: 0 };
  const countersFlex: Flex = { want: wide ? 0 : counters.length, rows: 0 };
  const logFlex: Flex = { want: logs.length, rows: 0, titled: false };
  const stages: (readonly [Flex, number])[] = wide
    ? [
        [blobs, 5],
        [talkers, 3],
        [blobs, all],
        [windows, counters.length],
        [talkers, 5],
        [logFlex, all],
        [talkers, all],
        [windows, all],
      ]
    : [
        [blobs, 5],
        [talkers, 3],
        [denied, 3],
        [blobs, 10],
        [windows, 3],
        [countersFlex, all],
        [talkers, 5],
        [denied, 5],
        [logFlex, all],
        [blobs, all],
        [windows, 5],
        [talkers, all],
        [denied, all],
        [windows, all],
      ];
  const room = height - top.length;
  if (Number.isFinite(room)) allocate(stages, room);
  else for (const [s] of stages) s.rows = s.want;

  const out: Line[] = [...top];
  if (blobs.rows > 0) {
    out.push(blobTitle(v, w));
    // One row goes to the column header; a cut table says how many rows are hidden.
    const dataRows = blobs.rows - 1;
    const limit = dataRows >= v.blobs.length ? v.blobs.length : Math.max(0, dataRows - 1);
    out.push(...blobTable(v.blobs, w, limit));
  }
  const talkerTitle = `last ${v.recentWindows} windows`;
  if (wide) {
    if (talkers.rows > 0) {
      out.push(
        ...beside(
          [rule('Top talkers', talkerTitle, leftW)],
          [rule('Denied flows', 'top sources', rightW)],
          leftW,
          rightW,
        ),
        ...beside(talkerLines(v.talkers, talkers.rows), deniedLines(v.denied, talkers.rows), leftW, rightW),
      );
    }
    if (windows.rows > 0) {
      out.push(
        ...beside(
          [rule('Latest windows', '', leftW)],
          [rule('Runs & activities', '', rightW)],
          leftW,
          rightW,
        ),
        ...beside(windowLines(v.windows, windows.rows), counters.slice(0, windows.rows), leftW, rightW),
      );
    }
  } else {
    if (talkers.rows > 0)
      out.push(rule('Top talkers', talkerTitle, w), ...talkerLines(v.talkers, talkers.rows));
    if (denied.rows > 0)
      out.push(rule('Denied flows', 'top sources', w), ...deniedLines(v.denied, denied.rows));
    if (windows.rows > 0) out.push(rule('Latest windows', '', w), ...windowLines(v.windows, windows.rows));
    if (countersFlex.rows > 0)
      out.push(rule('Runs & activities', '', w), ...counters.slice(0, countersFlex.rows));
  }
  if (logFlex.rows > 0) out.push(...logs.slice(-logFlex.rows));
  return out.slice(0, height).map((line) => toText(fit(line, w), color));
}

/** One plain line for `--no-ui` and logs. */
export function renderStatusLine(v: LiveView): string {
  const wr = v.writer;
  const b = v.blobTotals;
  const lat = v.latency;
  return [
    `[${formatElapsed(v.now - v.startedAt)}] ${v.phase}`,
    `data ${shortTime(wr?.dataTime ?? null)}`,
    `blocks ${formatCount(wr?.blocks ?? 0)}`,
    `hub ${formatCount(v.totals.hubEvents)} summaries (${formatRate(v.rates.hubEvents)}/s)`,
    `tuples/s ${formatRate(v.rates.tuples)}`,
    `latency p50 ${formatMs(lat.p50)} p99 ${formatMs(lat.p99)}`,
    `lag ${formatBytes(b.lagBytes)}/${b.lagBlocks} blk (${b.lagging} of ${b.shown} behind)`,
    `runs ${formatCount(v.totals.runsCompleted)} done, ${v.totals.runsFailed} failed`,
    ...(v.rssBytes !== null ? [`rss ${formatBytes(v.rssBytes)}`] : []),
  ].join(' · ');
}

/** What is printed when the run ends (after the screen is restored); long lines wrap. */
export function renderSummary(v: LiveView): string[] {
  const t = v.totals;
  const b = v.blobTotals;
  const lines: string[] = [
    `flowlog live: ${formatElapsed(v.now - v.startedAt)}, ${formatCount(v.writer?.blocks ?? 0)} blocks written to ${b.written} blobs, ${formatCount(t.hubEvents)} summaries reached the hub (${formatCount(t.tuples)} tuples)`,
    `  latency commit→hub (last ${Math.round(v.latencyWindowMs / 1000)} s): p50 ${formatMs(v.latency.p50)}, p99 ${formatMs(v.latency.p99)}, max ${formatMs(v.latency.max)} over ${v.latency.samples} blocks`,
    `  runs: ${t.runsCompleted} completed, ${t.runsFailed} failed (${t.runsStarted} started by an event, ${t.runsCoalesced} events joined a run)`,
    `  lag at exit: ${formatBytes(b.lagBytes)} / ${b.lagBlocks} blocks in ${b.lagging} blob(s)`,
  ];
  const talker = v.talkers[0];
  if (talker) lines.push(`  top talker: ${talker.src} → ${talker.dst} ${formatBytes(talker.bytes)}`);
  const denied = v.denied[0];
  if (denied)
    lines.push(`  top denied source: ${denied.src} (${denied.denied} denied, ${denied.ports} ports)`);
  return lines;
}
