/**
 * The deploy package, built the way `azd deploy` builds it (azure.yaml's prepackage hook,
 * deploy/infra/hooks/package.ts): compiled afresh, filtered by .funcignore, a production-only manifest,
 * `npm ci --omit=dev --prefer-offline` in a temp folder (the npm cache CI's `npm ci` filled serves it).
 * The app is then loaded from that folder by a clean node process (no tsx, no project node_modules)
 * with `@azure/functions-core` stood in for, so the real `@azure/functions` of the package records every
 * registration; each function the docs list must be there with the documented trigger, route, methods
 * and auth level, and nothing undocumented may be registered.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  buildDeployPackage,
  DEFAULT_PACKAGE_DIR,
  isIgnored,
  type PackageResult,
  parseIgnore,
  productionManifest,
} from '../../deploy/infra/hooks/package';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

// ------------------------------------------------------------------------------------------ the docs

/** One function the docs promise. */
interface Documented {
  readonly trigger: string;
  readonly name?: string;
  readonly method?: string;
  readonly route?: string;
  readonly authLevel?: string;
  readonly schedule?: string;
  /** Where the docs say so (for the failure message). */
  readonly where: string;
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `the docs have a "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, end < 0 ? undefined : end);
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());
}

/** HTTP endpoints of docs/operations.md: the Endpoints table (method, route; an auth column if any). */
function documentedEndpoints(): Documented[] {
  const text = section(read('docs/operations.md'), 'Endpoints');
  const rows = text.split('\n').filter((l) => l.trim().startsWith('|'));
  const header = rows[0] === undefined ? [] : cells(rows[0]);
  const authColumn = header.findIndex((h) => /auth|level|key|role/i.test(h));
  const sectionLevel = /authLevel: (\w+)/.exec(text)?.[1];
  const out: Documented[] = [];
  for (const row of rows) {
    const c = cells(row);
    const m = /^`(GET|POST|PUT|PATCH|DELETE) \/api\/([^`\s]+)`$/.exec(c[0] ?? '');
    if (!m) continue;
    const fromColumn =
      authColumn >= 0 ? /\b(anonymous|function|admin)\b/.exec(c[authColumn] ?? '')?.[1] : undefined;
    const authLevel = fromColumn ?? sectionLevel;
    assert.ok(authLevel, `docs/operations.md gives no auth level for ${c[0]}`);
    out.push({
      trigger: 'httpTrigger',
      method: m[1]!,
      route: m[2]!,
      authLevel,
      where: `docs/operations.md Endpoints: ${c[0]}`,
    });
  }
  assert.ok(out.length >= 5, `found ${out.length} endpoints in docs/operations.md`);
  return out;
}

/** The Event Grid function (docs/deployment.md), the timer (docs/operations.md), durable functions (docs/architecture.md). */
function documentedOthers(): Documented[] {
  const out: Documented[] = [];
  const eventGrid = /`FLOWLOG_EVENTGRID_FUNCTION` \| `(\w+)`/.exec(read('docs/deployment.md'));
  assert.ok(eventGrid, 'docs/deployment.md names the Event Grid function (FLOWLOG_EVENTGRID_FUNCTION)');
  out.push({
    trigger: 'eventGridTrigger',
    name: eventGrid[1]!,
    where: 'docs/deployment.md FLOWLOG_EVENTGRID_FUNCTION',
  });
  const operations = read('docs/operations.md');
  const timer = /The (\w+) timer\s*\(every (\d+) minutes?\)/.exec(operations);
  assert.ok(timer, 'docs/operations.md describes the sweep timer ("The sweep timer (every N minutes)")');
  out.push({
    trigger: 'timerTrigger',
    name: timer[1]!,
    schedule: `0 */${timer[2]} * * * *`,
    where: `docs/operations.md: ${timer[0]}`,
  });
  // Other timers: "The refreshTopology timer (schedule `0 5,20,35,50 * * * *`)".
  for (const m of operations.matchAll(/The (\w+) timer \(schedule `([^`]+)`\)/g))
    out.push({ trigger: 'timerTrigger', name: m[1]!, schedule: m[2]!, where: `docs/operations.md: ${m[0]}` });
  const kinds: Record<string, string> = {
    orchestrators: 'orchestrationTrigger',
    activities: 'activityTrigger',
    entities: 'entityTrigger',
  };
  const seen = new Set<string>();
  for (const m of read('docs/architecture.md').matchAll(
    /\b(orchestrators|activities|entities)\/(\w+)\.ts\b/g,
  )) {
    if (seen.has(m[2]!)) continue;
    seen.add(m[2]!);
    out.push({ trigger: kinds[m[1]!]!, name: m[2]!, where: `docs/architecture.md: ${m[0]}` });
  }
  return out;
}

// ------------------------------------------------------------------------------------------ capture

interface Binding {
  readonly type: string;
  readonly direction: string;
  readonly route?: string;
  readonly methods?: readonly string[];
  readonly authLevel?: string;
  readonly schedule?: string;
}

interface Registration {
  readonly name: string;
  readonly bindings: Readonly<Record<string, Binding>>;
}

interface Capture {
  readonly registrations: readonly Registration[];
  /** Modules loaded from outside the package (must be none). */
  readonly outside: readonly string[];
  /** Requires found in the packaged JavaScript that do not resolve inside the package. */
  readonly unresolved: readonly string[];
  readonly defaults: { readonly geoip: readonly string[]; readonly asn: readonly string[] } | null;
  readonly loadMs: number;
}

/**
 * Runs in a clean node (no tsx, cwd = the package): answers `@azure/functions-core` the way the Functions
 * worker does (registerFunction, registerHook, setProgrammingModel, log), loads the manifest's main,
 * checks that every require in the packaged JavaScript resolves inside the package, and asks the
 * enrichment defaults where the GeoIP/ASN data is.
 */
const CAPTURE = `'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const pkg = fs.realpathSync(path.resolve(process.argv[2]));
const self = __filename;
const inside = (f) => f.startsWith(pkg + path.sep);
const registrations = [];
let model;
const core = {
  version: '3.10.1',
  setProgrammingModel(m) { model = m; },
  getProgrammingModel() { return model; },
  registerFunction(metadata) { registrations.push(metadata); return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  log() {},
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === '@azure/functions-core') return core;
  return load.call(this, request, parent, isMain);
};
const unresolved = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full);
    else if (e.name.endsWith('.js')) {
      const req = Module.createRequire(full);
      const text = fs.readFileSync(full, 'utf8');
      for (const m of text.matchAll(/require\\((?:"([^"]+)"|'([^']+)')\\)/g)) {
        const spec = m[1] || m[2];
        if (Module.isBuiltin(spec)) continue;
        try {
          const at = fs.realpathSync(req.resolve(spec));
          if (!inside(at)) unresolved.push(path.relative(pkg, full) + ': ' + spec + ' -> ' + at);
        } catch (e) {
          unresolved.push(path.relative(pkg, full) + ': ' + spec + ' (' + e.code + ')');
        }
      }
    }
  }
};
walk(path.join(pkg, 'dist'));
const started = Date.now();
const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
require(path.join(pkg, manifest.main));
const loadMs = Date.now() - started;
let defaults = null;
const defaultsFile = path.join(pkg, 'dist', 'adapters', 'enrichment', 'defaults.js');
if (fs.existsSync(defaultsFile)) {
  const d = require(defaultsFile);
  const files = (p) => (p === null ? [] : p.files.filter((f) => inside(fs.realpathSync(f))));
  defaults = { geoip: files(d.defaultGeoIp()), asn: files(d.defaultAsn()) };
}
const outside = Object.keys(require.cache).filter((f) => f !== self && !inside(fs.realpathSync(f)));
process.stdout.write(JSON.stringify({ registrations, outside, unresolved, defaults, loadMs }));
`;

function trigger(r: Registration): Binding | undefined {
  return Object.values(r.bindings).find((b) => b.direction === 'in' && /Trigger$/.test(b.type));
}

function describeRegistration(r: Registration): string {
  const t = trigger(r);
  if (t === undefined) return `${r.name} (no trigger)`;
  const http = t.type === 'httpTrigger' ? ` ${t.methods?.join(',')} ${t.route} auth=${t.authLevel}` : '';
  return `${r.name}: ${t.type}${http}${t.schedule ? ` ${t.schedule}` : ''}`;
}

// ------------------------------------------------------------------------------------------ the tests

/** Top-level packages the lock file marks as needed only by devDependencies. */
function devOnlyPackages(): string[] {
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
    .map(([path]) => path.slice('node_modules/'.length));
}

let work = '';
let pkg = '';
let built: PackageResult;
let buildMs = 0;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'flowlog-package-'));
  pkg = join(work, 'package');
  const started = Date.now();
  built = buildDeployPackage({ root, out: pkg, preferOffline: true });
  buildMs = Date.now() - started;
});

after(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('deploy package', () => {
  it('is built the way azure.yaml deploys it (prepackage hook, dist folder, no remote build)', (t) => {
    const yaml = read('azure.yaml');
    assert.match(yaml, new RegExp(`^ {4}dist: ${DEFAULT_PACKAGE_DIR.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(yaml, /^ {4}remoteBuild: false$/m);
    assert.match(yaml, /^ {6}prepackage:\n {8}posix:\n {10}shell: sh\n {10}run: npm run package:deploy$/m);
    assert.match(yaml, /^ {8}windows:\n {10}shell: pwsh\n {10}run: npm run package:deploy$/m);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts['package:deploy'], 'tsx deploy/infra/hooks/package.ts');
    // azd (1.23.5+) refuses `remoteBuild: false` when .funcignore excludes node_modules.
    assert.equal(isIgnored(parseIgnore(read('.funcignore')), 'node_modules', true), false);
    t.diagnostic(
      `package built in ${(buildMs / 1000).toFixed(1)} s (tsc ${built.millis.compile} ms, copy ${built.millis.copy} ms, npm ci --omit=dev ${built.millis.install} ms): ${built.files.length} files, ${(built.appBytes / 1024).toFixed(0)} KiB + node_modules ${(built.modulesBytes / 1024 / 1024).toFixed(1)} MiB`,
    );
  });

  it('holds the compiled app, host.json and the lock file; no offline stack, tests, bench, scripts or sources', () => {
    const files = built.files;
    for (const needed of ['host.json', 'package.json', 'package-lock.json', 'dist/app/index.js', 'NOTICE'])
      assert.ok(files.includes(needed), `${needed} is in the package`);
    const forbidden = files.filter(
      (f) =>
        /^(test|local|bench|scripts|cli|bin|docs|deploy|domain|adapters|app|triggers|orchestrators|activities|entities|\.ci|\.github|\.tmp)\//.test(
          f,
        ) ||
        /^dist\/(local|bench|cli|test|scripts)\//.test(f) ||
        /\.(ts|map)$/.test(f) ||
        /^(tsconfig.*\.json|biome\.json|azure\.yaml|\.funcignore|\.gitignore|local\.settings.*\.json)$/.test(
          f,
        ),
    );
    assert.deepEqual(forbidden, [], 'left out by .funcignore');
    const unexpected = files.filter(
      (f) => !/^dist\/.+\.js$/.test(f) && !/^(host|package|package-lock)\.json$|^(LICENSE|NOTICE)$/.test(f),
    );
    assert.deepEqual(
      unexpected,
      [],
      'only compiled JavaScript, the manifests, host.json and the licence files',
    );
  });

  it('installs with `npm ci --omit=dev`: its manifest has no scripts and no devDependencies', () => {
    const shipped = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(shipped.scripts, undefined, 'no prepare/build script can run tsc at install time');
    assert.equal(shipped.devDependencies, undefined);
    const project = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    assert.deepEqual(shipped.dependencies, project.dependencies);
    assert.deepEqual(productionManifest(JSON.parse(read('package.json'))), shipped);
    for (const dep of Object.keys(project.dependencies))
      assert.ok(existsSync(join(pkg, 'node_modules', dep, 'package.json')), `${dep} is installed`);
    const devOnly = devOnlyPackages();
    assert.ok(
      devOnly.includes('typescript') && devOnly.includes('azurite'),
      'the lock marks dev-only packages',
    );
    const shippedDev = devOnly.filter((dev) => existsSync(join(pkg, 'node_modules', dev)));
    assert.deepEqual(shippedDev, [], 'no package needed only by devDependencies is in the package');
  });

  it('loads from the package alone and registers every documented function as documented', (t) => {
    const script = join(work, 'capture.cjs');
    writeFileSync(script, CAPTURE);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: work };
    if (process.env.SystemRoot !== undefined) env.SystemRoot = process.env.SystemRoot;
    const child = spawnSync(process.execPath, [script, pkg], { cwd: pkg, env, encoding: 'utf8' });
    assert.equal(
      child.status,
      0,
      `loading the packaged app failed (a module missing from dependencies?):\n${child.stderr}`,
    );
    const capture = JSON.parse(child.stdout) as Capture;
    t.diagnostic(
      `app entry loaded in ${capture.loadMs} ms with ${capture.registrations.length} registrations`,
    );
    assert.deepEqual(capture.outside, [], 'every module loaded came from the package');
    assert.deepEqual(capture.unresolved, [], 'every require of the packaged app resolves inside the package');
    assert.ok(capture.defaults, 'dist/adapters/enrichment/defaults.js is packaged');
    assert.equal(
      capture.defaults.geoip.length,
      2,
      'default GeoIP data (IPv4, IPv6) installed in the package',
    );
    assert.equal(capture.defaults.asn.length, 2, 'default ASN data installed in the package');

    const registrations = capture.registrations;
    const problems: string[] = [];
    const matched = new Set<Registration>();
    for (const doc of [...documentedEndpoints(), ...documentedOthers()]) {
      const candidates =
        doc.trigger === 'httpTrigger'
          ? registrations.filter((r) => {
              const b = trigger(r);
              return (
                b?.type === 'httpTrigger' && b.route === doc.route && b.methods?.includes(doc.method ?? '')
              );
            })
          : registrations.filter((r) => r.name === doc.name);
      const what = doc.trigger === 'httpTrigger' ? `${doc.method} /api/${doc.route}` : `${doc.name}`;
      const r = candidates[0];
      if (r === undefined) {
        problems.push(`missing: ${what} (${doc.where}) is not registered`);
        continue;
      }
      matched.add(r);
      const b = trigger(r);
      if (b?.type !== doc.trigger)
        problems.push(`${what}: trigger ${b?.type}, documented ${doc.trigger} (${doc.where})`);
      if (doc.authLevel !== undefined && b?.authLevel !== doc.authLevel)
        problems.push(`${what}: authLevel ${b?.authLevel}, documented ${doc.authLevel} (${doc.where})`);
      if (doc.schedule !== undefined && b?.schedule !== doc.schedule)
        problems.push(`${what}: schedule ${b?.schedule}, documented ${doc.schedule} (${doc.where})`);
    }
    for (const r of registrations)
      if (!matched.has(r))
        problems.push(`undocumented: ${describeRegistration(r)} is registered but no doc lists it`);
    assert.deepEqual(problems, [], `registered: ${registrations.map(describeRegistration).join('; ')}`);
  });
});

describe('.funcignore matching (gitignore rules)', () => {
  it('anchors, folders, negation and globs', () => {
    const rules = parseIgnore('# c\n/*\n!/dist/\n/dist/local/\n*.map\n!keep.map\ndocs/**/draft?.md\n');
    const cases: [string, boolean, boolean][] = [
      ['src', true, true],
      ['host.json', false, true],
      ['dist', true, false],
      ['dist/app/index.js', false, false],
      ['dist/local', true, true],
      ['dist/app/index.js.map', false, true],
      ['dist/app/keep.map', false, false],
      ['docs/a/b/draft1.md', false, true],
      ['docs/draft1.md', false, true],
    ];
    for (const [path, isDir, ignored] of cases) assert.equal(isIgnored(rules, path, isDir), ignored, path);
    assert.throws(() => parseIgnore('dist/[ab]/'), /character classes/);
  });

  it('the package folder is outside the tracked tree (.gitignore covers .tmp/)', () => {
    assert.match(read('.gitignore'), /^\.tmp\/$/m);
    assert.ok(DEFAULT_PACKAGE_DIR.startsWith('.tmp/'));
    assert.ok(readdirSync(root).includes('.funcignore'));
  });
});
