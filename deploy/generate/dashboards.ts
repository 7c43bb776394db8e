/**
 * One list of panels rendered twice: a Grafana dashboard for the Azure Data Explorer data source plugin
 * and an ADX (real-time) dashboard. Every panel query calls a function of deploy/adx, so the dashboards
 * carry no column logic of their own; test/deploy/adx.test.ts analyzes every query.
 */
import { createHash } from 'node:crypto';
import { ADX } from './names';

/** How a dashboard spells the selected time range and a bucket size. */
export interface TimeVars {
  readonly from: string;
  readonly to: string;
  readonly step: string;
}

export type PanelKind = 'timeseries' | 'table' | 'pie' | 'bar' | 'map-country' | 'map-latlon';

export interface PanelSpec {
  /** Stable key: seeds the ADX ids, so re-generation keeps tile identities. */
  readonly key: string;
  readonly title: string;
  readonly description: string;
  readonly kind: PanelKind;
  readonly layout: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly unit?: 'bytes' | 'short';
  /** Bar charts: the category column. Maps: the label column. */
  readonly labelColumn?: string;
  /** Bar / pie / map: the value column. */
  readonly valueColumn?: string;
  readonly query: (t: TimeVars) => string;
}

export const PANELS: readonly PanelSpec[] = [
  {
    key: 'bytes-over-time',
    title: 'Bytes over time',
    description: 'Bytes in both directions per bucket, allowed vs denied.',
    kind: 'timeseries',
    unit: 'bytes',
    layout: { x: 0, y: 0, w: 12, h: 8 },
    query: (t) => `FlowTimeline(${t.from}, ${t.to}, ${t.step})\n| project windowStart, decision, bytes`,
  },
  {
    key: 'flows-over-time',
    title: 'Flows over time',
    description: 'Flows started (state B), denied flows and flow tuples per bucket.',
    kind: 'timeseries',
    unit: 'short',
    layout: { x: 12, y: 0, w: 12, h: 8 },
    query: (t) =>
      `FlowTimeline(${t.from}, ${t.to}, ${t.step})\n| project windowStart, decision, flowsStarted, flowsDenied, tuples`,
  },
  {
    key: 'traffic-by-country',
    title: 'Traffic by country',
    description: 'Traffic with public addresses by remote country (GeoIP).',
    kind: 'map-country',
    labelColumn: 'country',
    valueColumn: 'bytes',
    layout: { x: 0, y: 8, w: 12, h: 10 },
    query: (t) =>
      `TrafficByCountry(${t.from}, ${t.to})\n| where isnotnull(lat) and isnotnull(lon)\n| project country, lat, lon, bytes, tuples, flowsDenied, malicious, remoteIps`,
  },
  {
    key: 'remote-locations',
    title: 'Remote endpoints (lat/lon)',
    description: 'Traffic with public addresses by remote location, rounded to 0.1°.',
    kind: 'map-latlon',
    labelColumn: 'city',
    valueColumn: 'bytes',
    layout: { x: 12, y: 8, w: 12, h: 10 },
    query: (t) =>
      `TrafficByLocation(${t.from}, ${t.to}, 500)\n| project lat, lon, country, city, bytes, tuples, flowsDenied, malicious, remoteIps`,
  },
  {
    key: 'top-talkers',
    title: 'Top talkers',
    description: 'Local hosts by bytes.',
    kind: 'table',
    layout: { x: 0, y: 18, w: 12, h: 9 },
    query: (t) => `TopTalkers(${t.from}, ${t.to}, 20)`,
  },
  {
    key: 'top-conversations',
    title: 'Top conversations',
    description: 'Source/destination pairs by bytes.',
    kind: 'table',
    layout: { x: 12, y: 18, w: 12, h: 9 },
    query: (t) => `TopConversations(${t.from}, ${t.to}, 20)`,
  },
  {
    key: 'denied-by-source',
    title: 'Denied inbound by source',
    description: 'Sources of denied inbound flows.',
    kind: 'table',
    layout: { x: 0, y: 27, w: 10, h: 9 },
    query: (t) => `DeniedInboundBySource(${t.from}, ${t.to}, 20)`,
  },
  {
    key: 'denied-by-country',
    title: 'Denied inbound by country',
    description: 'Denied inbound flows by source country.',
    kind: 'bar',
    labelColumn: 'country',
    valueColumn: 'deniedFlows',
    layout: { x: 10, y: 27, w: 6, h: 9 },
    query: (t) => `DeniedInboundByCountry(${t.from}, ${t.to})\n| take 15\n| project country, deniedFlows`,
  },
  {
    key: 'denied-by-rule',
    title: 'Denied inbound by rule',
    description: 'Denied inbound flows by NSG / VNet and rule.',
    kind: 'table',
    layout: { x: 16, y: 27, w: 8, h: 9 },
    query: (t) =>
      `DeniedInboundByRule(${t.from}, ${t.to})\n| project resourceName, rule, deniedFlows, sources, targets, ports, lastSeen`,
  },
  {
    key: 'flow-types',
    title: 'Flow types',
    description: "Traffic Analytics' flow types by flow tuples.",
    kind: 'pie',
    labelColumn: 'flowType',
    valueColumn: 'tuples',
    layout: { x: 0, y: 36, w: 6, h: 8 },
    query: (t) => `FlowTypeBreakdown(${t.from}, ${t.to})\n| project flowType, tuples`,
  },
  {
    key: 'l7-protocols',
    title: 'Top L7 protocols',
    description: 'L7 protocols (from the destination port) by bytes.',
    kind: 'pie',
    labelColumn: 'l7Protocol',
    valueColumn: 'bytes',
    layout: { x: 6, y: 36, w: 6, h: 8 },
    query: (t) => `TopL7Protocols(${t.from}, ${t.to}, 10)\n| project l7Protocol, bytes`,
  },
  {
    key: 'top-ports',
    title: 'Top ports',
    description: 'Destination ports by flow tuples.',
    kind: 'table',
    layout: { x: 12, y: 36, w: 12, h: 8 },
    query: (t) => `TopPorts(${t.from}, ${t.to}, 20)`,
  },
  {
    key: 'port-scans',
    title: 'Port-scan suspects',
    description: 'Sources that reached 20 or more distinct destination ports.',
    kind: 'table',
    layout: { x: 0, y: 44, w: 12, h: 9 },
    query: (t) => `PortScanSuspects(${t.from}, ${t.to}, 20)`,
  },
  {
    key: 'new-external-ips',
    title: 'New external IPs (last 15 minutes)',
    description: 'Public addresses seen in the last 15 minutes and not in the 7 days before.',
    kind: 'table',
    layout: { x: 12, y: 44, w: 12, h: 9 },
    query: () => 'NewExternalIps(15m, 7d)',
  },
  {
    key: 'malicious-flows',
    title: 'Malicious flows',
    description: 'Flows with an address on the threat labels, allowed ones first.',
    kind: 'table',
    layout: { x: 0, y: 53, w: 12, h: 9 },
    query: (t) => `MaliciousFlows(${t.from}, ${t.to})`,
  },
  {
    key: 'internet-exposed',
    title: 'Ports receiving internet traffic',
    description: 'Local hosts and ports that accepted inbound flows from public addresses.',
    kind: 'table',
    layout: { x: 12, y: 53, w: 12, h: 9 },
    query: (t) => `InternetExposedPorts(${t.from}, ${t.to})`,
  },
  {
    key: 'resource-totals',
    title: 'NSG / VNet totals',
    description: 'Totals per NSG (NSG flow logs) or flow-log target (VNet flow logs).',
    kind: 'table',
    layout: { x: 0, y: 62, w: 12, h: 9 },
    query: (t) => `ResourceTotals(${t.from}, ${t.to})`,
  },
  {
    key: 'rule-hits',
    title: 'Rule hits',
    description: 'Hit counts per rule, direction and decision.',
    kind: 'table',
    layout: { x: 12, y: 62, w: 12, h: 9 },
    query: (t) => `RuleHits(${t.from}, ${t.to})`,
  },
  {
    key: 'unencrypted-flows',
    title: 'Unencrypted VNet flows',
    description:
      'VNet flow logs: flows not encrypted by virtual network encryption per resource and NIC, and the share of all its flows.',
    kind: 'table',
    layout: { x: 0, y: 71, w: 24, h: 8 },
    query: (t) => `UnencryptedFlows(${t.from}, ${t.to})`,
  },
  {
    key: 'blob-freshness',
    title: 'Per-blob freshness',
    description: 'Newest record per flow-log blob in the last 3 hours and its age (minutes).',
    kind: 'table',
    layout: { x: 0, y: 79, w: 24, h: 8 },
    query: () => 'BlobFreshness(3h)',
  },
];

