/**
 * The dashboard in the browser (bundled by local/dashboard/bundle.ts with esbuild: ECharts, the world map
 * from world-atlas through topojson-client, ISO country names). Two sources of panel data:
 *   live   — GET api/panels?range=&resource= from the local server, again on each server-sent event;
 *   report — the panels of every range and resource, computed by `flowlog report` (the same
 *            domain/analysis/panels.ts) and inlined in the page.
 */
import { BarChart, LineChart, MapChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import { feature } from 'topojson-client';
import world from 'world-atlas/countries-110m.json';

echarts.use([
  LineChart,
  BarChart,
  PieChart,
  MapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  VisualMapComponent,
  CanvasRenderer,
]);
countries.registerLocale(en);

const COLORS = { allow: '#73bf69', deny: '#f2495c', accent: '#5794f2', muted: '#8e9297', text: '#d8d9da' };
const PALETTE = [
  '#5794f2',
  '#73bf69',
  '#fade2a',
  '#ff9830',
  '#f2495c',
  '#b877d9',
  '#8ab8ff',
  '#96d98d',
  '#ffb357',
  '#ca95e5',
];

// ------------------------------------------------------------------------------------------ formatting

const esc = (v) =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const num = (n) => (n === null || n === undefined ? '' : Number(n).toLocaleString('en-US'));
function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = Number(n);
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
const time = (iso) => (iso ? iso.slice(11, 16) : '');
const dateTime = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : '');
/** A country code as a small tag (flag emoji need a font many machines lack). */
const flag = (code) => (code && /^[A-Z]{2}$/.test(code) ? `<span class="cc">${code}</span>` : '');
function countryName(code) {
  if (!code || code === '(unknown)') return 'unknown';
  return countries.getName(code, 'en', { select: 'alias' }) ?? countries.getName(code, 'en') ?? code;
}
const country = (code) =>
  code ? `${flag(code)} ${esc(countryName(code))}` : '<span class="sub">unknown</span>';
const resourceName = (id) => (id ? id.split('/').pop() : '');

// ------------------------------------------------------------------------------------------ tables

