/**
 * The dashboard page: one HTML document for the live server (script from /app.js, panels from /api/panels
 * and server-sent events) and for `flowlog report` (script and rows inlined: one self-contained file).
 * The client (client/app.mjs, bundled by esbuild with ECharts and the world map) fills the panels.
 */

/** The panels, in page order: key (PanelsData field or chart), title, what it shows, how it is drawn. */
export const PAGE_PANELS = [
  {
    key: 'bytesOverTime',
    title: 'Bytes over time',
    help: 'Bytes in both directions per time bucket, allowed vs denied (FlowTimeline).',
    kind: 'chart',
    wide: false,
  },
  {
    key: 'flowsOverTime',
    title: 'Flows over time',
    help: 'Flows started (state B), denied flows and all flow tuples per time bucket (FlowTimeline).',
    kind: 'chart',
    wide: false,
  },
  {
    key: 'trafficByCountry',
    title: 'Remote countries by bytes',
    help: 'Traffic with public remote addresses (the far side of each flow) by GeoIP country (TrafficByCountry).',
    kind: 'chart',
    wide: true,
  },
  {
    key: 'flowTypes',
    title: 'Flow types',
    help: "Traffic Analytics' flow class of each flow, by flow tuples (FlowTypeBreakdown).",
    kind: 'chart',
    wide: false,
  },
  {
    key: 'topTalkers',
    title: 'Top talkers',
    help: 'Local hosts (the VNet side of each flow) by bytes sent + received (TopTalkers).',
    kind: 'table',
    wide: false,
  },
  {
    key: 'topConversations',
    title: 'Top conversations',
    help: 'Source → destination pairs by bytes (TopConversations).',
    kind: 'table',
    wide: false,
  },
  {
    key: 'deniedBySource',
    title: 'Denied inbound by source',
    help: 'Who was blocked: sources of denied inbound flows, their country and the ports they tried (DeniedInboundBySource).',
    kind: 'table',
    wide: true,
  },
  {
    key: 'deniedByCountry',
    title: 'Denied inbound by country',
    help: 'Denied inbound flows by source country (DeniedInboundByCountry).',
    kind: 'chart',
    wide: false,
  },
  {
    key: 'serviceTags',
    title: 'Azure service tags',
    help: 'Traffic with Azure services by the remote address’s service tag, by bytes (Flows() by remoteServiceTag).',
    kind: 'chart',
    wide: false,
  },
  {
    key: 'topPorts',
    title: 'Top destination ports',
    help: 'Destination ports by flow tuples, with the service name and the hosts involved (TopPorts).',
    kind: 'table',
    wide: false,
  },
  {
    key: 'newExternalIps',
    title: 'New external addresses',
    help: 'Public remote addresses seen in the last 15 minutes of the data and not in the 7 days before, newest first; whatever the range and resource, as on the Grafana and ADX dashboards (NewExternalIps(15m, 7d)).',
    kind: 'table',
    wide: true,
  },
  {
    key: 'portScanSuspects',
    title: 'Port scan suspects',
    help: 'Sources that reached at least 20 distinct destination ports, with their targets and the share of their flows that was denied (PortScanSuspects).',
    kind: 'table',
    wide: true,
  },
  {
    key: 'internetExposedPorts',
    title: 'Internet-exposed ports',
    help: 'Local hosts and ports that accepted inbound flows from public addresses, by the number of sources (InternetExposedPorts).',
    kind: 'table',
    wide: false,
  },
  {
    key: 'maliciousFlows',
    title: 'Malicious flows',
    help: 'Flows with an address on your threat labels or threat feeds (flow type MaliciousFlow), per remote address and direction, allowed ones first (MaliciousFlows).',
    kind: 'table',
    wide: true,
  },
  {
    key: 'unencryptedFlows',
    title: 'Unencrypted VNet flows',
    help: 'VNet flow logs: flows not encrypted by virtual network encryption, per resource and NIC, with the share of all its flows (UnencryptedFlows). NSG flow logs carry no encryption state.',
    kind: 'table',
    wide: true,
  },
  {
    key: 'blobFreshness',
    title: 'Per-blob freshness and lag',
    help: 'Each flow-log blob (NIC-hour): its newest record and how old it is; live: bytes and blocks committed but not yet read (BlobFreshness).',
    kind: 'table',
    wide: true,
  },
] as const;