// ---------------------------------------------------------------------------------------------- Grafana

export const GRAFANA_TIME: TimeVars = { from: '$__timeFrom', to: '$__timeTo', step: '$__timeInterval' };
export const GRAFANA_PLUGIN = 'grafana-azure-data-explorer-datasource';

/** A Grafana `${name}` reference (built so it is not mistaken for a JavaScript template placeholder). */
function gvar(name: string): string {
  return `$\{${name}}`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function grafanaPanel(p: PanelSpec, id: number): Json {
  const datasource = { type: GRAFANA_PLUGIN, uid: gvar('DS_ADX') };
  const base = {
    id,
    title: p.title,
    description: p.description,
    datasource,
    gridPos: { x: p.layout.x, y: p.layout.y, w: p.layout.w, h: p.layout.h },
    targets: [
      {
        refId: 'A',
        datasource,
        database: gvar('database'),
        queryType: 'KQL',
        rawMode: true,
        querySource: 'raw',
        resultFormat: p.kind === 'timeseries' ? 'time_series' : 'table',
        query: p.query(GRAFANA_TIME),
      },
    ],
  };
  const unit = p.unit ?? (p.valueColumn === 'bytes' ? 'bytes' : 'short');
  switch (p.kind) {
    case 'timeseries':
      return {
        ...base,
        type: 'timeseries',
        fieldConfig: { defaults: { unit, custom: { drawStyle: 'line', fillOpacity: 10 } }, overrides: [] },
        options: {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'table':
      return {
        ...base,
        type: 'table',
        fieldConfig: { defaults: {}, overrides: [] },
        options: {
          showHeader: true,
          cellHeight: 'sm',
          footer: { show: false, reducer: ['sum'], fields: '' },
        },
      };
    case 'pie':
      return {
        ...base,
        type: 'piechart',
        fieldConfig: { defaults: { unit }, overrides: [] },
        options: {
          pieType: 'donut',
          reduceOptions: { values: true, calcs: ['lastNotNull'], fields: `/^${p.valueColumn ?? ''}$/` },
          legend: {
            displayMode: 'table',
            placement: 'right',
            showLegend: true,
            values: ['value', 'percent'],
          },
          tooltip: { mode: 'single', sort: 'none' },
        },
      };
    case 'bar':
      return {
        ...base,
        type: 'barchart',
        fieldConfig: { defaults: { unit }, overrides: [] },
        options: {
          xField: p.labelColumn ?? null,
          orientation: 'horizontal',
          showValue: 'auto',
          legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
          tooltip: { mode: 'single', sort: 'none' },
        },
      };
    case 'map-country':
    case 'map-latlon':
      return {
        ...base,
        type: 'geomap',
        fieldConfig: { defaults: { unit, color: { mode: 'continuous-BlYlRd' } }, overrides: [] },
        options: {
          view: { id: 'zero', lat: 20, lon: 0, zoom: 1 },
          controls: { showZoom: true, mouseWheelZoom: true, showAttribution: true },
          basemap: { type: 'default', config: {} },
          layers: [
            {
              type: 'markers',
              name: p.title,
              config: {
                showLegend: true,
                shape: 'circle',
                fillOpacity: 0.5,
                size: { field: p.valueColumn ?? 'bytes', fixed: 5, min: 3, max: 30 },
                color: { field: p.valueColumn ?? 'bytes', fixed: 'dark-green' },
              },
              location:
                p.kind === 'map-country'
                  ? {
                      mode: 'lookup',
                      lookup: p.labelColumn ?? 'country',
                      gazetteer: 'public/gazetteer/countries.json',
                    }
                  : { mode: 'coords', latitude: 'lat', longitude: 'lon' },
              tooltip: true,
            },
          ],
          tooltip: { mode: 'details' },
        },
      };
  }
}

export function grafanaDashboard(): Json {
  return {
    __inputs: [
      {
        name: 'DS_ADX',
        label: 'Azure Data Explorer',
        description: 'The Azure Data Explorer data source that reaches the flowlog database.',
        type: 'datasource',
        pluginId: GRAFANA_PLUGIN,
        pluginName: 'Azure Data Explorer Datasource',
      },
      {
        name: 'VAR_DATABASE',
        label: 'ADX database',
        description: 'Database that holds the flowlog tables (FlowSummaries, FlowGroups) and functions.',
        type: 'constant',
        value: ADX.database,
      },
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: GRAFANA_PLUGIN, name: 'Azure Data Explorer Datasource', version: '4.0.0' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      { type: 'panel', id: 'table', name: 'Table', version: '' },
      { type: 'panel', id: 'piechart', name: 'Pie chart', version: '' },
      { type: 'panel', id: 'barchart', name: 'Bar chart', version: '' },
      { type: 'panel', id: 'geomap', name: 'Geomap', version: '' },
    ],
    uid: 'flowlog-network-flows',
    title: 'flowlog: network flows',
    description:
      'NSG / VNet flow-log summaries from flowlog in Azure Data Explorer. Generated by scripts/generate-deploy.ts.',
    tags: ['flowlog', 'azure', 'network'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    templating: {
      list: [
        {
          name: 'database',
          label: 'Database',
          type: 'constant',
          hide: 2,
          query: gvar('VAR_DATABASE'),
          current: { text: gvar('VAR_DATABASE'), value: gvar('VAR_DATABASE'), selected: false },
          options: [{ text: gvar('VAR_DATABASE'), value: gvar('VAR_DATABASE'), selected: false }],
        },
      ],
    },
    annotations: { list: [] },
    links: [],
    panels: PANELS.map((p, i) => grafanaPanel(p, i + 1)),
  };
}

// ---------------------------------------------------------------------------------------------- ADX

export const ADX_TIME: TimeVars = {
  from: '_startTime',
  to: '_endTime',
  step: '(_endTime - _startTime) / 120',
};
export const ADX_CLUSTER_PLACEHOLDER = 'https://YOUR-CLUSTER.YOUR-REGION.kusto.windows.net';
export const ADX_DASHBOARD_SCHEMA = '52';

/** A deterministic RFC 4122 UUID (version 5 layout) from a label, so tile identities survive regeneration. */
export function stableUuid(label: string): string {
  const h = createHash('sha1').update(`flowlog-dashboard:${label}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function adxVisual(p: PanelSpec): { visualType: string; visualOptions: { [key: string]: Json } } {
  switch (p.kind) {
    case 'timeseries':
      return { visualType: 'timechart', visualOptions: { hideLegend: false } };
    case 'table':
      return { visualType: 'table', visualOptions: {} };
    case 'pie':
      return { visualType: 'pie', visualOptions: { hideLegend: false } };
    case 'bar':
      return { visualType: 'bar', visualOptions: { hideLegend: true } };
    case 'map-country':
    case 'map-latlon':
      return {
        visualType: 'map',
        visualOptions: {
          map__type: 'bubble',
          map__geoType: 'numeric',
          map__latitudeColumn: 'lat',
          map__longitudeColumn: 'lon',
          map__labelColumn: p.labelColumn ?? null,
          map__sizeColumn: p.valueColumn ?? null,
          map__sizeDisabled: false,
          map__geoPointColumn: null,
        },
      };
  }
}

export function adxDashboard(): Json {
  const dataSourceId = stableUuid('datasource');
  const pageId = stableUuid('page:flows');
  const queries: Json[] = [];
  const tiles: Json[] = [];
  for (const p of PANELS) {
    const text = p.query(ADX_TIME);
    const queryId = stableUuid(`query:${p.key}`);
    queries.push({
      id: queryId,
      dataSource: { kind: 'inline', dataSourceId },
      text,
      usedVariables: ['_startTime', '_endTime'].filter((v) => text.includes(v)),
    });
    tiles.push({
      id: stableUuid(`tile:${p.key}`),
      title: p.title,
      description: p.description,
      pageId,
      layout: { x: p.layout.x, y: p.layout.y, width: p.layout.w, height: p.layout.h },
      queryRef: { kind: 'query', queryId },
      ...adxVisual(p),
    });
  }
  return {
    $schema: `https://dataexplorer.azure.com/static/d/schema/${ADX_DASHBOARD_SCHEMA}/dashboard.json`,
    schema_version: ADX_DASHBOARD_SCHEMA,
    id: stableUuid('dashboard'),
    title: 'flowlog: network flows',
    autoRefresh: { enabled: true, defaultInterval: '1m', minInterval: '30s' },
    dataSources: [
      {
        id: dataSourceId,
        name: 'flowlog',
        kind: 'manual-kusto',
        scopeId: 'kusto',
        clusterUri: ADX_CLUSTER_PLACEHOLDER,
        database: ADX.database,
      },
    ],
    pages: [{ id: pageId, name: 'Flows' }],
    parameters: [
      {
        kind: 'duration',
        id: stableUuid('parameter:time'),
        displayName: 'Time range',
        description: '',
        beginVariableName: '_startTime',
        endVariableName: '_endTime',
        defaultValue: { kind: 'dynamic', count: 6, unit: 'hours' },
        showOnPages: { kind: 'all' },
      },
    ],
    baseQueries: [],
    queries,
    tiles,
  };
}
