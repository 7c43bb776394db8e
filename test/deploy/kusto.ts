/**
 * Offline KQL checking with @kusto/language-service-next (the Kusto.Language parser and analyzer).
 *
 * The package is a Bridge.NET build that defines the globals `Bridge` and `Kusto`; it is loaded once per
 * process (about 0.5 s to load, 2 s for the first analysis) and typed here through the few members used.
 *
 * `ScriptSchema` reads the deploy/adx scripts in order and builds the database they declare (table,
 * materialized views, functions), so the commands and the dashboard queries are analyzed against exactly
 * the schema the scripts create.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';

interface KList<T> {
  readonly Count: number;
  getItem(index: number): T;
}
interface KDiagnostic {
  readonly Severity: string;
  readonly Message: string;
  readonly Start: number;
  readonly Length: number;
}
interface KSyntaxElement {
  readonly Kind: number;
  readonly ChildCount: number;
  GetChild(index: number): KSyntaxElement | null;
}
interface KTypeSymbol {
  readonly Name: string;
}
interface KCode {
  readonly Kind: string;
  readonly Syntax: KSyntaxElement;
  readonly ResultType: KTypeSymbol | null;
  GetDiagnostics(): KList<KDiagnostic>;
}
interface KSymbol {
  readonly Name: string;
}
interface KTableSymbol extends KSymbol {
  WithName(name: string): KTableSymbol;
}
interface KDatabaseSymbol extends KSymbol {
  readonly Members: KList<KSymbol>;
}
interface KGlobalState {
  WithDatabase(db: KDatabaseSymbol): KGlobalState;
}
interface KustoLanguage {
  readonly GlobalState: { readonly Default: KGlobalState };
  readonly KustoCode: { ParseAndAnalyze(text: string, globals: KGlobalState): KCode };
  readonly Symbols: {
    readonly TableSymbol: { From(schema: string): KTableSymbol };
    readonly DatabaseSymbol: { readonly ctor: new (name: string, members: KSymbol[]) => KDatabaseSymbol };
    readonly FunctionSymbol: {
      readonly $ctor16: new (
        name: string,
        parameterList: string,
        body: string,
        description: string,
      ) => KSymbol;
    };
    readonly MaterializedViewSymbol: {
      readonly $ctor3: new (
        name: string,
        columns: string,
        query: string,
        description: string | null,
      ) => KSymbol;
    };
    readonly SchemaDisplay: { GetText(type: KTypeSymbol): string };
  };
  readonly Syntax: { readonly SyntaxKind: { readonly UnknownCommand: number } };
}

let cached: KustoLanguage | undefined;

/** Loads the language service once per process. */
export function kusto(): KustoLanguage {
  if (cached !== undefined) return cached;
  const req = createRequire(__filename);
  const dir = dirname(req.resolve('@kusto/language-service-next/package.json'));
  for (const file of ['bridge.min.js', 'Kusto.Language.Bridge.min.js']) {
    runInThisContext(readFileSync(join(dir, file), 'utf8'), { filename: file });
  }
  const ns = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto?.Language;
  if (ns === undefined) throw new Error('@kusto/language-service-next did not define Kusto.Language');
  cached = ns;
  return ns;
}

export interface Problem {
  readonly severity: string;
  readonly message: string;
  /** The text the diagnostic points at, with a little context. */
  readonly at: string;
}

export interface Analysis {
  readonly kind: string;
  readonly errors: Problem[];
  /** Management commands the parser did not recognise (misspelled command names). */
  readonly unknownCommands: number;
  readonly code: KCode;
}

function walk(node: KSyntaxElement | null, visit: (n: KSyntaxElement) => void): void {
  if (node === null) return;
  visit(node);
  for (let i = 0; i < node.ChildCount; i++) walk(node.GetChild(i), visit);
}

/** Parses and analyzes one query or command against `globals`. */
export function analyze(text: string, globals: KGlobalState): Analysis {
  const k = kusto();
  const code = k.KustoCode.ParseAndAnalyze(text, globals);
  const list = code.GetDiagnostics();
  const errors: Problem[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    if (d.Severity !== 'Error') continue;
    const from = Math.max(0, d.Start - 30);
    errors.push({
      severity: d.Severity,
      message: d.Message,
      at: `${text.slice(from, d.Start)}⟦${text.slice(d.Start, d.Start + d.Length)}⟧${text.slice(d.Start + d.Length, d.Start + d.Length + 30)}`,
    });
  }
  let unknownCommands = 0;
  const unknownKind = k.Syntax.SyntaxKind.UnknownCommand;
  walk(code.Syntax, (n) => {
    if (n.Kind === unknownKind) unknownCommands++;
  });
  return { kind: code.Kind, errors, unknownCommands, code };
}

