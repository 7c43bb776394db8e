import { flowGroupId, groupSeed } from '../aggregate';
import { type AggregatedRecord, RecordBytesReader, SUM_STRIDE } from '../formats/record-bytes';
import { type MurmurPrefix, murmur128HexInto, murmurPrefix } from '../hash';
import { isoSeconds } from '../window';
import {
  blankSummary,
  type FieldKind,
  type FlowGroup,
  type FlowSummary,
  GROUP_FIELDS,
  ROW_FIELDS,
  SUMMARY_FIELDS,
  SUMMARY_SCHEMA_VERSION,
} from './schema';

/**
 * The summary serializer, generated from the contract: one line of JSON per summary (its row fields, in
 * contract order) and, before the first row of each flow group, one line for the group (`{"group":…}`,
 * the fields rows leave to it). That stream is the NDJSON of `flowlog process` and what the app stages;
 * the emitter sends the group lines as `FlowGroups` events and the rows as `FlowSummaries` events.
 *
 * Why generated: a loop over field names does one megamorphic keyed load per field, which made rendering
 * cost more than parsing and aggregating together. The generated function reads each field by name. The
 * fields marked `repeats` (group, record offset and time) are the same for every summary of one flow
 * group of a record, so their rendering is reused while they stay identical (===).
 */

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]*$/;

function renderExpression(name: string, kind: FieldKind): string {
  if (!IDENTIFIER.test(name)) throw new Error(`schema: field name "${name}" is not a plain identifier`);
  return kind === 'string' || kind === 'datetime' ? `str(s.${name})` : `num(s.${name})`;
}

/**
 * `,"name":value` of one field, as a generated expression. A nullable field whose value is null (or
 * undefined) renders as nothing: rows leave out what they do not know, ADX maps a missing path to null.
 */
function fieldExpression(
  f: { readonly name: string; readonly kind: FieldKind; readonly nullable: boolean },
  first = false,
): string {
  const text = `${JSON.stringify(`${first ? '{' : ','}${JSON.stringify(f.name)}:`)} + ${renderExpression(f.name, f.kind)}`;
  return f.nullable ? `(s.${f.name} == null ? '' : ${text})` : text;
}

function str(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  // JSON.stringify costs ~200 ns even for short plain strings; most values need no escaping at all.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c < 0xe000)) return JSON.stringify(value);
  }
  return `"${value}"`;
}

function num(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'null' : String(value);
}

/** The repeating segment last rendered, the values it came from (compared by ===), and its UTF-8 bytes. */
interface RepeatMemo {
  text: string;
  bytes: Uint8Array;
  values: unknown[];
}

type Render = (s: FlowSummary, str: (v: unknown) => string, num: (v: unknown) => string) => string;
type Matches = (s: FlowSummary, memo: RepeatMemo) => boolean;
type Remember = (s: FlowSummary, memo: RepeatMemo) => void;

interface Compiled {
  /** `{"id":...` up to the repeating fields. */
  readonly head: Render;
  readonly repeat: Render;
  /** The fields after the repeating ones, without the closing brace. */
  readonly tail: Render;
  readonly matches: Matches;
  readonly remember: Remember;
}

function compile(): Compiled {
  const fields = ROW_FIELDS;
  const repeating = fields.map((f, i) => ({ f, i })).filter(({ f }) => f.repeats === true);
  const first = repeating[0]?.i ?? fields.length;
  const last = repeating[repeating.length - 1]?.i ?? first - 1;
  if (repeating.length !== last - first + 1)
    throw new Error('schema: fields marked repeats must be contiguous');
  if (fields[0]?.nullable !== false) throw new Error('schema: the first field must not be nullable');
  const part = (i: number) => fieldExpression(fields[i]!, i === 0);
  const join = (parts: string[]) => (parts.length > 0 ? parts.join(' + ') : "''");
  const render = (parts: string[]) => new Function('s', 'str', 'num', `return ${join(parts)};`) as Render;
  const head = fields.slice(0, first).map((_, i) => part(i));
  const repeat = repeating.map(({ i }) => part(i));
  const tail = fields.slice(last + 1).map((_, k) => part(last + 1 + k));
  const same = repeating.map(({ f }, k) => `s.${f.name} === memo.values[${k}]`).join(' && ');
  const remember = repeating.map(({ f }, k) => `memo.values[${k}] = s.${f.name};`).join(' ');
  return {
    head: render(head),
    repeat: render(repeat),
    tail: render(tail),
    matches: new Function('s', 'memo', `return memo.text !== '' && ${same || 'true'};`) as Matches,
    remember: new Function('s', 'memo', remember) as Remember,
  };
}

const compiled = compile();
const encoder = new TextEncoder();
const strFn = str as (v: unknown) => string;
const numFn = num as (v: unknown) => string;

if (GROUP_FIELDS[0]?.name !== 'group' || GROUP_FIELDS[0].nullable)
  throw new Error('schema: a group line starts with the non-null `group` field');
const renderGroup = new Function(
  's',
  'str',
  'num',
  `return ${GROUP_FIELDS.map((f, i) => fieldExpression(f, i === 0)).join(' + ')} + '}';`,
) as (s: FlowGroup, str: (v: unknown) => string, num: (v: unknown) => string) => string;