/** columns: [label, value(row) → html, numeric?] */
function table(columns, rows) {
  const head = columns.map(([label, , n]) => `<th${n ? ' class="num"' : ''}>${esc(label)}</th>`).join('');
  const body = rows
    .map(
      (r) => `<tr>${columns.map(([, f, n]) => `<td${n ? ' class="num"' : ''}>${f(r)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const TABLES = {
  topTalkers: (rows) =>
    table(
      [
        [
          'Local host',
          (r) => `${esc(r.localIp)}${r.label ? ` <span class="sub">${esc(r.label)}</span>` : ''}`,
        ],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Sent', (r) => bytes(r.bytesSent), true],
        ['Received', (r) => bytes(r.bytesReceived), true],
        ['Flows', (r) => num(r.tuples), true],
        ['Denied', (r) => (r.flowsDenied ? `<span class="deny">${num(r.flowsDenied)}</span>` : '0'), true],
        ['Peers', (r) => num(r.peers), true],
      ],
      rows,
    ),
  topConversations: (rows) =>
    table(
      [
        ['Source', (r) => `${esc(r.srcIp)} ${flag(r.srcCountry)}`],
        ['Destination', (r) => `${esc(r.dstIp)} ${flag(r.dstCountry)}`],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Packets', (r) => num(r.packets), true],
        ['Flows', (r) => num(r.tuples), true],
        ['Denied', (r) => (r.flowsDenied ? `<span class="deny">${num(r.flowsDenied)}</span>` : '0'), true],
        ['Ports', (r) => num(r.ports), true],
        ['Flow type', (r) => esc(r.flowType ?? '')],
      ],
      rows,
    ),
  deniedBySource: (rows) =>
    table(
      [
        ['Source', (r) => esc(r.srcIp)],
        ['Country', (r) => country(r.country)],
        ['AS organisation', (r) => esc(r.asOrg ?? '')],
        ['Denied flows', (r) => `<span class="deny">${num(r.deniedFlows)}</span>`, true],
        ['Targets', (r) => num(r.targets), true],
        ['Ports', (r) => num(r.ports), true],
        ['Most denied ports', (r) => esc(r.topPorts.join(', '))],
        ['Rules', (r) => esc(r.rules.join(', '))],
        ['Last seen', (r) => time(r.lastSeen)],
      ],
      rows,
    ),
  topPorts: (rows) =>
    table(
      [
        ['Port', (r) => `${esc(r.dstPort)}/${esc(r.protocol)}`],
        ['Service', (r) => esc(r.l7Protocol ?? '')],
        ['Flows', (r) => num(r.tuples), true],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Denied', (r) => (r.flowsDenied ? `<span class="deny">${num(r.flowsDenied)}</span>` : '0'), true],
        ['Hosts', (r) => num(r.hosts), true],
        ['Sources', (r) => num(r.sources), true],
      ],
      rows,
    ),
  newExternalIps: (rows) =>
    table(
      [
        ['Remote address', (r) => `${esc(r.remoteIp)} ${flag(r.country)}`],
        ['AS organisation', (r) => esc(r.asOrg ?? '')],
        ['Flow type', (r) => esc(r.flowType ?? '')],
        ['Flows', (r) => num(r.tuples), true],
        ['Denied', (r) => num(r.flowsDenied), true],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Local hosts', (r) => num(r.localIps), true],
        ['Ports', (r) => esc(r.ports.join(', '))],
        ['First seen', (r) => time(r.firstSeen)],
        ['Last seen', (r) => time(r.lastSeen)],
      ],
      rows,
    ),
  portScanSuspects: (rows) =>
    table(
      [
        ['Source', (r) => `${esc(r.srcIp)} ${flag(r.country)}`],
        ['AS organisation', (r) => esc(r.asOrg ?? '')],
        ['Ports', (r) => num(r.ports), true],
        ['Targets', (r) => num(r.targets), true],
        ['Flows', (r) => num(r.tuples), true],
        ['Denied', (r) => `${(100 * r.deniedShare).toFixed(1)} %`, true],
        ['Flow type', (r) => esc(r.flowType ?? '')],
        ['First seen', (r) => time(r.firstSeen)],
        ['Last seen', (r) => time(r.lastSeen)],
      ],
      rows,
    ),
  internetExposedPorts: (rows) =>
    table(
      [
        ['Local host', (r) => esc(r.localIp)],
        ['Port', (r) => `${esc(r.dstPort)}/${esc(r.protocol)}`],
        ['Service', (r) => esc(r.l7Protocol ?? '')],
        ['Sources', (r) => num(r.sources), true],
        ['Countries', (r) => num(r.countries), true],
        ['Flows', (r) => num(r.tuples), true],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Last seen', (r) => time(r.lastSeen)],
      ],
      rows,
    ),
  maliciousFlows: (rows) =>
    table(
      [
        ['Remote address', (r) => `${esc(r.remoteIp)} ${flag(r.country)}`],
        ['Direction', (r) => esc(r.direction)],
        ['Listed as', (r) => esc(r.label ?? '')],
        ['AS organisation', (r) => esc(r.asOrg ?? '')],
        [
          'Allowed',
          (r) => (r.allowedTuples ? `<span class="deny">${num(r.allowedTuples)}</span>` : '0'),
          true,
        ],
        ['Flows', (r) => num(r.tuples), true],
        ['Denied', (r) => num(r.flowsDenied), true],
        ['Bytes', (r) => bytes(r.bytes), true],
        ['Local hosts', (r) => num(r.localIps), true],
        [
          'Ports',
          (r) =>
            esc(`${r.ports.slice(0, 6).join(', ')}${r.ports.length > 6 ? ` +${r.ports.length - 6}` : ''}`),
        ],
        ['Last seen', (r) => time(r.lastSeen)],
      ],
      rows,
    ),
  unencryptedFlows: (rows) =>
    table(
      [
        ['Resource', (r) => esc(r.resourceName)],
        ['NIC (MAC)', (r) => esc(r.macAddress)],
        ['Unencrypted flows', (r) => `<span class="warn">${num(r.unencryptedFlows)}</span>`, true],
        ['Encrypted flows', (r) => num(r.encryptedFlows), true],
        ['Unencrypted share', (r) => `${r.unencryptedShare.toFixed(1)} %`, true],
        ['Unencrypted bytes', (r) => bytes(r.unencryptedBytes), true],
        ['Remote IPs', (r) => num(r.remoteIps), true],
        ['Last window', (r) => time(r.lastWindow)],
      ],
      rows,
    ),
  blobFreshness: (rows, lag) => {
    const byBlob = new Map((lag ?? []).map((l) => [l.blob, l]));
    const live = lag !== undefined;
    const cols = [
      ['Blob id', (r) => `<code>${esc(r.blob)}</code>`],
      ['Log', (r) => esc(r.logType.toUpperCase())],
      ['Resource', (r) => esc(resourceName(r.resourceId))],
      ['NIC (MAC)', (r) => esc(r.macAddress)],
      ['Newest record', (r) => dateTime(r.newestRecord)],
      [
        'Age (min)',
        (r) => `<span class="${r.ageMinutes > 10 ? 'warn' : 'ok'}">${r.ageMinutes.toFixed(1)}</span>`,
        true,
      ],
      ['Records', (r) => num(r.records), true],
      ['Summaries', (r) => num(r.summaries), true],
    ];
    if (live)
      cols.push(
        ['Lag', (r) => lagText(byBlob.get(r.blob)), true],
        ['State', (r) => esc(byBlob.get(r.blob)?.state ?? '')],
      );
    return table(cols, rows);
  },
};

function lagText(l) {
  if (!l) return '<span class="sub">—</span>';
  if (l.lagBytes === 0 && l.lagBlocks === 0) return '<span class="ok">caught up</span>';
  return `<span class="warn">${bytes(l.lagBytes)} / ${num(l.lagBlocks)} blocks</span>`;
}

// ------------------------------------------------------------------------------------------ charts

let worldRegistered = false;
function registerWorld() {
  if (worldRegistered) return;
  const geo = feature(world, world.objects.countries);
  // Antarctica takes a fifth of the map and has no flow-log peers.
  geo.features = geo.features.filter((f) => String(f.id) !== '010');
  for (const f of geo.features) {
    // Rings that cross the antimeridian (Russia, Fiji) jump from 180 to -180: continue them past 180
    // instead, or the map draws a line across the whole world.
    const polygons = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const polygon of polygons)
      for (const ring of polygon)
        if (ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180))
          for (const p of ring) if (p[0] < 0) p[0] += 360;
    const alpha2 = f.id !== undefined ? countries.numericToAlpha2(String(f.id).padStart(3, '0')) : undefined;
    f.properties = { ...f.properties, name: alpha2 ?? f.properties?.name ?? '' };
  }
  echarts.registerMap('world', geo);
  worldRegistered = true;
}

const axis = {
  axisLine: { lineStyle: { color: '#2c3038' } },
  axisLabel: { color: COLORS.muted },
  splitLine: { lineStyle: { color: '#22252b' } },
};
const base = {
  animation: false,
  backgroundColor: 'transparent',
  textStyle: { color: COLORS.text },
  tooltip: { backgroundColor: '#22252b', borderColor: '#2c3038', textStyle: { color: COLORS.text } },
};

function timeSeries(timeline, decisions, pick, p) {
  const buckets = [];
  const from = Math.floor(Date.parse(p.from) / p.bucketMs) * p.bucketMs;
  for (let t = from; t < Date.parse(p.to) && buckets.length < 5000; t += p.bucketMs)
    buckets.push(new Date(t).toISOString());
  for (const t of timeline) if (!buckets.includes(t.windowStart)) buckets.push(t.windowStart);
  buckets.sort();
  const index = new Map(buckets.map((b, i) => [b, i]));
  return decisions.map((d) => {
    const values = buckets.map(() => 0);
    for (const t of timeline) if (t.decision === d) values[index.get(t.windowStart)] += pick(t);
    return { buckets, values };
  });
}

const CHARTS = {
  bytesOverTime: (p) => {
    const [allow, deny] = timeSeries(p.timeline, ['Allow', 'Deny'], (t) => t.bytes, p);
    return {
      rows: p.timeline.length,
      option: {
        ...base,
        tooltip: { ...base.tooltip, trigger: 'axis', valueFormatter: bytes },
        legend: { data: ['Allowed', 'Denied'], textStyle: { color: COLORS.text }, top: 0 },
        grid: { left: 70, right: 16, top: 30, bottom: 30 },
        xAxis: { type: 'time', ...axis },
        yAxis: { type: 'value', ...axis, axisLabel: { color: COLORS.muted, formatter: bytes } },
        series: [line('Allowed', allow, COLORS.allow), line('Denied', deny, COLORS.deny)],
      },
    };
  },
  flowsOverTime: (p) => {
    const sum = (pick) => {
      const [a, d] = timeSeries(p.timeline, ['Allow', 'Deny'], pick, p);
      return { buckets: a.buckets, values: a.values.map((v, i) => v + d.values[i]) };
    };
    return {
      rows: p.timeline.length,
      option: {
        ...base,
        tooltip: { ...base.tooltip, trigger: 'axis', valueFormatter: num },
        legend: {
          data: ['Flow tuples', 'Flows started', 'Denied'],
          textStyle: { color: COLORS.text },
          top: 0,
        },
        grid: { left: 60, right: 16, top: 30, bottom: 30 },
        xAxis: { type: 'time', ...axis },
        yAxis: { type: 'value', ...axis },
        series: [
          line(
            'Flow tuples',
            sum((t) => t.tuples),
            COLORS.accent,
            false,
          ),
          line(
            'Flows started',
            sum((t) => t.flowsStarted),
            COLORS.allow,
            false,
          ),
          line(
            'Denied',
            sum((t) => t.flowsDenied),
            COLORS.deny,
            false,
          ),
        ],
      },
    };
  },
  trafficByCountry: (p) => {
    registerWorld();
    const known = p.trafficByCountry.filter((c) => c.country !== '(unknown)');
    const unknown = p.trafficByCountry.find((c) => c.country === '(unknown)');
    const max = Math.max(1, ...known.map((c) => c.bytes));
    const top = known
      .slice(0, 5)
      .map((c) => `${countryName(c.country)} ${bytes(c.bytes)}`)
      .join(' · ');
    return {
      rows: known.length,
      note: `${top}${unknown ? ` · no country: ${bytes(unknown.bytes)} from ${num(unknown.remoteIps)} addresses` : ''}`,
      option: {
        ...base,
        tooltip: {
          ...base.tooltip,
          trigger: 'item',
          formatter: (x) => {
            const c = x.data;
            if (!c) return `${esc(countryName(x.name))}: no traffic`;
            return `<b>${esc(countryName(x.name))}</b> (${esc(x.name)})<br>${bytes(c.value)} · ${num(c.tuples)} flows · ${num(c.remoteIps)} remote IPs${c.flowsDenied ? `<br><span style="color:${COLORS.deny}">${num(c.flowsDenied)} denied</span>` : ''}`;
          },
        },
        visualMap: {
          type: 'continuous',
          min: 0,
          max,
          left: 10,
          bottom: 10,
          text: [bytes(max), '0 B'],
          textStyle: { color: COLORS.text },
          inRange: { color: ['#1f3650', '#2f6db5', '#5794f2', '#fade2a', '#ff9830'] },
          calculable: false,
        },
        series: [
          {
            type: 'map',
            map: 'world',
            roam: false,
            top: 10,
            bottom: 10,
            itemStyle: { areaColor: '#262a31', borderColor: '#3b3f46', borderWidth: 0.5 },
            emphasis: { label: { show: false }, itemStyle: { areaColor: '#8ab8ff' } },
            select: { disabled: true },
            data: known.map((c) => ({
              name: c.country,
              value: c.bytes,
              tuples: c.tuples,
              remoteIps: c.remoteIps,
              flowsDenied: c.flowsDenied,
            })),
          },
        ],
      },
    };
  },
  flowTypes: (p) => ({
    rows: p.flowTypes.length,
    option: {
      ...base,
      color: PALETTE,
      tooltip: {
        ...base.tooltip,
        trigger: 'item',
        formatter: (x) =>
          `<b>${esc(x.name)}</b><br>${num(x.value)} flows (${x.percent}%)<br>${bytes(x.data.bytes)} · ${num(x.data.remoteIps)} remote IPs`,
      },
      legend: {
        orient: 'vertical',
        left: '58%',
        top: 'middle',
        textStyle: { color: COLORS.text },
        formatter: (name) => {
          const total = p.flowTypes.reduce((a, f) => a + f.tuples, 0) || 1;
          const f = p.flowTypes.find((x) => x.flowType === name);
          return `${name}  ${((100 * (f?.tuples ?? 0)) / total).toFixed(1)} %  ${bytes(f?.bytes ?? 0)}`;
        },
      },
      series: [
        {
          type: 'pie',
          radius: ['45%', '78%'],
          center: ['28%', '50%'],
          label: { show: false },
          data: p.flowTypes.map((f) => ({
            name: f.flowType,
            value: f.tuples,
            bytes: f.bytes,
            remoteIps: f.remoteIps,
          })),
        },
      ],
    },
  }),
  deniedByCountry: (p) => {
    const rows = p.deniedByCountry.slice(0, 15).reverse();
    return {
      rows: p.deniedByCountry.length,
      option: hbar(
        rows.map((c) => (c.country === '(unknown)' ? 'unknown' : `${countryName(c.country)} (${c.country})`)),
        rows.map((c) => c.deniedFlows),
        COLORS.deny,
        num,
        rows.map((c) => `${num(c.sources)} sources`),
      ),
    };
  },
  serviceTags: (p) => {
    const rows = p.serviceTags.slice(0, 12).reverse();
    return {
      rows: p.serviceTags.length,
      option: hbar(
        rows.map((s) => s.serviceTag),
        rows.map((s) => s.bytes),
        COLORS.accent,
        bytes,
        rows.map(
          (s) => `${num(s.tuples)} flows · ${num(s.remoteIps)} remote IPs${s.region ? ` · ${s.region}` : ''}`,
        ),
      ),
    };
  },
};

function line(name, series, color, area = true) {
  return {
    name,
    type: 'line',
    showSymbol: false,
    smooth: false,
    color,
    areaStyle: area ? { opacity: 0.15 } : undefined,
    lineStyle: { width: 1.5 },
    data: series.buckets.map((b, i) => [b, series.values[i]]),
  };
}

function hbar(labels, values, color, fmt, extra) {
  return {
    ...base,
    tooltip: {
      ...base.tooltip,
      trigger: 'item',
      formatter: (x) => `<b>${esc(x.name)}</b><br>${fmt(x.value)}<br>${esc(extra[x.dataIndex] ?? '')}`,
    },
    grid: { left: 8, right: 60, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', ...axis, axisLabel: { color: COLORS.muted, formatter: fmt } },
    yAxis: { type: 'category', data: labels, ...axis, axisLabel: { color: COLORS.text } },
    series: [
      {
        type: 'bar',
        data: values,
        color,
        barMaxWidth: 18,
        label: { show: true, position: 'right', color: COLORS.text, formatter: (x) => fmt(x.value) },
      },
    ],
  };
}

// ------------------------------------------------------------------------------------------ page

const charts = new Map();
function chartOf(section) {
  let c = charts.get(section);
  if (!c) {
    c = echarts.init(section.querySelector('.chart'), null, { renderer: 'canvas' });
    charts.set(section, c);
  }
  return c;
}
window.addEventListener('resize', () => {
  for (const c of charts.values()) c.resize();
});

function renderTotals(t) {
  const stats = [
    [bytes(t.bytes), 'bytes'],
    [num(t.tuples), 'flow tuples'],
    [num(t.flowsStarted), 'flows started'],
    [num(t.flowsDenied), 'denied flows'],
    [num(t.localIps), 'local hosts'],
    [num(t.remoteIps), 'remote addresses'],
    [num(t.summaries), 'summaries'],
  ];
  document.getElementById('totals').innerHTML = stats
    .map(([v, label]) => `<div class="stat"><b>${v}</b><span>${label}</span></div>`)
    .join('');
}

/** Fills every panel; each section's data-rows says how many rows it shows (the browser test reads it). */
function render(panels, lag) {
  renderTotals(panels.totals);
  for (const section of document.querySelectorAll('section.panel')) {
    const key = section.dataset.panel;
    const note = section.querySelector('.note');
    if (section.dataset.kind === 'chart') {
      const { rows, option, note: text } = CHARTS[key](panels);
      section.dataset.rows = String(rows);
      const chart = chartOf(section);
      chart.setOption(option, true);
      note.textContent = rows === 0 ? 'no data in this range' : (text ?? '');
    } else {
      const rows = panels[key];
      section.dataset.rows = String(rows.length);
      section.querySelector('.body').innerHTML =
        rows.length === 0 ? '<div class="empty">no data in this range</div>' : TABLES[key](rows, lag);
      note.textContent = '';
    }
  }
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
}

function fillResources(resources) {
  const select = document.getElementById('resource');
  const current = select.value;
  const have = new Set([...select.options].map((o) => o.value));
  for (const r of resources)
    if (!have.has(r)) {
      const o = document.createElement('option');
      o.value = r;
      o.textContent = `${resourceName(r)} — ${r}`;
      select.append(o);
    }
  select.value = current;
}

function setStatus(text, live) {
  document.getElementById('status').className = live ? 'live' : '';
  document.getElementById('status-text').textContent = text;
}

const rangeSelect = document.getElementById('range');
const resourceSelect = document.getElementById('resource');

function startLive() {
  let pending = false;
  let again = false;
  const refresh = async () => {
    if (pending) {
      again = true;
      return;
    }
    pending = true;
    try {
      const q = new URLSearchParams({ range: rangeSelect.value, resource: resourceSelect.value });
      const res = await fetch(`api/panels?${q}`);
      const data = await res.json();
      fillResources(data.meta.resources);
      render(data.panels, data.lag);
      document.body.dataset.summaries = String(data.meta.size);
      setStatus(
        `live · ${num(data.meta.size)} summaries${data.meta.duplicates ? ` (${num(data.meta.duplicates)} duplicates dropped)` : ''} · ${data.meta.source} · updated ${new Date().toLocaleTimeString()}`,
        true,
      );
    } catch (error) {
      setStatus(`not connected (${error.message})`, false);
    } finally {
      pending = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  rangeSelect.onchange = refresh;
  resourceSelect.onchange = refresh;
  const events = new EventSource('events');
  events.addEventListener('rows', () => void refresh());
  events.onerror = () => setStatus('live feed lost; retrying…', false);
  void refresh();
}

function startReport() {
  const meta = JSON.parse(document.getElementById('flowlog-meta').textContent);
  // Every range and resource, computed when the report was made (computePanelSets).
  const { resources, sets } = JSON.parse(document.getElementById('flowlog-panels').textContent);
  fillResources(resources);
  const refresh = () => {
    render(sets[rangeSelect.value][resourceSelect.value], undefined);
    document.body.dataset.summaries = String(meta.summaries);
  };
  rangeSelect.onchange = refresh;
  resourceSelect.onchange = refresh;
  refresh();
  setStatus(
    `report · ${num(meta.summaries)} summaries${meta.duplicates ? ` (${num(meta.duplicates)} duplicates dropped)` : ''} · ${meta.source ?? ''} · made ${meta.generatedAt ?? ''}`,
    false,
  );
}

if (document.body.dataset.mode === 'report') startReport();
else startLive();
