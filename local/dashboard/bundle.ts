/**
 * The dashboard's browser script: local/dashboard/client/app.mjs with ECharts, the world boundaries
 * (world-atlas) and the panel logic (domain/analysis/panels.ts), bundled by esbuild into one IIFE that
 * needs nothing from the network.
 *
 * `npm run build` (and so `npm ci`, through prepare) writes it to dist/dashboard/app.js; the compiled
 * CLI serves and inlines that file. Run from the TypeScript sources (tests, tsx), it is built in memory
 * from the client source instead, so it never lags behind an edit.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project root: the nearest folder up with a package.json (works from the sources and from dist/). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const BUNDLE_PATH = join(projectRoot(), 'dist', 'dashboard', 'app.js');
const ENTRY = join(projectRoot(), 'local', 'dashboard', 'client', 'app.mjs');

/** Builds the bundle with esbuild (a devDependency): minified, for browsers of the last few years. */
export async function buildBundle(): Promise<string> {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    minify: true,
    target: ['es2020'],
    platform: 'browser',
    legalComments: 'none',
    logLevel: 'silent',
    // ECharts reads process.env.NODE_ENV to drop its development checks.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild wrote no bundle');
  return out.text;
}

let cached: Promise<string> | undefined;

/**
 * The bundle's text: built in memory when running from the sources, else the file `npm run build` wrote.
 */
export function dashboardBundle(): Promise<string> {
  cached ??= (async () => {
    const fromSources = __filename.endsWith('.ts');
    if (!fromSources && existsSync(BUNDLE_PATH)) return readFileSync(BUNDLE_PATH, 'utf8');
    try {
      return await buildBundle();
    } catch (error) {
      throw new Error(
        `the dashboard's script is missing (${BUNDLE_PATH}) and could not be built: ${(error as Error).message}; run npm run build`,
      );
    }
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

if (require.main === module) {
  buildBundle().then(
    (text) => {
      mkdirSync(dirname(BUNDLE_PATH), { recursive: true });
      writeFileSync(BUNDLE_PATH, text);
      process.stdout.write(`dashboard bundle: ${BUNDLE_PATH} (${(text.length / 1024).toFixed(0)} KiB)\n`);
    },
    (error: unknown) => {
      process.stderr.write(`dashboard bundle: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