/** A flow group's `FlowGroups` line (without line end). */
export function serializeGroup(group: FlowGroup): string {
  return renderGroup(group, strFn, numFn);
}

/** How every row line starts, and every group line: the two kinds of line of a summary stream. */
export const ROW_LINE_START = '{"id":"';
export const GROUP_LINE_START = '{"group":"';

function repeated(summary: FlowSummary, memo: RepeatMemo): void {
  if (!compiled.matches(summary, memo)) {
    memo.text = compiled.repeat(summary, strFn, numFn);
    memo.bytes = encoder.encode(memo.text);
    compiled.remember(summary, memo);
  }
}

const stringMemo: RepeatMemo = { text: '', bytes: new Uint8Array(0), values: [] };

/** A summary's row line (without line end): its row fields, not those of its group. */
export function serializeSummary(summary: FlowSummary): string {
  repeated(summary, stringMemo);
  return `${compiled.head(summary, strFn, numFn)}${stringMemo.text}${compiled.tail(summary, strFn, numFn)}}`;
}

/** A summary whole, as compared and as ADX's `Flows()` sees it: its group's line, then its row line. */
export function wholeSummaryText(summary: FlowSummary): string {
  return `${serializeGroup(summary)}\n${serializeSummary(summary)}`;
}

/**
 * Summaries as a summary stream: each summary's row line, its group's line before the first row of the
 * group. What `flowlog process` writes for these summaries.
 */
export function summaryLines(summaries: Iterable<FlowSummary>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of summaries) {
    if (!seen.has(s.group)) {
      seen.add(s.group);
      out.push(serializeGroup(s));
    }
    out.push(serializeSummary(s));
  }
  return out;
}

/** A row line whose group line has not been read (yet): the stream is damaged or out of order. */
export class UnknownGroupError extends Error {
  constructor(
    readonly group: string,
    line: string,
  ) {
    super(
      `summary row ${line.slice(0, 48)}… names group ${group}, whose {"group":…} line was not read before it; a summary stream carries each group's line before its rows (read the whole stream, in order)`,
    );
    this.name = 'UnknownGroupError';
  }
}

/**
 * Reads a summary stream back into whole summaries: group lines are kept (by `group`), each row line is
 * joined with its group's fields; the fields a line leaves out (nullable ones that were null) are null
 * again. A contract v2 row (its group's fields in the row, no `group`) is read as it is, with `group` ''.
 * Throws a SyntaxError for text that is not JSON, a TypeError for JSON that is neither kind of line, an
 * UnknownGroupError for a row before its group.
 */
export class SummaryReader {
  private readonly groups = new Map<string, FlowGroup>();

  /** The summary of a row line, or null for a group line (kept for the rows after it). */
  read(line: string): FlowSummary | null {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null)
      throw new TypeError(`not a summary or group line: ${line.slice(0, 80)}`);
    const fields = parsed as Record<string, unknown>;
    if (typeof fields['group'] !== 'string') {
      // A contract v2 row (files written before v3) says everything itself: read as it is.
      if (typeof fields['id'] === 'string' && typeof fields['resourceId'] === 'string') {
        for (const f of SUMMARY_FIELDS) if (f.nullable && fields[f.name] === undefined) fields[f.name] = null;
        fields['group'] = '';
        return fields as unknown as FlowSummary;
      }
      throw new TypeError(`not a summary or group line (no group): ${line.slice(0, 80)}`);
    }
    if (typeof fields['id'] !== 'string') {
      for (const f of GROUP_FIELDS) if (f.nullable && fields[f.name] === undefined) fields[f.name] = null;
      this.groups.set(fields['group'], fields as unknown as FlowGroup);
      return null;
    }
    const group = this.groups.get(fields['group']);
    if (group === undefined) throw new UnknownGroupError(fields['group'], line);
    for (const f of ROW_FIELDS) if (f.nullable && fields[f.name] === undefined) fields[f.name] = null;
    return { ...group, ...fields } as FlowSummary;
  }

  /** The summaries of several lines (blank lines skipped). */
  readAll(lines: Iterable<string>): FlowSummary[] {
    const out: FlowSummary[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      const s = this.read(line);
      if (s !== null) out.push(s);
    }
    return out;
  }
}

/** The summaries of one summary stream (NDJSON text or its lines). */
export function readSummaryLines(text: string | Iterable<string>): FlowSummary[] {
  return new SummaryReader().readAll(typeof text === 'string' ? text.split('\n') : text);
}

/** Something that fills a summary's enrichment fields in place (domain/enrich's SummaryEnricher). */
export interface SummaryEnricherLike {
  enrich(summary: FlowSummary): void;
  /**
   * Set by an enricher whose fields depend only on a row's srcIp, dstIp, dstPort and protocol (as
   * domain/enrich's do): appendRecord then hands it a summary with only those set (no id, window or
   * measure strings are made for it).
   */
  readonly fieldsDependOnAddressesAndPort?: boolean;
}

