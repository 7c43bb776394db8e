/**
 * Every deploy/adx command and every dashboard query, checked offline with the Kusto.Language analyzer
 * against the database the scripts themselves declare: zero error diagnostics, no unknown command names,
 * the tables and ingestion mappings match the contract (rows: ROW_FIELDS, flow groups: GROUP_FIELDS), the
 * group fields reach every query through a left outer lookup on `group`, and a deliberately broken query
 * or command is caught by the same checks.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { adxRouting } from '../../common/names';
import { ADX_DASHBOARD, ADX_DIR, GRAFANA_DASHBOARD } from '../../deploy/generate';
import { ALL_FUNCTIONS } from '../../deploy/generate/functions';
import { splitScript } from '../../deploy/generate/kql';
import { ADX, flowColumns, GROUP_ONLY, joinedGroupColumns } from '../../deploy/generate/names';
import { type FieldSpec, GROUP_FIELDS, KUSTO_TYPE, ROW_FIELDS } from '../../domain/summary/schema';
import { type Analysis, analyze, resultColumns, ScriptSchema } from './kusto';

const root = join(__dirname, '..', '..');

interface Command {
  readonly file: string;
  readonly index: number;
  readonly text: string;
}

/** The committed scripts, in file-name order, split the way they are executed. */
function scriptCommands(): Command[] {
  const dir = join(root, ADX_DIR);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.kql'))
    .sort()
    .flatMap((file) =>
      splitScript(readFileSync(join(dir, file), 'utf8')).map((text, index) => ({ file, index, text })),
    );
}

/** The `.create-merge table` command of `table`, and its `name:type` columns in order. */
function tableColumns(commands: readonly Command[], table: string): string[] {
  const create = commands.find((c) => new RegExp(`^\\.create-merge table ${table} \\(`, 'm').test(c.text));
  assert.ok(create, `no .create-merge table ${table}`);
  return [...create.text.matchAll(/^\s+([A-Za-z_]\w*): (\w+),?$/gm)].map((m) => `${m[1]}:${m[2]}`);
}

/** The JSON ingestion mapping command of `table`: its name and entries. */
function mappingOf(
  commands: readonly Command[],
  table: string,
): { name: string; entries: { column: string; Properties: { Path: string } }[] } {
  const mapping = commands.find((c) =>
    new RegExp(`^\\.create-or-alter table ${table} ingestion json mapping "`, 'm').test(c.text),
  );
  assert.ok(mapping, `no ingestion json mapping on ${table}`);
  const name = /ingestion json mapping "([^"]+)"$/m.exec(mapping.text)?.[1];
  const json = /```\n([\s\S]*?)\n```/.exec(mapping.text);
  assert.ok(name && json, 'the mapping JSON is a ``` literal after the mapping name');
  return { name, entries: JSON.parse(json[1]!) as { column: string; Properties: { Path: string } }[] };
}

/** Days of a KQL timespan literal such as `14d` or `365d`. */
function days(timespan: string): number {
  const m = /^(\d+)d$/.exec(timespan);
  assert.ok(m, `a whole number of days: ${timespan}`);
  return Number(m[1]);
}

/** The retention (softdelete) an `.alter-merge ... policy retention` command gives `object`. */
function retentionOf(
  commands: readonly Command[],
  kind: 'table' | 'materialized-view',
  object: string,
): number {
  const c = commands.find((x) =>
    new RegExp(`^\\.alter-merge ${kind} ${object} policy retention softdelete = `, 'm').test(x.text),
  );
  assert.ok(c, `no retention policy on ${kind} ${object}`);
  return days(/softdelete = (\w+)/.exec(c.text)![1]!);
}

const columnsOf = (fields: readonly FieldSpec[]) => fields.map((f) => `${f.name}:${KUSTO_TYPE[f.kind]}`);
const word = (name: string) => new RegExp(`\\b${name}\\b`);
const LEFT_OUTER_GROUPS = new RegExp(
  `\\| lookup kind=leftouter (?:\\(${ADX.groupsDedupView} \\| project group, [\\w, ]+\\)|groups) on group\\b`,
);

function failures(a: Analysis): string[] {
  const out = a.errors.map((e) => `${e.message} at ${e.at}`);
  if (a.unknownCommands > 0) out.push(`${a.unknownCommands} unknown command name(s)`);
  return out;
}

// ------------------------------------------------------------------ dashboard JSON, typed as far as read

