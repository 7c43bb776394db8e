/**
 * Builds the Functions deploy package (azure.yaml runs this as the `api` service's prepackage hook; azd
 * then zips the folder, with remote build off, and publishes it).
 *
 *   1. compiles the app afresh with tsconfig.build.json (never a stale dist/);
 *   2. copies what `.funcignore` lets through (compiled files as `dist/…`), never the project's
 *      node_modules;
 *   3. writes a production manifest: package.json without scripts (no `prepare` → tsc at install),
 *      devDependencies or bin;
 *   4. installs it with `npm ci --omit=dev` from the copied package-lock.json, so the package carries
 *      exactly the locked production dependencies (all pure JavaScript: a package built on any OS runs on
 *      the Linux Flex Consumption workers).
 *
 * Why not a remote build: Oryx would run `npm install` with the devDependencies (Azurite, DuckDB, Biome,
 * the Kusto language service: hundreds of MB) and `npm run build` on the build service, and ship them.
 *
 *   npx tsx deploy/infra/hooks/package.ts [out]      (default .tmp/deploy-package)
 */

import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The folder azure.yaml's `dist` names (relative to the project root). */
export const DEFAULT_PACKAGE_DIR = '.tmp/deploy-package';

/** Something the package cannot be built from; the message says what to fix. */
export class PackageError extends Error {
  override readonly name = 'PackageError';
}

// ------------------------------------------------------------------------------------------ .funcignore

interface IgnoreRule {
  readonly negate: boolean;
  readonly dirOnly: boolean;
  /** Tested against the whole relative path (anchored rules) or the last segment. */
  readonly anchored: boolean;
  readonly regex: RegExp;
  readonly text: string;
}

function globToRegex(glob: string, line: number): string {
  if (/[[\]\\]/.test(glob))
    throw new PackageError(
      `.funcignore line ${line}: "${glob}" uses character classes or escapes, which this packager does not read; write the pattern without [ ] or \\`,
    );
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/';
      out += slashAfter ? '(?:.*/)?' : '.*';
      i += slashAfter ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|]/g, '\\$&');
  }
  return out;
}

/** Parses gitignore syntax: comments, `!` negation, leading `/` anchors, trailing `/` for folders, `*`, `**`, `?`. */
export function parseIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    let pattern = line;
    const negate = pattern.startsWith('!');
    if (negate) pattern = pattern.slice(1);
    const dirOnly = pattern.endsWith('/');
    if (dirOnly) pattern = pattern.slice(0, -1);
    const anchored = pattern.includes('/');
    if (pattern.startsWith('/')) pattern = pattern.slice(1);
    if (pattern === '') throw new PackageError(`.funcignore line ${index + 1}: "${raw}" matches nothing`);
    rules.push({
      negate,
      dirOnly,
      anchored,
      regex: new RegExp(`^${globToRegex(pattern, index + 1)}$`),
      text: line,
    });
  }
  return rules;
}

/**
 * Whether a path (relative, `/`-separated) is ignored by the rules, its parent folders aside: the last
 * matching rule decides (git's order). Callers do not descend into ignored folders, as git does.
 */
export function isIgnored(rules: readonly IgnoreRule[], path: string, isDir: boolean): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  let ignored = false;
  for (const rule of rules) {
    if (rule.dirOnly && !isDir) continue;
    if (rule.regex.test(rule.anchored ? path : name)) ignored = !rule.negate;
  }
  return ignored;
}

// ------------------------------------------------------------------------------------------ building

export interface PackageOptions {
  /** Project root: package.json, package-lock.json, host.json, .funcignore, tsconfig.build.json. */
  readonly root: string;
  /** Package folder; emptied first. Must not be the root or contain it. */
  readonly out: string;
  /** Run `npm ci --omit=dev` in the package (default true). */
  readonly install?: boolean;
  /** Pass --prefer-offline to npm ci: the npm cache serves what it holds (default true). */
  readonly preferOffline?: boolean;
  readonly log?: (line: string) => void;
}

export interface PackageResult {
  /** Files of the package outside node_modules, relative, `/`-separated, sorted. */
  readonly files: readonly string[];
  /** Their total size in bytes. */
  readonly appBytes: number;
  /** Size of the installed node_modules in bytes (0 without install). */
  readonly modulesBytes: number;
  readonly millis: { readonly compile: number; readonly copy: number; readonly install: number };
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  what: string,
): void {
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined)
    throw new PackageError(`${what}: could not start ${command} (${result.error.message})`, {
      cause: result.error,
    });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new PackageError(`${what} failed (exit ${result.status ?? result.signal}):\n${output}`);
  }
}

