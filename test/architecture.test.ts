import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const ROOT = join(__dirname, '..');
const SOURCE_FOLDERS = [
  'activities',
  'adapters',
  'app',
  'bench',
  'cli',
  'deploy/generate',
  'domain',
  'entities',
  'local',
  'orchestrators',
  'triggers',
];

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(ROOT, full));
    }
  };
  for (const folder of SOURCE_FOLDERS) if (existsSync(join(ROOT, folder))) walk(join(ROOT, folder));
  return out.sort();
}

/**
 * The project modules a file loads when it runs: static imports and exports that are not type-only, and
 * `require(...)` calls (lazy, but a cycle through them still means two modules need each other).
 */
function runtimeImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm))
    specs.push(m[1]!);
  for (const m of text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  const resolved: string[] = [];
  for (const spec of specs) {
    if (!spec.startsWith('.')) continue;
    const base = resolve(ROOT, dirname(file), spec);
    for (const candidate of [`${base}.ts`, join(base, 'index.ts')])
      if (existsSync(candidate)) {
        resolved.push(relative(ROOT, candidate));
        break;
      }
  }
  return resolved;
}

/** Every cycle a depth-first walk meets, as `a → b → … → a`. */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const next of edges.get(f) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of edges.keys()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('architecture', () => {
  test('no import cycles between the project modules (runtime imports, require included)', () => {
    const files = sourceFiles();
    assert.ok(files.length > 100, `${files.length} files found`);
    assert.deepEqual(findCycles(new Map(files.map((f) => [f, runtimeImports(f)]))), []);
  });

  test('layers: domain and common import nothing above them, adapters nothing of the app', () => {
    // common/ (names, contracts, settings, metrics) and domain/ are the bottom; adapters/ sit on them;
    // app/services.ts composes adapters for the registered functions (activities, entities, orchestrators,
    // triggers), and app/index.ts, the entry point, imports those. Nothing below imports upward.
    // Bottom first; a layer may import only those listed before it (and non-layer folders).
    const upper = ['app/', 'activities/', 'entities/', 'orchestrators/', 'triggers/', 'local/', 'cli/'];
    const above: Record<string, readonly string[]> = {
      'domain/': ['common/', 'adapters/', ...upper],
      'common/': ['adapters/', ...upper],
      'adapters/': upper,
    };
    const upward: string[] = [];
    for (const file of sourceFiles()) {
      const layer = Object.keys(above).find((l) => file.startsWith(l));
      if (!layer) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"](\.[^'"]+)['"]/g)) {
        const target = relative(ROOT, resolve(ROOT, dirname(file), m[1]!));
        if (above[layer]!.some((l) => `${target}/`.startsWith(l))) upward.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  test('the checker follows require() and finds a cycle through it', () => {
    // The CLI's old circle: commands/process required parallel-process, which imported commands/process.
    assert.ok(
      runtimeImports('cli/process-worker.ts').includes('cli/process-files.ts'),
      'require() is followed',
    );
    assert.ok(!runtimeImports('cli/parallel-process.ts').includes('cli/commands/process.ts'));
    const circle = new Map([
      ['cli/commands/process.ts', ['cli/parallel-process.ts']],
      ['cli/parallel-process.ts', ['cli/commands/process.ts', 'cli/threads.ts']],
      ['cli/threads.ts', []],
    ]);
    assert.deepEqual(findCycles(circle), [
      'cli/commands/process.ts → cli/parallel-process.ts → cli/commands/process.ts',
    ]);
  });
});