interface GrafanaTarget {
  readonly refId: string;
  readonly query: string;
  readonly queryType: string;
  readonly resultFormat: string;
  readonly database: string;
  readonly datasource: { readonly type: string; readonly uid: string };
}
interface GrafanaPanel {
  readonly id: number;
  readonly title: string;
  readonly type: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets: readonly GrafanaTarget[];
}
interface GrafanaDashboard {
  readonly panels: readonly GrafanaPanel[];
  readonly __inputs: readonly { readonly name: string; readonly pluginId?: string }[];
}
interface AdxQuery {
  readonly id: string;
  readonly text: string;
  readonly usedVariables: readonly string[];
  readonly dataSource: { readonly kind: string; readonly dataSourceId: string };
}
interface AdxTile {
  readonly id: string;
  readonly title: string;
  readonly visualType: string;
  readonly pageId: string;
  readonly layout: {
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
  };
  readonly queryRef: { readonly kind: string; readonly queryId: string };
  readonly visualOptions: Record<string, unknown>;
}
interface AdxDashboard {
  readonly schema_version: string;
  readonly tiles: readonly AdxTile[];
  readonly queries: readonly AdxQuery[];
  readonly dataSources: readonly { readonly id: string; readonly database: string }[];
  readonly pages: readonly { readonly id: string }[];
  readonly parameters: readonly {
    readonly id: string;
    readonly beginVariableName?: string;
    readonly endVariableName?: string;
  }[];
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as T;
}

const FROM = 'datetime(2024-05-01T00:00:00Z)';
const TO = 'datetime(2024-05-01T06:00:00Z)';