/**
 * An enricher that gives an address's facts from its bytes (domain/enrich's Enricher): appendRecord then
 * asks each row side for its facts object (no address strings), renders each side once per object, and
 * writes flowType and l7Protocol from a small table of rendered bytes. Must give the fields `enrich`
 * gives. (A cache of rendered fields per (addresses, port, protocol) was tried before this: with cheap
 * sides it saved nothing on repetitive traffic and cost ~0.35 s on an internet-facing NIC's hour, where
 * combinations rarely repeat.)
 */
export interface RowFactsEnricher<F extends RenderedSides = RenderedSides> {
  /** The facts of the ASCII address at b[from, to) (one lookup counted). */
  factsAt(b: Uint8Array, from: number, to: number): F;
  /** Writes what `enrich` writes into a summary with these sides (its dstPort and protocol are set). */
  fillRow(summary: FlowSummary, src: F, dst: F): void;
  flowTypeOf(src: F, dst: F): string;
  l7Of(dstPort: number, protocol: string): string;
  /** `rows` rows were enriched through factsAt. */
  countRows(rows: number): void;
}

function rowFactsOf(enricher: SummaryEnricherLike | null | undefined): RowFactsEnricher | null {
  if (enricher == null || ENRICHMENT_PLAN === null) return null;
  const e = enricher as Partial<RowFactsEnricher>;
  return typeof e.factsAt === 'function' &&
    typeof e.fillRow === 'function' &&
    typeof e.flowTypeOf === 'function' &&
    typeof e.l7Of === 'function' &&
    typeof e.countRows === 'function'
    ? (enricher as unknown as RowFactsEnricher)
    : null;
}

/**
 * Where an encoder keeps the rendered src… and dst… fields of one enricher facts object. The object must
 * never change its fields once handed out (new data: new objects).
 */
export interface RenderedSides {
  srcRendered: Uint8Array | undefined;
  dstRendered: Uint8Array | undefined;
}

/** Where a record read by RecordBytesReader came from: what its summaries' ids and identity fields need. */
export interface RecordPlace {
  /** Blob identity: part of the ids. */
  readonly blob: string;
  /** The rows' `blob` field (blobIdOf(blob)). */
  readonly blobId: string;
  /** Byte offset of the record in the blob: part of the ids, the rows' `recordOffset`. */
  readonly recordOffset: number;
  readonly windowSeconds: number;
}

const utf8 = (text: string) => encoder.encode(text);

/** Fields written per summary by appendRecord, in contract order after `id` and the repeating ones. */
const FAST_KEY_FIELDS = [
  'windowStart',
  'direction',
  'decision',
  'protocol',
  'srcIp',
  'dstIp',
  'dstPort',
] as const;
const FAST_MEASURES = [
  'tuples',
  'flowsStarted',
  'flowsEnded',
  'flowsDenied',
  'packetsSrcToDst',
  'bytesSrcToDst',
  'packetsDstToSrc',
  'bytesDstToSrc',
] as const;

/** VNet only (null for NSG rows). */
const ENCRYPTION_MEASURES = ['flowsEncrypted'] as const;

/**
 * appendRecord writes bytes in a fixed field order; it is only used while the schema has exactly that
 * order (a test checks that it does), so a schema change can never make the two paths disagree.
 */
function fastLayoutMatchesSchema(): boolean {
  const names = ROW_FIELDS.map((f) => f.name);
  const repeating = ROW_FIELDS.filter((f) => f.repeats === true).map((f) => f.name);
  const enrichment = ROW_FIELDS.filter((f) => f.group === 'enrichment').map((f) => f.name);
  const expected = [
    'id',
    ...repeating,
    ...FAST_KEY_FIELDS,
    ...FAST_MEASURES,
    ...ENCRYPTION_MEASURES,
    ...enrichment,
  ];
  const kinds = ROW_FIELDS.filter((f) => (FAST_MEASURES as readonly string[]).includes(f.name)).every(
    (f) => f.kind === 'long' || f.kind === 'int',
  );
  return kinds && expected.length === names.length && expected.every((n, i) => n === names[i]);
}

/** True when NdjsonEncoder.appendRecord may be used (the schema has the order it writes). */
export const FAST_RECORD_PATH = fastLayoutMatchesSchema();

const MIDDLE_NAMES = ['windowStart', 'direction', 'decision', 'protocol', 'srcIp'].map((n) =>
  JSON.stringify(n),
);
const DIRECTION_NAMES = ['Inbound', 'Outbound'] as const;
const DECISION_NAMES = ['Allow', 'Deny'] as const;

