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