export interface PageOptions {
  readonly title: string;
  /** 'live': the script is served at ./app.js and data comes from the server; 'report': both are inlined. */
  readonly mode: 'live' | 'report';
  /** The bundle, for a report (inlined). */
  readonly script?: string;
  /**
   * Report: the panels of every range preset and resource as JSON (`{extent, resources, sets}`,
   * domain/analysis/panels.ts computePanelSets), and what they came from (meta).
   */
  readonly panelsJson?: string;
  readonly meta?: Readonly<Record<string, unknown>>;
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * JSON safe inside a <script type="application/json"> element and still JSON: every `<` as `\u003c`, so
 * no `</script` or `<!--` in a label or rule name can end the element (scriptText's `<\!--` is no JSON).
 */
export function jsonScriptText(json: string): string {
  return json.replace(/</g, '\\u003c');
}

/** Text safe inside a <script> element: no `</script` (or `<!--`) can end or confuse it. */
export function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const STYLE = `
:root { color-scheme: dark; --bg: #111217; --panel: #181b1f; --line: #2c3038; --text: #d8d9da; --muted: #8e9297;
  --allow: #73bf69; --deny: #f2495c; --accent: #5794f2; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; padding: 10px 16px; border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); z-index: 2; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header label { color: var(--muted); }
select { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 3px 6px; max-width: 420px; }
#status { margin-left: auto; color: var(--muted); }
#status .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); margin-right: 6px; }
#status.live .dot { background: var(--allow); box-shadow: 0 0 6px var(--allow); }
#totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; padding: 12px 16px 0; }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px; }
.stat b { display: block; font-size: 20px; font-weight: 600; color: #fff; }
.stat span { color: var(--muted); }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; padding: 12px 16px 24px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 10px 12px; min-width: 0; display: flex; flex-direction: column; }
.panel.wide { grid-column: 1 / -1; }
.panel h2 { font-size: 14px; margin: 0; font-weight: 600; }
.panel p.help { margin: 2px 0 8px; color: var(--muted); font-size: 12px; }
.panel .chart { height: 280px; }
.panel[data-panel="trafficByCountry"] .chart { height: 420px; }
.panel .body { overflow: auto; max-height: 360px; }
.panel .empty { color: var(--muted); padding: 24px 0; text-align: center; }
.panel .note { color: var(--muted); font-size: 12px; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { color: var(--muted); font-weight: 500; position: sticky; top: 0; background: var(--panel); }
td.num, th.num { text-align: right; }
td .sub { color: var(--muted); font-size: 11px; }
.cc { display: inline-block; font-size: 10px; line-height: 14px; padding: 0 4px; border-radius: 3px; background: #2c3038; color: var(--text); vertical-align: 1px; }
.deny { color: var(--deny); }
.ok { color: var(--allow); }
.warn { color: #ff9830; }
footer { color: var(--muted); padding: 0 16px 16px; font-size: 12px; }
@media (max-width: 1100px) { main { grid-template-columns: minmax(0, 1fr); } }
`;

export function pageHtml(o: PageOptions): string {
  const panels = PAGE_PANELS.map(
    (
      p,
    ) => `<section class="panel${p.wide ? ' wide' : ''}" data-panel="${p.key}" data-kind="${p.kind}" data-rows="-1">
  <h2>${escapeHtml(p.title)}</h2><p class="help">${escapeHtml(p.help)}</p>
  <div class="${p.kind === 'chart' ? 'chart' : 'body'}"></div><div class="note"></div>
</section>`,
  ).join('\n');
  const data =
    o.mode === 'report'
      ? `<script id="flowlog-meta" type="application/json">${jsonScriptText(JSON.stringify(o.meta ?? {}))}</script>
<script id="flowlog-panels" type="application/json">${jsonScriptText(o.panelsJson ?? '{}')}</script>
<script>${scriptText(o.script ?? '')}</script>`
      : '<script src="app.js"></script>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(o.title)}</title>
<style>${STYLE}</style>
</head>
<body data-mode="${o.mode}">
<header>
  <h1>${escapeHtml(o.title)}</h1>
  <label>Time range <select id="range">
    <option value="15m">last 15 minutes</option><option value="1h">last hour</option>
    <option value="6h">last 6 hours</option><option value="24h">last 24 hours</option>
    <option value="7d">last 7 days</option><option value="all" selected>all data</option>
  </select></label>
  <label>Resource <select id="resource"><option value="">all NSGs and VNets</option></select></label>
  <span id="status"><span class="dot"></span><span id="status-text">loading…</span></span>
</header>
<div id="totals"></div>
<main>
${panels}
</main>
<footer>Computed from the summary rows only (the columns ADX ingests), deduplicated by id, with the same
logic as the KQL functions in deploy/adx: what this page shows is what the ADX and Grafana dashboards would
show. Times are UTC; ranges end at the newest window. docs/dashboard.md lists the panels.</footer>
${data}
</body>
</html>
`;
}