/** Straight-line stores of an ASCII literal at b[o...] (generated: no loop, no source array). */
function storeCode(text: string): string {
  const bytes = utf8(text);
  return `${Array.from(bytes, (v, i) => `b[o + ${i}] = ${v};`).join(' ')} o += ${bytes.length};`;
}
type WriteLiteral = (b: Uint8Array, o: number) => number;
const writeIdOpen = new Function('b', 'o', `${storeCode('{"id":"')} return o;`) as WriteLiteral;
const writeDstOpen = new Function(
  'b',
  'o',
  `${storeCode(`",${JSON.stringify('dstIp')}:"`)} return o;`,
) as WriteLiteral;
type WriteNumbers = (
  b: Uint8Array,
  o: number,
  port: number,
  sums: Float64Array,
  at: number,
  putInt: (b: Uint8Array, o: number, v: number) => number,
  putNumber: (b: Uint8Array, o: number, v: number) => number,
) => number;
/** `","dstPort":443,"tuples":7,…,"bytesDstToSrc":316033` from the port and the eight sums. */
const writeNumbers = new Function(
  'b',
  'o',
  'port',
  'sums',
  'at',
  'putInt',
  'putNumber',
  `${storeCode(`",${JSON.stringify('dstPort')}:`)} o = putInt(b, o, port);
  ${FAST_MEASURES.map((m, k) => `${storeCode(`,${JSON.stringify(m)}:`)} o = putNumber(b, o, sums[at + ${k}]);`).join('\n  ')}
  return o;`,
) as WriteNumbers;

interface Middle {
  readonly out: Uint8Array;
  readonly id: Uint8Array;
}
const UNIT = 0x1f;
/** A row without enrichment ends here: every enrichment field is null, so none is written. */
const NULL_ENRICHMENT_TAIL = utf8('}\n');
/** `,"flowsEncrypted":` (VNet rows). */
const ENCRYPTED_OPEN = utf8(`,${JSON.stringify(ENCRYPTION_MEASURES[0])}:`);
const ENRICHMENT_FIELDS = SUMMARY_FIELDS.filter((f) => f.group === 'enrichment');
type RenderEnrichment = (s: FlowSummary, str: (v: unknown) => string, num: (v: unknown) => string) => string;
const renderEnrichment = new Function(
  's',
  'str',
  'num',
  `return ${ENRICHMENT_FIELDS.map((f) => fieldExpression(f)).join(' + ') || "''"} + '}\\n';`,
) as RenderEnrichment;

/** The enrichment fields of one side (src… or dst…) as last rendered for an address. */
interface SideMemo {
  values: unknown[];
  bytes: Uint8Array;
}

interface SidePlan {
  readonly same: (s: FlowSummary, memo: SideMemo) => boolean;
  readonly remember: (s: FlowSummary, memo: SideMemo) => void;
  readonly render: Render;
}

/**
 * The enrichment fields in three runs, in schema order: the src… fields, the dst… fields, the rest
 * (flowType, l7Protocol). Null when the schema is not laid out that way (then rows render in one go).
 */
const ENRICHMENT_PLAN = (() => {
  const names = ENRICHMENT_FIELDS.map((f) => f.name as string);
  const srcCount = names.findIndex((n) => !n.startsWith('src'));
  const dstCount = names.slice(srcCount).findIndex((n) => !n.startsWith('dst'));
  if (srcCount <= 0 || dstCount <= 0) return null;
  if (names.slice(srcCount + dstCount).some((n) => n.startsWith('src') || n.startsWith('dst'))) return null;
  const run = (from: number, to: number) => ENRICHMENT_FIELDS.slice(from, to);
  const renderOf = (fields: typeof ENRICHMENT_FIELDS) =>
    new Function(
      's',
      'str',
      'num',
      `return ${fields.map((f) => fieldExpression(f)).join(' + ') || "''"};`,
    ) as Render;
  const side = (fields: typeof ENRICHMENT_FIELDS): SidePlan => ({
    same: new Function(
      's',
      'memo',
      `return ${fields.map((f, k) => `s.${f.name} === memo.values[${k}]`).join(' && ')};`,
    ) as SidePlan['same'],
    remember: new Function(
      's',
      'memo',
      fields.map((f, k) => `memo.values[${k}] = s.${f.name};`).join(' '),
    ) as SidePlan['remember'],
    render: renderOf(fields),
  });
  return {
    src: side(run(0, srcCount)),
    dst: side(run(srcCount, srcCount + dstCount)),
    rest: renderOf(run(srcCount + dstCount, names.length)),
  };
})();

const SIDE_MEMO_LIMIT = 200_000;

function sideBytes(
  memos: Map<string, SideMemo>,
  address: string,
  s: FlowSummary,
  plan: SidePlan,
): Uint8Array {
  let memo = memos.get(address);
  if (memo !== undefined && plan.same(s, memo)) return memo.bytes;
  if (memo === undefined) {
    if (memos.size >= SIDE_MEMO_LIMIT) memos.clear();
    memo = { values: [], bytes: new Uint8Array(0) };
    memos.set(address, memo);
  }
  plan.remember(s, memo);
  memo.bytes = utf8(plan.render(s, strFn, numFn));
  return memo.bytes;
}

/** accCode bits (RecordBytesReader): outbound, deny. */
const CODE_OUT = 1 << 24;
const CODE_DENIED = 1 << 25;

/** Per flow group of the record being written: the id seed's hash state and the repeating segment. */
interface GroupOut {
  readonly rule: string;
  readonly mac: string;
  readonly acl: string | null;
  readonly groupId: string;
  readonly prefix: MurmurPrefix;
  readonly repeat: Uint8Array;
}

const TWO_53 = 2 ** 53;

/**
 * NDJSON straight into bytes: the same lines as serializeSummary + "\n". `append` renders a summary
 * object (the repeating segment copied as pre-encoded bytes); `appendRecord` writes the summaries of a
 * record read by RecordBytesReader without building summary objects or id strings at all.
 */
export class NdjsonEncoder {
  private buffer: Uint8Array;
  private length = 0;
  private readonly memo: RepeatMemo = { text: '', bytes: new Uint8Array(0), values: [] };
  private readonly spare: Uint8Array[] = [];
  private readonly initialBytes: number;
  /** Id text after the seed: U window U direction U decision U protocol U src U dst U port. */
  private idText = new Uint8Array(512);
  private readonly middles = new Map<number, Middle>();
  private readonly addresses = new AddressStrings();
  private readonly srcSides = new Map<string, SideMemo>();
  private readonly dstSides = new Map<string, SideMemo>();
  private readonly restBytes = new Map<string | null, Map<string | null, Uint8Array>>();
  /** The summary handed to an enricher by appendRecord, reused for every row. */
  private scratch: FlowSummary | undefined;
  /** Groups whose line is in the buffer since the last take: each taken piece carries its groups' lines. */
  private readonly groupsWritten = new Set<string>();
  /** Group lines by group id (the same group recurs in every record of a blob). */
  private readonly groupLines = new Map<string, Uint8Array>();

  constructor(initialBytes = 1 << 20) {
    this.initialBytes = initialBytes;
    this.buffer = new Uint8Array(initialBytes);
  }

  get byteLength(): number {
    return this.length;
  }

  append(summary: FlowSummary): void {
    if (!this.groupsWritten.has(summary.group)) {
      this.groupsWritten.add(summary.group);
      this.writeText(`${serializeGroup(summary)}\n`);
    }
    repeated(summary, this.memo);
    this.writeText(compiled.head(summary, strFn, numFn));
    this.reserve(this.memo.bytes.length);
    this.buffer.set(this.memo.bytes, this.length);
    this.length += this.memo.bytes.length;
    this.writeText(`${compiled.tail(summary, strFn, numFn)}}\n`);
  }

  /**
   * The bytes appended since the last take; the encoder starts empty again. The view stays valid until
   * it is handed back with `recycle` (callers that never recycle get a fresh buffer every time).
   */
  take(): Uint8Array {
    const out = this.buffer.subarray(0, this.length);
    this.buffer = this.spare.pop() ?? new Uint8Array(Math.max(this.initialBytes, this.buffer.length));
    this.length = 0;
    this.groupsWritten.clear();
    return out;
  }

  /** Gives a buffer returned by `take` back once it has been written, so it is reused. */
  recycle(taken: Uint8Array): void {
    const whole = new Uint8Array(taken.buffer, taken.byteOffset, taken.buffer.byteLength - taken.byteOffset);
    if (taken.byteOffset === 0 && this.spare.length < 4) this.spare.push(whole);
  }

  /**
   * Writes the summaries of the record `reader` last read (read returned true), with the same bytes and
   * ids the general path (aggregateRecord → append) gives. With an enricher, each row is handed to it
   * as one reused summary object (filled with the row's values; enrichers must not keep it). Returns the
   * number of summaries written.
   */
  appendRecord(reader: AggregatedRecord, place: RecordPlace, enricher?: SummaryEnricherLike | null): number {
    // (not LOG_TYPE_OF[layout]: a keyed load that deoptimizes when the second layout shows up)
    const logType = reader.layout === 'vnet-v4' ? 'vnet' : 'nsg';
    const b = reader.bytes;
    const rowFacts = rowFactsOf(enricher);
    let written = 0;
    for (let g = 0; g < reader.groupCount; g++) {
      let a = reader.groupFirst[g]!;
      if (a < 0) continue;
      const out = this.groupOut(reader, g, place, logType);
      if (!this.groupsWritten.has(out.groupId)) this.writeGroupLine(out.groupId);
      for (; a >= 0; a = reader.accNext[a]!) {
        const code = reader.accCode[a]!;
        const windowStart = reader.accWindow[a]!;
        const src = reader.accSrc[a]!;
        const srcEnd = reader.accSrcEnd[a]!;
        const dstEnd = reader.accDstEnd[a]!;
        const dstPort = code & 0xffff;
        const proto = (code >>> 16) & 255;
        const dirDec = ((code >>> 23) & 2) | ((code >>> 25) & 1);
        const sums = reader.sums;
        const o8 = a * SUM_STRIDE;

        const mid = this.middleOf(windowStart, dirDec, proto);

        // The id: murmur over seed U window U direction U decision U protocol U src U dst U port.
        let idText = this.idText;
        if (idText.length < 128 + (dstEnd - src)) {
          idText = new Uint8Array(256 + 2 * (dstEnd - src));
          this.idText = idText;
        }
        let n = put(idText, 0, mid.id);
        for (let k = src; k < srcEnd; k++) idText[n++] = b[k]!;
        idText[n++] = UNIT;
        for (let k = srcEnd + 1; k < dstEnd; k++) idText[n++] = b[k]!;
        idText[n++] = UNIT;
        n = putInt(idText, n, dstPort);

        this.reserve(out.repeat.length + mid.out.length + (dstEnd - src) + 1024);
        const buf = this.buffer;
        let o = writeIdOpen(buf, this.length);
        const idAt = o;
        murmur128HexInto(idText, 0, n, out.prefix, buf, o);
        o += 32;
        buf[o++] = QUOTE;
        buf.set(out.repeat, o);
        o += out.repeat.length;
        buf.set(mid.out, o);
        o += mid.out.length;
        for (let k = src; k < srcEnd; k++) buf[o++] = b[k]!;
        o = writeDstOpen(buf, o);
        for (let k = srcEnd + 1; k < dstEnd; k++) buf[o++] = b[k]!;
        o = writeNumbers(buf, o, dstPort, sums, o8, putInt, putNumber);
        if (logType === 'vnet') {
          o = put(buf, o, ENCRYPTED_OPEN);
          o = putNumber(buf, o, sums[o8 + 8]!);
        }
        this.length = o;
        if (rowFacts !== null) {
          this.writeRowFacts(rowFacts, b, src, srcEnd, dstEnd, dstPort, RecordBytesReader.protocolOf(code));
        } else if (enricher?.fieldsDependOnAddressesAndPort) {
          const s = this.fillAddressesAndPort(reader, a);
          enricher.enrich(s);
          this.writeEnrichment(s);
        } else if (enricher) {
          const s = this.fillScratch(reader, a, place, logType, out, hexText(buf, idAt));
          enricher.enrich(s);
          this.writeEnrichment(s);
        } else {
          this.reserve(NULL_ENRICHMENT_TAIL.length);
          this.buffer.set(NULL_ENRICHMENT_TAIL, this.length);
          this.length += NULL_ENRICHMENT_TAIL.length;
        }
        written++;
      }
    }
    if (rowFacts !== null && written > 0) rowFacts.countRows(written);
    return written;
  }

  /**
   * The reused summary handed to an enricher whose fields depend only on a row's addresses, port and
   * protocol (SummaryEnricherLike.fieldsDependOnAddressesAndPort): only those are set (no id, window or
   * measure strings are made for it).
   */
  private fillAddressesAndPort(reader: AggregatedRecord, a: number): FlowSummary {
    const s = this.scratchSummary();
    const b = reader.bytes;
    const code = reader.accCode[a]!;
    const srcEnd = reader.accSrcEnd[a]!;
    s.protocol = RecordBytesReader.protocolOf(code);
    s.srcIp = this.addresses.text(b, reader.accSrc[a]!, srcEnd);
    s.dstIp = this.addresses.text(b, srcEnd + 1, reader.accDstEnd[a]!);
    s.dstPort = code & 0xffff;
    return s;
  }

  /** The reused summary handed to enrichers, filled with row `a` of `reader`. */
  private fillScratch(
    reader: AggregatedRecord,
    a: number,
    place: RecordPlace,
    logType: 'nsg' | 'vnet',
    group: {
      readonly rule: string;
      readonly mac: string;
      readonly acl: string | null;
      readonly groupId: string;
    },
    id: string,
  ): FlowSummary {
    const s = this.scratchSummary();
    const b = reader.bytes;
    const code = reader.accCode[a]!;
    const srcEnd = reader.accSrcEnd[a]!;
    const sums = reader.sums;
    const o8 = a * SUM_STRIDE;
    s.id = id;
    s.group = group.groupId;
    s.blob = place.blobId;
    s.recordOffset = place.recordOffset;
    s.recordTime = reader.time;
    s.windowStart = isoSeconds(reader.accWindow[a]!);
    s.windowSeconds = place.windowSeconds;
    s.logType = logType;
    s.resourceId = reader.resourceId;
    s.aclId = group.acl;
    s.macAddress = group.mac;
    s.rule = group.rule;
    s.direction = code & CODE_OUT ? 'Outbound' : 'Inbound';
    s.decision = code & CODE_DENIED ? 'Deny' : 'Allow';
    s.protocol = RecordBytesReader.protocolOf(code);
    s.srcIp = this.addresses.text(b, reader.accSrc[a]!, srcEnd);
    s.dstIp = this.addresses.text(b, srcEnd + 1, reader.accDstEnd[a]!);
    s.dstPort = code & 0xffff;
    s.tuples = sums[o8]!;
    s.flowsStarted = sums[o8 + 1]!;
    s.flowsEnded = sums[o8 + 2]!;
    s.flowsDenied = sums[o8 + 3]!;
    s.packetsSrcToDst = sums[o8 + 4]!;
    s.bytesSrcToDst = sums[o8 + 5]!;
    s.packetsDstToSrc = sums[o8 + 6]!;
    s.bytesDstToSrc = sums[o8 + 7]!;
    s.flowsEncrypted = logType === 'vnet' ? sums[o8 + 8]! : null;
    return s;
  }

  private groupOut(
    reader: AggregatedRecord,
    g: number,
    place: RecordPlace,
    logType: 'nsg' | 'vnet',
  ): GroupOut {
    const rule = reader.groupRule[g]!;
    const mac = reader.groupMac[g]!;
    const acl = reader.groupAcl[g]!;
    const seed = groupSeed(
      place.blob,
      place.recordOffset,
      place.windowSeconds,
      logType,
      reader.resourceId,
      acl,
      mac,
      rule,
    );
    const seedBytes = utf8(seed);
    const groupId = flowGroupId(
      SUMMARY_SCHEMA_VERSION,
      place.blobId,
      place.windowSeconds,
      logType,
      reader.resourceId,
      acl,
      mac,
      rule,
    );
    if (!this.groupLines.has(groupId)) {
      if (this.groupLines.size >= 4096) this.groupLines.clear();
      const line: FlowGroup = {
        group: groupId,
        schemaVersion: SUMMARY_SCHEMA_VERSION,
        blob: place.blobId,
        windowSeconds: place.windowSeconds,
        logType,
        resourceId: reader.resourceId,
        aclId: acl,
        macAddress: mac,
        rule,
      };
      this.groupLines.set(groupId, utf8(`${serializeGroup(line)}\n`));
    }
    const template = {
      group: groupId,
      recordOffset: place.recordOffset,
      recordTime: reader.time,
    } as unknown as FlowSummary;
    return {
      rule,
      mac,
      acl,
      groupId,
      prefix: murmurPrefix(seedBytes, 0, 32),
      repeat: utf8(compiled.repeat(template, strFn, numFn)),
    };
  }

  /** The group's line, before its first row since the last take. */
  private writeGroupLine(groupId: string): void {
    const line = this.groupLines.get(groupId)!;
    this.reserve(line.length);
    this.length = put(this.buffer, this.length, line);
    this.groupsWritten.add(groupId);
  }

  /**
   * The parts of a row between the repeating segment and the source address, which depend only on
   * (window, direction, decision, protocol): `,"windowStart":…,"protocol":"TCP","srcIp":"` for the row,
   * and U window U direction U decision U protocol U for the id.
   */
  private middleOf(windowStart: number, dirDec: number, proto: number): Middle {
    const key = windowStart * 1024 + dirDec * 256 + proto;
    let m = this.middles.get(key);
    if (m === undefined) {
      if (this.middles.size > 4096) this.middles.clear();
      const protocol = RecordBytesReader.protocolOf(proto << 16);
      const direction = DIRECTION_NAMES[dirDec >> 1]!;
      const decision = DECISION_NAMES[dirDec & 1]!;
      const names = MIDDLE_NAMES;
      m = {
        out: utf8(
          `,${names[0]}:${str(isoSeconds(windowStart))},${names[1]}:${str(direction)},${names[2]}:${str(decision)},${names[3]}:${str(protocol)},${names[4]}:"`,
        ),
        id: utf8(`\u001f${windowStart}\u001f${direction}\u001f${decision}\u001f${protocol}\u001f`),
      };
      this.middles.set(key, m);
    }
    return m;
  }

  /**
   * The enrichment fields of an enriched row and the line end. The per-side fields depend only on the
   * address, so their bytes are kept per address and reused while the enricher gives the same values
   * (compared with ===; enrichers hand out the same cached strings for an address).
   */
  private writeEnrichment(s: FlowSummary): void {
    if (ENRICHMENT_PLAN === null) {
      this.writeText(renderEnrichment(s, strFn, numFn));
      return;
    }
    const plan = ENRICHMENT_PLAN;
    const src = sideBytes(this.srcSides, s.srcIp, s, plan.src);
    const dst = sideBytes(this.dstSides, s.dstIp, s, plan.dst);
    const byFlow = this.restRow(s.flowType);
    let rest = byFlow.get(s.l7Protocol);
    if (rest === undefined) {
      rest = utf8(`${plan.rest(s, strFn, numFn)}}\n`);
      byFlow.set(s.l7Protocol, rest);
    }
    this.putEnrichment(src, dst, rest);
  }

  /** The rendered `flowType…l7Protocol` + line end of one flowType, by l7Protocol. */
  private restRow(flowType: string | null): Map<string | null, Uint8Array> {
    let byFlow = this.restBytes.get(flowType);
    if (byFlow === undefined) {
      byFlow = new Map();
      this.restBytes.set(flowType, byFlow);
    }
    return byFlow;
  }

  /** Appends a row's enrichment: both sides and the rest (with the line end). */
  private putEnrichment(src: Uint8Array, dst: Uint8Array, rest: Uint8Array): void {
    this.reserve(src.length + dst.length + rest.length);
    let o = this.length;
    const buf = this.buffer;
    o = put(buf, o, src);
    o = put(buf, o, dst);
    o = put(buf, o, rest);
    this.length = o;
  }

  /**
   * The enrichment fields and line end of a row, from the facts of its two addresses: each side's bytes
   * kept on its facts object, flowType + l7Protocol from a table by the two values (RowFactsEnricher).
   */
  private writeRowFacts(
    rf: RowFactsEnricher,
    b: Uint8Array,
    src: number,
    srcEnd: number,
    dstEnd: number,
    dstPort: number,
    protocol: string,
  ): void {
    const plan = ENRICHMENT_PLAN!;
    const srcFacts = rf.factsAt(b, src, srcEnd);
    const dstFacts = rf.factsAt(b, srcEnd + 1, dstEnd);
    let srcBytes = srcFacts.srcRendered;
    let dstBytes = dstFacts.dstRendered;
    const flowType = rf.flowTypeOf(srcFacts, dstFacts);
    const l7 = rf.l7Of(dstPort, protocol);
    const byFlow = this.restRow(flowType);
    let rest = byFlow.get(l7);
    if (srcBytes === undefined || dstBytes === undefined || rest === undefined) {
      const s = this.scratchSummary();
      s.dstPort = dstPort;
      s.protocol = protocol;
      rf.fillRow(s, srcFacts, dstFacts);
      if (srcBytes === undefined) {
        srcBytes = utf8(plan.src.render(s, strFn, numFn));
        srcFacts.srcRendered = srcBytes;
      }
      if (dstBytes === undefined) {
        dstBytes = utf8(plan.dst.render(s, strFn, numFn));
        dstFacts.dstRendered = dstBytes;
      }
      if (rest === undefined) {
        rest = utf8(`${plan.rest(s, strFn, numFn)}}\n`);
        byFlow.set(l7, rest);
      }
    }
    this.putEnrichment(srcBytes, dstBytes, rest);
  }

  private scratchSummary(): FlowSummary {
    if (this.scratch === undefined) {
      this.scratch = blankSummary({ logType: 'nsg', direction: 'Inbound', decision: 'Allow' });
    }
    return this.scratch;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  private writeText(text: string): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    this.reserve(text.length * 3);
    this.length += encoder.encodeInto(text, this.buffer.subarray(this.length)).written;
  }
}