/** Expands the Grafana ADX plugin's macros the way the plugin documents them. */
function expandGrafanaMacros(query: string): string {
  const expanded = query
    .replace(/\$__timeFilter\(\s*([A-Za-z_]\w*)?\s*\)/g, (_m, col: string | undefined) => {
      const c = col ?? 'TimeGenerated';
      return `${c} >= ${FROM} and ${c} <= ${TO}`;
    })
    .replace(/\$__timeFrom\b/g, FROM)
    .replace(/\$__timeTo\b/g, TO)
    .replace(/\$__timeInterval\b/g, '60000ms');
  const left = /\$\{?\w+/.exec(expanded);
  if (left !== null) throw new Error(`unexpanded Grafana variable ${left[0]} in: ${query}`);
  return expanded;
}

/** Declares the ADX dashboard's time-range parameters as the dashboard does. */
function withAdxParameters(text: string): string {
  return `let _startTime = ${FROM};\nlet _endTime = ${TO};\n${text}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deploy/adx and the dashboards, analyzed offline', () => {
  const commands = scriptCommands();
  let schema: ScriptSchema;

  before(() => {
    schema = ScriptSchema.of(
      ADX.database,
      commands.map((c) => c.text),
    );
  });

  it('every script command analyzes with zero errors and a known command name', () => {
    const bad: string[] = [];
    for (const c of commands) {
      const a = analyze(c.text, schema.globals);
      if (a.kind !== 'Command') bad.push(`${c.file}#${c.index}: parsed as ${a.kind}, not a command`);
      for (const f of failures(a)) bad.push(`${c.file}#${c.index}: ${f}`);
    }
    assert.deepEqual(bad, []);
    assert.ok(
      commands.length >= 25,
      `expected every function and policy as its own command, got ${commands.length}`,
    );
  });

  it('declares both tables, the dedup views, the hourly rollup and every function', () => {
    assert.deepEqual(schema.declared, [
      { kind: 'table', name: ADX.table },
      { kind: 'table', name: ADX.groupsTable },
      { kind: 'materialized-view', name: ADX.dedupView },
      { kind: 'materialized-view', name: ADX.groupsDedupView },
      { kind: 'materialized-view', name: ADX.hourlyView },
      ...ALL_FUNCTIONS.map((f) => ({ kind: 'function', name: f.name })),
    ]);
  });

  it('creates the rows table with the row fields and the groups table with the group fields, in order', () => {
    assert.deepEqual(tableColumns(commands, ADX.table), columnsOf(ROW_FIELDS));
    assert.deepEqual(tableColumns(commands, ADX.groupsTable), columnsOf(GROUP_FIELDS));
    assert.ok(GROUP_ONLY.size >= 8, 'the v3 group fields');
    const rowColumns = tableColumns(commands, ADX.table).map((c) => c.split(':')[0]!);
    assert.deepEqual(
      rowColumns.filter((c) => GROUP_ONLY.has(c)),
      [],
      'the rows table has no column of the group line',
    );
    assert.ok(rowColumns.includes('group') && rowColumns.includes('id'));
    // Every column of both tables has a docstring.
    for (const [table, fields] of [
      [ADX.table, ROW_FIELDS],
      [ADX.groupsTable, GROUP_FIELDS],
    ] as const) {
      const docs = commands.find((c) => c.text.startsWith(`.alter-merge table ${table} column-docstrings (`));
      assert.ok(docs, `column docstrings of ${table}`);
      assert.deepEqual(
        [...docs.text.matchAll(/^\s+([A-Za-z_]\w*): "/gm)].map((m) => m[1]),
        fields.map((f) => f.name),
      );
    }
  });

  it('maps every field of each table from its own JSON path, and nothing else', () => {
    for (const [table, mappingName, fields] of [
      [ADX.table, ADX.mapping, ROW_FIELDS],
      [ADX.groupsTable, ADX.groupsMapping, GROUP_FIELDS],
    ] as const) {
      const { name, entries } = mappingOf(commands, table);
      assert.equal(name, mappingName);
      const names = new Set<string>(fields.map((f) => f.name));
      for (const e of entries) {
        assert.ok(names.has(e.column), `${table} mapping column ${e.column} is not one of its fields`);
        const path = /^\$\.([A-Za-z_]\w*)$/.exec(e.Properties.Path);
        assert.ok(path, `path ${e.Properties.Path} is not a plain $.field path`);
        assert.equal(path[1], e.column, 'each column reads the field of the same name');
      }
      assert.deepEqual(
        entries.map((e) => e.column),
        fields.map((f) => f.name),
      );
    }
  });

  it('the event routing names are those the emitter puts on its events (common/names.ts adxRouting)', () => {
    assert.deepEqual(
      {
        rows: { table: ADX.table, mapping: ADX.mapping },
        groups: { table: ADX.groupsTable, mapping: ADX.groupsMapping },
      },
      adxRouting,
    );
  });

  it("gives the groups table the rows table's policies, and a retention no shorter", () => {
    for (const table of [ADX.table, ADX.groupsTable]) {
      assert.ok(
        commands.some((c) => c.text.endsWith(`.alter table ${table} policy streamingingestion enable`)),
        `${table} has streaming ingestion`,
      );
      assert.ok(
        commands.some((c) => c.text.startsWith(`.alter table ${table} policy ingestionbatching`)),
        `${table} has the batching fallback`,
      );
    }
    assert.ok(retentionOf(commands, 'table', ADX.groupsTable) >= retentionOf(commands, 'table', ADX.table));
  });

  it('dedups the groups on group (take_any), kept at least as long as the rows that name them', () => {
    const view = commands.find((c) =>
      c.text.includes(` ${ADX.groupsDedupView} on table ${ADX.groupsTable}\n`),
    );
    assert.ok(view, `${ADX.groupsDedupView} is a materialized view on ${ADX.groupsTable}`);
    assert.match(
      view.text,
      new RegExp(`\\{\\n\\s+${ADX.groupsTable}\\n\\s+\\| summarize take_any\\(\\*\\) by group\\n\\}$`),
    );
    assert.match(view.text, /lookback = \d+d/);
    const groupsDays = retentionOf(commands, 'materialized-view', ADX.groupsDedupView);
    assert.ok(
      groupsDays >= retentionOf(commands, 'materialized-view', ADX.hourlyView),
      'as the hourly rollup',
    );
    assert.ok(groupsDays >= retentionOf(commands, 'materialized-view', ADX.dedupView), 'as the minute rows');
    assert.ok(
      days(ADX.groupsDedupLookback) >= days(ADX.dedupLookback),
      'a group sent again is absorbed at least as long as a row sent again',
    );
    assert.deepEqual(
      resultColumns(ADX.groupsDedupView, schema.globals),
      GROUP_FIELDS.map((f) => `${f.name}: ${KUSTO_TYPE[f.kind]}`),
    );
  });

  it('the hourly rollup groups by the flow group, not by the fields of the group line', () => {
    const rollup = commands.find((c) =>
      c.text.includes(` ${ADX.hourlyView} on materialized-view ${ADX.dedupView}`),
    );
    assert.ok(rollup);
    const by = /\n\s+by\n([\s\S]*?)\n\}/.exec(rollup.text);
    assert.ok(by, 'the rollup has a by-clause');
    const keys = by[1]!.split(/,\n/).map((k) => k.trim().replace(/\s*=.*$/, ''));
    assert.deepEqual(keys, [
      'group',
      'windowStart',
      'direction',
      'decision',
      'protocol',
      'srcIp',
      'dstIp',
      'dstPort',
    ]);
    assert.match(by[1]!, /windowStart = bin\(windowStart, 1h\)/);
    const columns = resultColumns(ADX.hourlyView, schema.globals).map((c) => c.split(':')[0]!);
    assert.deepEqual(
      columns.filter((c) => GROUP_ONLY.has(c)),
      [],
    );
    assert.ok(columns.includes('group'));
  });

  it("Flows() joins each row's group back with a left outer lookup on group, minute and hourly alike", () => {
    const flows = ALL_FUNCTIONS.find((f) => f.name === 'Flows');
    assert.ok(flows);
    const groups = new RegExp(
      `let groups = ${ADX.groupsDedupView}\\n\\s+\\| project group, ${joinedGroupColumns().join(', ')};`,
    );
    assert.match(flows.body, groups);
    for (const view of [ADX.dedupView, ADX.hourlyView]) {
      const part = new RegExp(`= ${view}\\n((?:\\s+\\|[^|;]+)+);`).exec(flows.body);
      assert.ok(part, `Flows() reads ${view}`);
      assert.match(
        part[1]!,
        /\| lookup kind=leftouter groups on group\n/,
        `${view} rows keep their place without a group`,
      );
      assert.ok(
        part[1]!.indexOf('| project group,') < part[1]!.indexOf('| lookup'),
        "only the rows' own columns go into the lookup (a pre-v3 table may have columns named like group fields)",
      );
    }
    assert.deepEqual(joinedGroupColumns(), ['logType', 'resourceId', 'aclId', 'macAddress', 'rule']);
    // Same columns as before contract v3: the group fields first, then the rows', then the extends.
    const columns = resultColumns('Flows(datetime(2025-03-01), datetime(2025-03-02))', schema.globals);
    assert.deepEqual(
      columns.slice(0, flowColumns().length).map((c) => c.split(':')[0]),
      flowColumns(),
    );
    assert.deepEqual(columns.slice(0, 5), [
      'logType: string',
      'resourceId: string',
      'aclId: string',
      'macAddress: string',
      'rule: string',
    ]);
  });

  it('functions that read the rows directly join the groups for any field of the group line', () => {
    const direct = ALL_FUNCTIONS.filter((f) => f.name !== 'Flows' && f.body.includes(ADX.dedupView));
    assert.deepEqual(direct.map((f) => f.name).sort(), ['BlobFreshness', 'NicHourCompleteness']);
    for (const fn of direct) {
      const used = [...GROUP_ONLY].filter((g) => word(g).test(fn.body));
      assert.ok(used.length > 0, `${fn.name} uses fields of the group line`);
      const lookup = LEFT_OUTER_GROUPS.exec(fn.body);
      assert.ok(lookup, `${fn.name} joins ${ADX.groupsDedupView} with kind=leftouter on group`);
      for (const g of used) assert.match(lookup[0], word(g), `${fn.name} takes ${g} from the groups`);
    }
    const T = 'datetime(2025-03-01T00:00:00Z), datetime(2025-03-01T06:00:00Z)';
    assert.deepEqual(resultColumns('BlobFreshness(3h)', schema.globals), [
      'blob: string',
      'newestRecord: datetime',
      'newestWindow: datetime',
      'records: long',
      'summaries: long',
      'logType: string',
      'resourceId: string',
      'macAddress: string',
      'ageMinutes: real',
    ]);
    assert.deepEqual(resultColumns(`NicHourCompleteness(${T})`, schema.globals), [
      'hour: datetime',
      'macAddress: string',
      'resourceId: string',
      'logType: string',
      'minutes: long',
      'records: long',
      'newestRecord: datetime',
      'lastArrival: datetime',
      'blobs: dynamic',
      'state: string',
      'newestRecordBeforeEndMinutes: real',
    ]);
  });

  it('the dedup view groups by id with take_any and a lookback; every function reads it', () => {
    const dedup = commands.find(
      (c) => c.text.includes(`materialized-view`) && c.text.includes(` ${ADX.dedupView} on table `),
    );
    assert.ok(dedup);
    assert.match(dedup.text, /lookback = \d+[dh]/);
    assert.match(dedup.text, /\| summarize take_any\(\*\) by id\b/);
    const rollup = commands.find((c) =>
      c.text.includes(` ${ADX.hourlyView} on materialized-view ${ADX.dedupView}`),
    );
    assert.ok(rollup, 'the hourly rollup is built on the dedup view');
    for (const fn of ALL_FUNCTIONS) {
      const reads = fn.name === 'Flows' ? [ADX.dedupView] : ['Flows(', ADX.dedupView];
      assert.ok(
        reads.some((r) => fn.body.includes(r)),
        `${fn.name} reads neither Flows() nor ${ADX.dedupView}`,
      );
      assert.ok(!new RegExp(`\\b${ADX.table}\\b`).test(fn.body), `${fn.name} reads the raw table`);
    }
  });

  it('every Grafana panel query analyzes after macro expansion', () => {
    const dash = readJson<GrafanaDashboard>(GRAFANA_DASHBOARD);
    const bad: string[] = [];
    let n = 0;
    for (const p of dash.panels) {
      for (const t of p.targets) {
        n++;
        assert.equal(t.datasource.type, 'grafana-azure-data-explorer-datasource');
        assert.equal(t.queryType, 'KQL');
        const a = analyze(expandGrafanaMacros(t.query), schema.globals);
        if (a.kind !== 'Query') bad.push(`${p.title}: parsed as ${a.kind}`);
        for (const f of failures(a)) bad.push(`${p.title}: ${f}`);
        if (p.type === 'timeseries') assert.equal(t.resultFormat, 'time_series', p.title);
      }
    }
    assert.deepEqual(bad, []);
    assert.ok(n >= 12);
  });

  it('every ADX dashboard query analyzes with the time-range parameters declared', () => {
    const dash = readJson<AdxDashboard>(ADX_DASHBOARD);
    const bad: string[] = [];
    for (const q of dash.queries) {
      const a = analyze(withAdxParameters(q.text), schema.globals);
      for (const f of failures(a)) bad.push(`${q.id}: ${f}`);
      const used = ['_startTime', '_endTime'].filter((v) => q.text.includes(v));
      assert.deepEqual([...q.usedVariables].sort(), used.sort(), `usedVariables of ${q.text}`);
    }
    assert.deepEqual(bad, []);
  });

  it('the two dashboards show the same panels', () => {
    const grafana = readJson<GrafanaDashboard>(GRAFANA_DASHBOARD);
    const adx = readJson<AdxDashboard>(ADX_DASHBOARD);
    assert.deepEqual(
      grafana.panels.map((p) => p.title),
      adx.tiles.map((t) => t.title),
    );
    const required = [
      /bytes over time/i,
      /flows over time/i,
      /country/i,
      /lat\/lon/i,
      /top talkers/i,
      /denied/i,
      /flow types/i,
      /top ports/i,
      /freshness/i,
    ];
    for (const r of required)
      assert.ok(
        grafana.panels.some((p) => r.test(p.title)),
        `no panel matches ${r}`,
      );
    assert.equal(grafana.panels.filter((p) => p.type === 'geomap').length, 2);
    assert.equal(adx.tiles.filter((t) => t.visualType === 'map').length, 2);
    for (let i = 0; i < grafana.panels.length; i++) {
      const g = grafana.panels[i]!;
      const t = adx.tiles[i]!;
      assert.deepEqual(
        [g.gridPos.x, g.gridPos.y, g.gridPos.w, g.gridPos.h],
        [t.layout.x, t.layout.y, t.layout.width, t.layout.height],
      );
    }
  });

  it('the ADX dashboard is wired consistently (UUIDs, one tile per query, 24-column grid)', () => {
    const dash = readJson<AdxDashboard>(ADX_DASHBOARD);
    const ids = [
      ...dash.tiles.map((t) => t.id),
      ...dash.queries.map((q) => q.id),
      ...dash.pages.map((p) => p.id),
      ...dash.dataSources.map((d) => d.id),
      ...dash.parameters.map((p) => p.id),
    ];
    for (const id of ids) assert.match(id, UUID);
    assert.equal(new Set(ids).size, ids.length, 'ids are unique');
    const queryIds = dash.tiles.map((t) => t.queryRef.queryId);
    assert.deepEqual(
      [...queryIds].sort(),
      dash.queries.map((q) => q.id).sort(),
      'every query is used by exactly one tile',
    );
    const pageIds = new Set(dash.pages.map((p) => p.id));
    const sourceIds = new Set(dash.dataSources.map((d) => d.id));
    for (const t of dash.tiles) {
      assert.ok(pageIds.has(t.pageId));
      assert.ok(t.layout.x >= 0 && t.layout.x + t.layout.width <= 24, `${t.title} fits the 24-column grid`);
    }
    for (const q of dash.queries) assert.ok(sourceIds.has(q.dataSource.dataSourceId));
    assert.deepEqual(
      dash.parameters.map((p) => [p.beginVariableName, p.endVariableName]),
      [['_startTime', '_endTime']],
    );
  });

  describe('a deliberately broken input fails the same checks', () => {
    it('an unknown column in a dashboard query', () => {
      const a = analyze(
        expandGrafanaMacros('TopTalkers($__timeFrom, $__timeTo, 10) | project localIp, bytesSnet'),
        schema.globals,
      );
      assert.equal(a.errors.length, 1);
      assert.match(a.errors[0]!.message, /bytesSnet/);
    });

    it('a call with missing arguments', () => {
      const a = analyze(withAdxParameters('FlowTimeline(_startTime)'), schema.globals);
      assert.ok(a.errors.length > 0);
    });

    it('a function body that reads a column the schema does not have', () => {
      const fn = commands.find((c) => c.text.includes('TopTalkers('));
      assert.ok(fn);
      const broken = fn.text.replace('by localIp', 'by localAddress');
      assert.notEqual(broken, fn.text);
      assert.ok(failures(analyze(broken, schema.globals)).some((f) => f.includes('localAddress')));
    });

    it('a materialized view over a misspelled source column', () => {
      const dedup = commands.find((c) => c.text.includes(` ${ADX.dedupView} on table `));
      assert.ok(dedup);
      const broken = dedup.text.replace('take_any(*) by id,', 'take_any(*) by ids,');
      assert.ok(failures(analyze(broken, schema.globals)).length > 0);
    });

    it('a Flows() that drops the rows without a group line (inner lookup)', () => {
      const fn = commands.find((c) => /^Flows\(/m.test(c.text));
      assert.ok(fn);
      const broken = fn.text.replaceAll('lookup kind=leftouter groups', 'lookup kind=inner groups');
      assert.notEqual(broken, fn.text);
      assert.ok(!/\| lookup kind=leftouter groups on group\n/.test(broken), 'the structural check fails');
      assert.deepEqual(failures(analyze(broken, schema.globals)), [], 'the analyzer alone would not see it');
    });

    it('an hourly rollup grouped by a field of the group line', () => {
      const rollup = commands.find((c) => c.text.includes(` ${ADX.hourlyView} on materialized-view `));
      assert.ok(rollup);
      const broken = rollup.text.replace(/\n(\s+)group,\n/, '\n$1logType,\n');
      assert.notEqual(broken, rollup.text);
      assert.ok(failures(analyze(broken, schema.globals)).some((f) => f.includes('logType')));
    });

    it('a per-blob function that reads the group fields from the rows', () => {
      const fn = commands.find((c) => /^BlobFreshness\(/m.test(c.text));
      assert.ok(fn);
      const broken = fn.text
        .replace(/\n\s+\| lookup kind=leftouter \([^)]*\) on group/, '')
        .replace('by group', 'by blob');
      assert.notEqual(broken, fn.text);
      assert.ok(
        failures(analyze(broken, schema.globals)).some((f) => f.includes('logType') || f.includes('blob')),
      );
    });

    it('a misspelled command name', () => {
      const policy = commands.find((c) => c.text.includes('policy streamingingestion'));
      assert.ok(policy);
      const broken = policy.text.replace('.alter table', '.altr table');
      const a = analyze(broken, schema.globals);
      assert.ok(a.unknownCommands > 0 || a.errors.length > 0, 'the misspelling is reported');
      assert.ok(failures(a).length > 0);
    });

    it('a Grafana variable the test cannot expand', () => {
      assert.throws(() => expandGrafanaMacros('TopTalkers($__timeFrom, $__timeTo, $limit)'), /\$limit/);
    });
  });
});