/** Finds the index of the bracket closing the one at `open`, skipping string literals. */
function closing(text: string, open: number): number {
  const pairs: Record<string, string> = { '(': ')', '{': '}', '[': ']' };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
      continue;
    }
    if (text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3);
      if (end < 0) return -1;
      i = end + 2;
      continue;
    }
    const close = pairs[c];
    if (close !== undefined) stack.push(close);
    else if (c === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** After `.verb ... with (...)`: the position of the first character after the optional with-clause. */
function afterWith(text: string, from: number): number {
  const m = /^\s*with\s*\(/i.exec(text.slice(from));
  if (m === null) return from;
  const end = closing(text, from + m[0].length - 1);
  if (end < 0) throw new Error(`unbalanced with(...) in: ${text.slice(0, 120)}`);
  return end + 1;
}

export interface Declared {
  readonly kind: 'table' | 'materialized-view' | 'function';
  readonly name: string;
}

/**
 * The database the scripts declare. Declarations are read in script order (a materialized view's columns
 * come from analyzing its query against what was declared before it); the commands are then analyzed
 * against the finished database, because every new GlobalState costs the analyzer its caches (about a
 * second per command instead of a quarter).
 */
export class ScriptSchema {
  private readonly members = new Map<string, KSymbol>();
  private globalsCache: KGlobalState | undefined;
  readonly declared: Declared[] = [];

  constructor(readonly databaseName: string) {}

  get globals(): KGlobalState {
    if (this.globalsCache === undefined) {
      const k = kusto();
      const db = new k.Symbols.DatabaseSymbol.ctor(this.databaseName, [...this.members.values()]);
      this.globalsCache = k.GlobalState.Default.WithDatabase(db);
    }
    return this.globalsCache;
  }

  private add(kind: Declared['kind'], name: string, symbol: KSymbol): void {
    this.members.set(name, symbol);
    this.globalsCache = undefined;
    if (!this.declared.some((d) => d.name === name)) this.declared.push({ kind, name });
  }

  /** Records what a command declares (a table, a materialized view or a function); others are ignored. */
  declare(text: string): void {
    const k = kusto();
    const body = text.replace(/^(\s*\/\/[^\n]*\n)+/, '').trimStart();
    let m = /^\.create-merge\s+table\s+([A-Za-z_]\w*)\s*\(/.exec(body);
    if (m !== null) {
      const open = m[0].length - 1;
      const end = closing(body, open);
      this.add('table', m[1]!, k.Symbols.TableSymbol.From(body.slice(open, end + 1)).WithName(m[1]!));
      return;
    }
    m = /^\.create-or-alter\s+materialized-view\b/.exec(body);
    if (m !== null) {
      const rest = body.slice(afterWith(body, m[0].length));
      const head = /^\s*([A-Za-z_]\w*)\s+on\s+(?:table|materialized-view)\s+[A-Za-z_]\w*\s*\{/.exec(rest);
      if (head === null)
        throw new Error(`cannot read the materialized view declaration: ${body.slice(0, 160)}`);
      const open = head[0].length - 1;
      const query = rest.slice(open + 1, closing(rest, open)).trim();
      const analysis = analyze(query, this.globals);
      const type = analysis.code.ResultType;
      if (analysis.errors.length > 0 || type === null) {
        throw new Error(`view query does not analyze: ${JSON.stringify(analysis.errors)}\n${query}`);
      }
      const schema = k.Symbols.SchemaDisplay.GetText(type);
      this.add(
        'materialized-view',
        head[1]!,
        new k.Symbols.MaterializedViewSymbol.$ctor3(head[1]!, schema, query, null),
      );
      return;
    }
    m = /^\.create-or-alter\s+function\b/.exec(body);
    if (m !== null) {
      const rest = body.slice(afterWith(body, m[0].length));
      const head = /^\s*([A-Za-z_]\w*)\s*\(/.exec(rest);
      if (head === null) throw new Error(`cannot read the function declaration: ${body.slice(0, 160)}`);
      const paramsOpen = head[0].length - 1;
      const paramsClose = closing(rest, paramsOpen);
      const bodyOpen = rest.indexOf('{', paramsClose);
      const bodyClose = closing(rest, bodyOpen);
      const fn = new k.Symbols.FunctionSymbol.$ctor16(
        head[1]!,
        rest.slice(paramsOpen, paramsClose + 1),
        rest.slice(bodyOpen, bodyClose + 1),
        '',
      );
      this.add('function', head[1]!, fn);
    }
  }

  /** Declares everything the commands declare, in order. */
  static of(databaseName: string, commands: readonly string[]): ScriptSchema {
    const schema = new ScriptSchema(databaseName);
    for (const c of commands) schema.declare(c);
    return schema;
  }
}

/**
 * The result columns of a query as `name: type` strings, in order (the analyzer's schema of its result);
 * throws when the query does not analyze.
 */
export function resultColumns(query: string, globals: KGlobalState): string[] {
  const a = analyze(query, globals);
  const type = a.code.ResultType;
  if (a.errors.length > 0 || type === null)
    throw new Error(`does not analyze: ${JSON.stringify(a.errors)}\n${query}`);
  const text = kusto().Symbols.SchemaDisplay.GetText(type);
  const inner = /^\((.*)\)$/s.exec(text.trim());
  if (inner === null) throw new Error(`not a tabular result: ${text}`);
  return inner[1]!.split(/,\s*/).filter((c) => c.length > 0);
}