const QUOTE = 0x22;

/** The 32 hex characters of an id written at b[o...], as a string (one call, no copy of the bytes). */
const hexText = new Function(
  'b',
  'o',
  `return String.fromCharCode(${Array.from({ length: 32 }, (_, i) => `b[o + ${i}]`).join(', ')});`,
) as (b: Uint8Array, o: number) => string;

/** Slots of AddressStrings (only enrichers without factsAt use it: tests and custom ones). */
const ADDRESS_SLOTS = 4096;

/**
 * Strings of the ASCII addresses met in records, so that a row's srcIp/dstIp string is built once per
 * address rather than once per row (and the enricher's cache sees the same string objects). A
 * direct-mapped table: a slot holds the last address that hashed to it.
 */
class AddressStrings {
  private readonly texts: string[] = new Array<string>(ADDRESS_SLOTS).fill('');
  private readonly bytes: Uint8Array = new Uint8Array(ADDRESS_SLOTS * 48);

  text(b: Uint8Array, start: number, end: number): string {
    const n = end - start;
    if (n > 47) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
    let h = 0x811c9dc5 | 0;
    for (let k = start; k < end; k++) h = Math.imul(h ^ b[k]!, 16777619);
    const slot = (h ^ (h >>> 15)) & (ADDRESS_SLOTS - 1);
    const at = slot * 48;
    const cache = this.bytes;
    let same = cache[at] === n;
    for (let k = 0; same && k < n; k++) same = cache[at + 1 + k] === b[start + k];
    if (same) return this.texts[slot]!;
    const text = String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
    cache[at] = n;
    for (let k = 0; k < n; k++) cache[at + 1 + k] = b[start + k]!;
    this.texts[slot] = text;
    return text;
  }
}

