/**
 * Writes the generated deployment files (ADX scripts, dashboards, docs/summary-schema.md) from the summary
 * schema module. `--check` writes nothing and exits 1 when a committed file differs.
 *
 *   npx tsx scripts/generate-deploy.ts [--check]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ADX_DIR, generateDeployFiles } from '../deploy/generate';

const root = join(__dirname, '..');

function main(): number {
  const check = process.argv.includes('--check');
  const files = generateDeployFiles();
  const wanted = new Set(files.map((f) => f.path));
  const stale = existsSync(join(root, ADX_DIR))
    ? readdirSync(join(root, ADX_DIR))
        .filter((name) => name.endsWith('.kql'))
        .map((name) => `${ADX_DIR}/${name}`)
        .filter((path) => !wanted.has(path))
    : [];
  const changed: string[] = [];
  for (const f of files) {
    const full = join(root, f.path);
    const current = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
    if (current === f.content) continue;
    changed.push(f.path);
    if (!check) {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, f.content);
    }
  }
  if (!check) for (const path of stale) unlinkSync(join(root, path));
  const drift = [...changed, ...stale.map((p) => `${p} (no longer generated)`)];
  if (check) {
    if (drift.length > 0) {
      console.error(`out of date, run: npx tsx scripts/generate-deploy.ts\n  ${drift.join('\n  ')}`);
      return 1;
    }
    console.log(`${files.length} generated files are up to date`);
    return 0;
  }
  console.log(
    drift.length > 0
      ? `wrote:\n  ${drift.join('\n  ')}`
      : `${files.length} generated files already up to date`,
  );
  return 0;
}

process.exitCode = main();