/**
 * The environment for npm in the package: without the `npm_*` variables a parent npm (`npm test`,
 * `npm run`) exports, one of which (npm_config_local_prefix) would point npm back at the project.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.toLowerCase().startsWith('npm_') || keep.has(key.toLowerCase())) env[key] = value;
  return env;
}

function walk(dir: string, visit: (path: string, isDir: boolean) => boolean, base = ''): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const rel = base === '' ? entry.name : `${base}/${entry.name}`;
    const isDir = entry.isDirectory();
    if (visit(rel, isDir) && isDir) walk(join(dir, entry.name), visit, rel);
  }
}

function folderBytes(dir: string): number {
  let total = 0;
  walk(dir, (rel, isDir) => {
    if (!isDir) total += statSync(join(dir, ...rel.split('/'))).size;
    return true;
  });
  return total;
}

interface Manifest {
  readonly name?: string;
  readonly main?: string;
  readonly dependencies?: Record<string, string>;
  readonly [key: string]: unknown;
}

/** package.json for the package: what npm and the Functions host need, no scripts, no devDependencies. */
export function productionManifest(manifest: Manifest): Manifest {
  const keep = [
    'name',
    'version',
    'description',
    'license',
    'private',
    'type',
    'main',
    'engines',
    'dependencies',
    'overrides',
  ];
  const out: Record<string, unknown> = {};
  for (const key of keep) if (manifest[key] !== undefined) out[key] = manifest[key];
  return out;
}

export function buildDeployPackage(options: PackageOptions): PackageResult {
  const root = resolve(options.root);
  const out = resolve(options.out);
  const log = options.log ?? (() => {});
  const inside = (parent: string, child: string) => {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  if (inside(out, root))
    throw new PackageError(`the package folder ${out} must not be the project root or contain it`);
  let ignoreText: string;
  try {
    ignoreText = readFileSync(join(root, '.funcignore'), 'utf8');
  } catch (cause) {
    throw new PackageError(`${join(root, '.funcignore')} cannot be read: it decides what the package holds`, {
      cause,
    });
  }
  const rules = parseIgnore(ignoreText);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // 1. Compile afresh, outside the package.
  let started = Date.now();
  const build = mkdtempSync(join(tmpdir(), 'flowlog-build-'));
  try {
    log(`compiling with tsconfig.build.json into ${build}`);
    run(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', build],
      root,
      process.env,
      'tsc -p tsconfig.build.json',
    );
    const compile = Date.now() - started;

    // 2. Copy what .funcignore lets through: project files (not dist/, not node_modules) and the fresh build.
    started = Date.now();
    const files: string[] = [];
    const copy = (from: string, rel: string) => {
      const to = join(out, ...rel.split('/'));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(from, to);
      files.push(rel);
    };
    walk(root, (rel, isDir) => {
      const top = rel.split('/')[0];
      // The fresh build replaces dist/; the package gets its own node_modules; never the package itself.
      if (top === 'node_modules' || top === 'dist' || top === '.git') return false;
      if (isDir && resolve(root, rel) === out) return false;
      if (isIgnored(rules, rel, isDir)) return false;
      if (!isDir) copy(join(root, ...rel.split('/')), rel);
      return true;
    });
    if (isIgnored(rules, 'dist', true))
      throw new PackageError('.funcignore leaves out dist/: the package would hold no compiled app');
    walk(build, (rel, isDir) => {
      const packaged = `dist/${rel}`;
      if (isIgnored(rules, packaged, isDir)) return false;
      if (!isDir) copy(join(build, ...rel.split('/')), packaged);
      return true;
    });

    // 3. The production manifest.
    writeFileSync(join(out, 'package.json'), `${JSON.stringify(productionManifest(manifest), null, 2)}\n`);
    for (const required of [
      'host.json',
      'package.json',
      'package-lock.json',
      manifest.main ?? 'dist/app/index.js',
    ]) {
      if (!files.includes(required) && required !== 'package.json')
        throw new PackageError(
          `the package has no ${required}; .funcignore must let it through (the Functions host or npm ci needs it)`,
        );
    }
    if (!files.includes('package.json')) files.push('package.json');
    files.sort();
    const copyMs = Date.now() - started;

    // 4. Production dependencies from the lock file.
    started = Date.now();
    let modulesBytes = 0;
    if (options.install !== false) {
      const args = ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefix', out];
      if (options.preferOffline !== false) args.push('--prefer-offline');
      log(`npm ${args.join(' ')}`);
      run('npm', args, out, npmEnv(), 'npm ci --omit=dev in the package');
      modulesBytes = folderBytes(join(out, 'node_modules'));
    }
    const appBytes = files.reduce((sum, rel) => sum + statSync(join(out, ...rel.split('/'))).size, 0);
    return {
      files,
      appBytes,
      modulesBytes,
      millis: { compile, copy: copyMs, install: Date.now() - started },
    };
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

if (require.main === module) {
  const root = resolve(__dirname, '..', '..', '..');
  const out = resolve(root, process.argv[2] ?? DEFAULT_PACKAGE_DIR);
  try {
    const result = buildDeployPackage({ root, out, log: (line) => console.log(`flowlog package: ${line}`) });
    console.log(
      `flowlog package: ${out}${sep}: ${result.files.length} files (${mib(result.appBytes)}) + production node_modules (${mib(result.modulesBytes)}); compile ${result.millis.compile} ms, copy ${result.millis.copy} ms, npm ci ${result.millis.install} ms`,
    );
  } catch (error) {
    console.error(`flowlog package: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
