/**
 * The committed deploy/adx scripts, dashboards and docs/summary-schema.md are exactly what the generator
 * makes from the summary schema: editing the schema without regenerating fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADX_DIR, generateDeployFiles, SCHEMA_DOC } from '../../deploy/generate';
import { KUSTO_TYPE, SUMMARY_FIELDS } from '../../domain/summary/schema';

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

  it('document every field of the schema in docs/summary-schema.md', () => {
    const doc = files.find((f) => f.path === SCHEMA_DOC);
    assert.ok(doc);
    for (const f of SUMMARY_FIELDS) {
      assert.match(
        doc.content,
        new RegExp(
          `^\\| \`${f.name}\` \\| ${KUSTO_TYPE[f.kind]} \\| ${f.nullable ? 'yes' : 'no'} \\| ${f.group} \\|`,
          'm',
        ),
      );
    }
  });

  it('are stable: generating twice gives the same bytes', () => {
    assert.deepEqual(generateDeployFiles(), files);
  });
});
