import { type FieldKind, type FlowSummary, SUMMARY_FIELDS } from './schema';

/**
 * The summary serializer, generated from SUMMARY_FIELDS: one line of JSON per summary, fields in contract
 * order. It is the NDJSON line of `flowlog process` and the Event Hubs message body ADX ingests.
 *
 * Why generated: a loop over field names does one megamorphic keyed load per field, which made rendering
 * cost more than parsing and aggregating together. The generated function reads each field by name. The
 * fields marked `repeats` (blob, resource id, rule, ...) are the same for every summary of one flow
 * group and most of a row's bytes, so their rendering is reused while they stay identical (===).
 */

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]*$/;

function renderExpression(name: string, kind: FieldKind): string {
  if (!IDENTIFIER.test(name)) throw new Error(`schema: field name "${name}" is not a plain identifier`);
  return kind === 'string' || kind === 'datetime' ? `str(s.${name})` : `num(s.${name})`;
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

interface RepeatMemo {
  text: string;
  values: unknown[];
}

type Serializer = (
  s: FlowSummary,
  memo: RepeatMemo,
  str: (v: unknown) => string,
  num: (v: unknown) => string,
) => string;

function compile(): Serializer {
  const repeating = SUMMARY_FIELDS.map((f, i) => ({ f, i })).filter(({ f }) => 'repeats' in f && f.repeats);
  const first = repeating[0]?.i ?? SUMMARY_FIELDS.length;
  const last = repeating[repeating.length - 1]?.i ?? first - 1;
  if (repeating.length !== last - first + 1)
    throw new Error('schema: fields marked repeats must be contiguous');
  const part = (i: number) => {
    const f = SUMMARY_FIELDS[i]!;
    return `${JSON.stringify(`${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`)} + ${renderExpression(f.name, f.kind)}`;
  };
  const head = SUMMARY_FIELDS.slice(0, first).map((_, i) => part(i));
  const repeat = repeating.map(({ i }) => part(i));
  const tail = SUMMARY_FIELDS.slice(last + 1).map((_, k) => part(last + 1 + k));
  const same = repeating.map(({ f }, k) => `s.${f.name} === memo.values[${k}]`).join(' && ');
  const remember = repeating.map(({ f }, k) => `memo.values[${k}] = s.${f.name};`).join(' ');
  const body = `
    if (!(memo.text !== '' && ${same || 'true'})) {
      memo.text = ${repeat.length > 0 ? repeat.join(' + ') : "''"};
      ${remember}
    }
    return ${head.length > 0 ? head.join(' + ') : "''"} + memo.text + ${tail.length > 0 ? tail.join(' + ') : "''"} + '}';`;
  return new Function('s', 'memo', 'str', 'num', body) as Serializer;
}

const serializer = compile();
const memo: RepeatMemo = { text: '', values: [] };

export function serializeSummary(summary: FlowSummary): string {
  return serializer(summary, memo, str as (v: unknown) => string, num as (v: unknown) => string);
}
