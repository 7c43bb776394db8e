/**
 * The committed deploy/adx scripts, dashboards and docs/summary-schema.md are exactly what the generator
 * makes from the summary schema: editing the schema without regenerating fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { adxRouting } from '../../common/names';
import { ADX_DIR, generateDeployFiles, SCHEMA_DOC } from '../../deploy/generate';
import {
  type FieldSpec,
  GROUP_FIELDS,
  KUSTO_TYPE,
  ROW_FIELDS,
  SUMMARY_FIELDS,
} from '../../domain/summary/schema';

const root = join(__dirname, '..', '..');
const HINT = 'run `npx tsx scripts/generate-deploy.ts` and commit the result';

describe('generated deployment files', () => {
  const files = generateDeployFiles();

  it('match the committed files byte for byte', () => {
    const drift = files
      .filter((f) => {
        const full = join(root, f.path);
        return !existsSync(full) || readFileSync(full, 'utf8') !== f.content;
      })
      .map((f) => f.path);
    assert.deepEqual(drift, [], `out of date (${HINT})`);
  });

  it('leave no stale script in deploy/adx', () => {
    const generated = new Set(files.map((f) => f.path));
    const onDisk = readdirSync(join(root, ADX_DIR))
      .filter((n) => n.endsWith('.kql'))
      .map((n) => `${ADX_DIR}/${n}`);
    assert.deepEqual(
      onDisk.filter((p) => !generated.has(p)),
      [],
      `not generated any more (${HINT})`,
    );
  });

  it('number the scripts in run order', () => {
    const scripts = files
      .filter((f) => f.path.startsWith(`${ADX_DIR}/`))
      .map((f) => f.path.slice(ADX_DIR.length + 1));
    assert.ok(scripts.length >= 5);
    for (const [i, name] of scripts.entries())
      assert.match(name, new RegExp(`^0?${i + 1}-[a-z0-9-]+\\.kql$`));
  });

  it('document every field of the schema in docs/summary-schema.md, rows and flow groups apart', () => {
    const doc = files.find((f) => f.path === SCHEMA_DOC);
    assert.ok(doc);
    const section = (heading: string): string => {
      const start = doc.content.indexOf(`\n## ${heading}`);
      assert.ok(start >= 0, `no section ${heading}`);
      const end = doc.content.indexOf('\n## ', start + 1);
      return doc.content.slice(start, end < 0 ? undefined : end);
    };
    const fieldRows = (text: string): string[] =>
      [...text.matchAll(/^\| `(\w+)` \| (\w+) \| (yes|no) \| (\w+) \|/gm)].map((m) =>
        m.slice(1, 5).join(' '),
      );
    const expected = (fields: readonly FieldSpec[]) =>
      fields.map((f) => `${f.name} ${KUSTO_TYPE[f.kind]} ${f.nullable ? 'yes' : 'no'} ${f.group}`);
    assert.deepEqual(fieldRows(section('Row fields (`FlowSummaries`)')), expected(ROW_FIELDS));
    assert.deepEqual(fieldRows(section('Flow group fields (`FlowGroups`)')), expected(GROUP_FIELDS));
    const documented = new Set(fieldRows(doc.content).map((r) => r.split(' ')[0]));
    for (const f of SUMMARY_FIELDS) assert.ok(documented.has(f.name), `${f.name} is documented`);
    const stream = section('The summary stream');
    assert.match(stream, /before the first row of that group/);
    for (const r of [adxRouting.rows, adxRouting.groups])
      assert.match(stream, new RegExp(`\\| \`${r.table}\` \\| \`${r.mapping}\` \\| \`multijson\` \\|`));
    const join = section('How rows and groups join');
    assert.match(join, /`Flows\(\)`/);
    assert.match(join, /lookup kind=leftouter \(FlowGroupsDedup \| project group, [\w, ]+\) on group/);
  });

  it('are stable: generating twice gives the same bytes', () => {
    assert.deepEqual(generateDeployFiles(), files);
  });
});
