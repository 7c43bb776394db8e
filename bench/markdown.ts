import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Puts a `## title` section into a Markdown file: replaces an earlier copy of it (up to the next `## `
 * heading, so the other sections stay) or appends it.
 */
export function writeSection(file: string, title: string, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const at = text.indexOf(title);
  if (at < 0) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}\n`);
    return;
  }
  const next = text.indexOf('\n## ', at + title.length);
  const rest = next < 0 ? '' : text.slice(next + 1);
  writeFileSync(file, `${text.slice(0, at)}${section}\n${rest}`);
}

/**
 * A bench script's command line: builds its section (`--quick` for a short run), prints it, and with
 * `--write FILE` puts it into that file.
 */
export function runSection(title: string, build: (quick: boolean) => Promise<string>): void {
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--write');
  const target = at >= 0 ? process.argv[at + 1] : undefined;
  build(quick).then(
    (md) => {
      process.stdout.write(`${md}\n`);
      if (target) writeSection(target, title, md);
    },
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