function put(dst: Uint8Array, at: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 16) {
    dst.set(src, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
  return at + n;
}

/** "00" … "99" as byte pairs: two digits per division. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 0x30 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 0x30 + (i % 10);
}

/** Number of decimal digits of a whole number 0 ≤ v < 2^53. */
function digitCount(v: number): number {
  if (v < 1e5) return v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : 5;
  if (v < 1e10) return v < 1e6 ? 6 : v < 1e7 ? 7 : v < 1e8 ? 8 : v < 1e9 ? 9 : 10;
  let n = 10;
  for (let t = 1e10; v >= t; t *= 10) n++;
  return n;
}

/** Decimal digits of a whole number 0 ≤ v < 2^53 (what String(v) gives), written from the right. */
function putInt(dst: Uint8Array, at: number, value: number): number {
  let v = value;
  if (v < 10) {
    dst[at] = 0x30 + v;
    return at + 1;
  }
  const end = at + digitCount(v);
  let o = end;
  while (v > 0x7fffffff) {
    const q = Math.floor(v / 100);
    const r = 2 * (v - q * 100);
    dst[--o] = DIGIT_PAIRS[r + 1]!;
    dst[--o] = DIGIT_PAIRS[r]!;
    v = q;
  }
  while (v >= 100) {
    const q = (v / 100) | 0;
    const r = 2 * (v - q * 100);
    dst[--o] = DIGIT_PAIRS[r + 1]!;
    dst[--o] = DIGIT_PAIRS[r]!;
    v = q;
  }
  if (v >= 10) {
    dst[--o] = DIGIT_PAIRS[2 * v + 1]!;
    dst[--o] = DIGIT_PAIRS[2 * v]!;
  } else dst[--o] = 0x30 + v;
  return end;
}

/** A measure as num() renders it. */
function putNumber(dst: Uint8Array, at: number, v: number): number {
  if (v >= 0 && v < TWO_53 && Math.floor(v) === v) return putInt(dst, at, v);
  const text = num(v);
  for (let i = 0; i < text.length; i++) dst[at + i] = text.charCodeAt(i);
  return at + text.length;
}
