/** Conversions between plain values and the worker's RpcTypedData, as the host side does them. */
import type { RpcTypedData } from './rpc-types';

/** A value the host hands to a binding; strings go as `string`, so the library JSON-parses them if it can. */
export function toTypedData(value: unknown): RpcTypedData {
  if (value === undefined) return {};
  if (typeof value === 'string') return { string: value };
  if (Buffer.isBuffer(value)) return { bytes: value };
  if (value instanceof Uint8Array) return { bytes: value };
  return { json: JSON.stringify(value) };
}

/**
 * A value the worker returned. A `string` stays a string (the .NET host does not JSON-parse return
 * strings), `json` is parsed, numbers stay numbers.
 */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (data === null || data === undefined) return undefined;
  if (typeof data.string === 'string') return data.string;
  if (typeof data.json === 'string') return JSON.parse(data.json);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (typeof data.int === 'number') return data.int;
  if (typeof data.double === 'number') return data.double;
  if (data.http) return data.http;
  return undefined;
}

/** JSON text of a value for durable history payloads; `undefined` is recorded as "null". */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

export function parseJsonText(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  return JSON.parse(text);
}
