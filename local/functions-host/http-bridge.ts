/**
 * HTTP triggers: route matching (`api/` prefix, `{param}`, `{param?}`, `{param:constraint}`,
 * `{*rest}`), the RpcHttpData the worker receives, and the response the function returned.
 */
import type { CapturedRegistration } from './core-shim';
import { triggerOf } from './invoke';
import type { RpcHttpData, RpcInvocationResponse } from './rpc-types';

export const routePrefix = 'api';

export interface HostHttpRequest {
  method?: string;
  /** A path ("/api/orders/1?x=y") or an absolute URL. */
  url: string;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /**
   * The key an in-process caller calls with: omitted, the master key (tests call as an admin); `null`,
   * only what the headers (`x-functions-key`) or the query (`code`) carry, as from the network.
   */
  key?: string | null;
}

/** The keys the host accepts, as a Functions app's host and function keys. */
export interface FunctionKeys {
  /** The master (admin) key: every authorization level. */
  readonly master: string;
  /** A function key: `function` level (Azure also accepts host keys there; the master key counts). */
  readonly function: string;
}

export const LOCAL_KEYS: FunctionKeys = { master: 'local-master-key', function: 'local-function-key' };

/**
 * Whether a request may call a function of this authorization level, as the Functions host decides:
 * `anonymous` needs nothing, `function` a function or master key, `admin` the master key. Undefined when
 * it may; otherwise why not (answered with 401).
 */
export function authorizationProblem(
  authLevel: string,
  keys: FunctionKeys,
  presented: string | undefined,
): string | undefined {
  const level = authLevel.toLowerCase();
  if (level === 'anonymous') return undefined;
  if (presented === undefined || presented === '')
    return `this function's authLevel is ${level}: send a key in x-functions-key or ?code=`;
  if (presented === keys.master) return undefined;
  if (level === 'function' && presented === keys.function) return undefined;
  return level === 'admin'
    ? 'this function needs the master (admin) key'
    : 'the key is not a key of this function app';
}

/** The authLevel of an HTTP trigger's binding (`function` when unset, as the host's default). */
export function authLevelOf(registration: CapturedRegistration): string {
  const level = triggerOf(registration).binding['authLevel'];
  return typeof level === 'string' ? level : 'function';
}

export interface HostHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text(): string;
  json(): unknown;
}

export function httpResponse(
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): HostHttpResponse {
  return {
    status,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')),
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface CompiledRoute {
  readonly regex: RegExp;
  readonly names: string[];
}

/** Compiles an ASP.NET-style route template into a regex over the path after the `api/` prefix. */
export function compileRoute(template: string): CompiledRoute {
  const names: string[] = [];
  let pattern = '';
  for (const segment of template.replace(/^\/+|\/+$/g, '').split('/')) {
    const optional = /^\{([A-Za-z0-9_]+)(?::[^}]*)?\?\}$/.exec(segment);
    if (optional?.[1] !== undefined) {
      names.push(optional[1]);
      pattern += '(?:/([^/]*))?';
      continue;
    }
    let part = '';
    let rest = segment;
    for (;;) {
      const param = /\{(\*?)([A-Za-z0-9_]+)(?::[^}]*)?\??\}/.exec(rest);
      if (param === null) break;
      part += escapeRegex(rest.slice(0, param.index));
      names.push(param[2] ?? '');
      part += param[1] === '*' ? '(.*)' : '([^/]+)';
      rest = rest.slice(param.index + param[0].length);
    }
    pattern += `/${part}${escapeRegex(rest)}`;
  }
  return { regex: new RegExp(`^${pattern}/?$`, 'i'), names };
}

export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const match = route.regex.exec(path);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  route.names.forEach((name, i) => {
    const value = match[i + 1];
    if (value !== undefined && value !== '') params[name] = decodeURIComponent(value);
  });
  return params;
}

/** The route of an HTTP-triggered function (its name when none was given) and its methods. */
export function httpRouteOf(registration: CapturedRegistration): { route: CompiledRoute; methods: string[] } {
  const binding = triggerOf(registration).binding;
  const template = typeof binding['route'] === 'string' ? binding['route'] : registration.metadata.name;
  const methods = Array.isArray(binding['methods'])
    ? binding['methods'].filter((m): m is string => typeof m === 'string').map((m) => m.toUpperCase())
    : ['GET', 'POST'];
  return { route: compileRoute(template), methods };
}

export function requestBodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

export function rpcHttpRequest(
  method: string,
  url: URL,
  headers: Record<string, string>,
  params: Record<string, string>,
  body: Buffer | undefined,
): RpcHttpData {
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const data: RpcHttpData = { method, url: url.href, headers, query, params };
  if (body !== undefined && body.length > 0) data.body = { bytes: new Uint8Array(body) };
  return data;
}

/** The HTTP response an HTTP-triggered function produced (its `$return` or an http output binding). */
export function responseFromInvocation(response: RpcInvocationResponse): HostHttpResponse {
  const http =
    response.returnValue?.http ??
    response.outputData?.find((o) => o.data.http !== undefined && o.data.http !== null)?.data.http;
  if (http === undefined || http === null) return httpResponse(204, {}, Buffer.alloc(0));
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(http.headers ?? {})) headers[key.toLowerCase()] = value;
  const body = http.body;
  let bytes = Buffer.alloc(0);
  if (body?.bytes) bytes = Buffer.from(body.bytes);
  else if (typeof body?.string === 'string') bytes = Buffer.from(body.string, 'utf8');
  return httpResponse(Number(http.statusCode ?? 200), headers, bytes);
}
