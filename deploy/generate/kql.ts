/**
 * Small helpers for writing KQL text: string literals, identifiers and the command layout that both
 * `.execute database script` and the Bicep `Microsoft.Kusto/clusters/databases/scripts` resource accept
 * (one command per block, blocks separated by one empty line, no empty line inside a command).
 */

/** A double-quoted KQL string literal. */
export function kqlString(value: string): string {
  if (/[\r\n]/.test(value))
    throw new Error(`KQL string literals here are single-line: ${JSON.stringify(value)}`);
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An identifier that needs no quoting; anything else is a generator bug. */
export function kqlName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain KQL identifier: ${name}`);
  return name;
}

/** One management command. Throws if it contains an empty line, which would split it in a script. */
export function command(lines: readonly string[]): string {
  const text = lines.join('\n').replace(/[ \t]+$/gm, '');
  if (/\n[ \t]*\n/.test(text)) throw new Error(`a command must not contain an empty line:\n${text}`);
  if (!text.trimStart().startsWith('.') && !/^(\/\/[^\n]*\n)+\./.test(text)) {
    throw new Error(`a command starts with '.': ${text.slice(0, 80)}`);
  }
  return text;
}

/** Indents every line of a block by `n` spaces. */
export function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((line) => (line.length > 0 ? pad + line : line))
    .join('\n');
}

/**
 * Splits a script into its commands the way the scripts are executed: on empty lines. Leading `//`
 * comment lines stay attached to the command that follows them.
 */
export function splitScript(script: string): string[] {
  return script
    .split(/\n[ \t]*\n/)
    .map((block) => block.trim())
    .filter((block) => block.length > 0);
}

/** Joins items with ", ", breaking lines before `width` characters; continuation lines get `pad`. */
export function wrapList(items: readonly string[], width: number, pad: string): string {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line.length === 0 ? item : `${line}, ${item}`;
    if (next.length > width && line.length > 0) {
      lines.push(`${line},`);
      line = item;
    } else line = next;
  }
  if (line.length > 0) lines.push(line);
  return lines.join(`\n${pad}`);
}
