/**
 * A loopback stand-in for the two Azure Resource Manager APIs the enrichment refreshes call, answering in
 * the shapes of their published examples (azure-rest-api-specs):
 *   - Resource Graph `POST /providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01`
 *     (ResourcesFirstPageQuery / ResourcesNextPageQuery: `totalRecords`, `count`, `resultTruncated`,
 *     `facets`, `$skipToken`, `data`), paged by `options.$top` / `options.$skipToken`, filtered by
 *     `subscriptions` when given;
 *   - Service Tag Discovery `GET /subscriptions/{id}/providers/Microsoft.Network/locations/{location}/
 *     serviceTags?api-version=…` (ServiceTagsList: `name`, `id`, `type`, `changeNumber` and per-tag
 *     `changeNumber` as strings, `cloud`, `values`, `nextLink`).
 * It checks the bearer token (LOCAL_ARM_TOKEN), answers ARM's error body `{error: {code, message}}`, and
 * can be told to throttle (429 with Retry-After) or fail the next requests. Used by tests and by hand.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ARM_TOKEN } from '../adapters/enrichment/arm';

export interface FakeArmResource {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly subscriptionId: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface FakeServiceTag {
  readonly name: string;
  readonly region?: string;
  readonly systemService?: string;
  readonly changeNumber?: number;
  readonly addressPrefixes: readonly string[];
}

export interface FakeArmRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly authorization: string | undefined;
  /** The status answered. */
  status: number;
}

export interface FakeArmOptions {
  readonly resources?: readonly FakeArmResource[];
  /** Rows per Resource Graph page when the request gives no `$top` (Azure: 100; tests: small). */
  readonly graphPageSize?: number;
  readonly serviceTags?: {
    readonly changeNumber: number;
    readonly cloud?: string;
    readonly values: readonly FakeServiceTag[];
  };
  /** Tags per Discovery API page (nextLink after each but the last). */
  readonly tagsPageSize?: number;
}

interface Fault {
  readonly status: number;
  readonly retryAfter?: string;
  readonly match?: RegExp;
}

export class FakeArm {
  readonly requests: FakeArmRequest[] = [];
  private readonly faults: Fault[] = [];
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    private options: FakeArmOptions,
  ) {}

  static async start(options: FakeArmOptions = {}): Promise<FakeArm> {
    let self: FakeArm | undefined;
    const server = createServer((req, res) => {
      self?.handle(req, res).catch((e: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { code: 'InternalServerError', message: String(e) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    self = new FakeArm(server, `http://127.0.0.1:${port}`, options);
    return self;
  }

  /** Replaces what the APIs answer from now on (a new topology, a new week's tags). */
  setData(options: Partial<FakeArmOptions>): void {
    this.options = { ...this.options, ...options };
  }

  /** The next `count` requests (matching `match` on the path, when given) are answered 429 with Retry-After. */
  throttleNext(count: number, retryAfterSeconds: number, match?: RegExp): void {
    for (let i = 0; i < count; i++)
      this.faults.push({ status: 429, retryAfter: String(retryAfterSeconds), ...(match ? { match } : {}) });
  }

  /** The next `count` matching requests are answered with `status` (no Retry-After). */
  failNext(count: number, status: number, match?: RegExp): void {
    for (let i = 0; i < count; i++) this.faults.push({ status, ...(match ? { match } : {}) });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.endpoint);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return this.answer(
          res,
          this.record(req, url, text),
          400,
          error('InvalidRequest', 'the body is not JSON'),
        );
      }
    }
    const entry = this.record(req, url, body);
    if (entry.authorization !== `Bearer ${LOCAL_ARM_TOKEN}`)
      return this.answer(
        res,
        entry,
        401,
        error(
          'AuthenticationFailed',
          'Authentication failed. The Authorization header is missing or invalid.',
        ),
      );
    const fault = this.faults.findIndex((f) => f.match === undefined || f.match.test(url.pathname));
    if (fault >= 0) {
      const f = this.faults.splice(fault, 1)[0] as Fault;
      if (f.retryAfter !== undefined) res.setHeader('Retry-After', f.retryAfter);
      return this.answer(
        res,
        entry,
        f.status,
        f.status === 429
          ? error(
              'RateLimiting',
              'Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed.',
            )
          : error('InternalServerError', 'Encountered internal server error.'),
      );
    }
    if (!url.searchParams.get('api-version'))
      return this.answer(
        res,
        entry,
        400,
        error(
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
        ),
      );
    if (req.method === 'POST' && /^\/providers\/Microsoft\.ResourceGraph\/resources$/i.test(url.pathname))
      return this.answer(res, entry, 200, this.graph(body));
    const tags =
      /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Network\/locations\/([^/]+)\/serviceTags$/i.exec(
        url.pathname,
      );
    if (req.method === 'GET' && tags !== null)
      return this.answer(res, entry, 200, this.serviceTags(url, tags[1] ?? ''));
    return this.answer(res, entry, 404, error('NotFound', `no route ${req.method} ${url.pathname}`));
  }

  private record(req: IncomingMessage, url: URL, body: unknown): FakeArmRequest {
    const entry: FakeArmRequest = {
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: req.headers.authorization,
      status: 0,
    };
    this.requests.push(entry);
    return entry;
  }

  private answer(res: ServerResponse, entry: FakeArmRequest, status: number, body: unknown): void {
    entry.status = status;
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }

  private graph(body: unknown): unknown {
    const request = (typeof body === 'object' && body !== null ? body : {}) as {
      subscriptions?: string[];
      options?: { $top?: number; $skipToken?: string };
    };
    const subs = request.subscriptions?.map((s) => s.toLowerCase());
    const rows = [...(this.options.resources ?? [])]
      .filter((r) => subs === undefined || subs.includes(r.subscriptionId.toLowerCase()))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const token = request.options?.$skipToken;
    // The token is opaque to the client; here it carries the offset and page size.
    const state =
      token === undefined
        ? null
        : (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset: number; top: number });
    const top = state?.top ?? request.options?.$top ?? this.options.graphPageSize ?? 100;
    const size = Math.min(top, this.options.graphPageSize ?? top);
    const offset = state?.offset ?? 0;
    const data = rows.slice(offset, offset + size);
    const next =
      offset + size < rows.length
        ? Buffer.from(JSON.stringify({ offset: offset + size, top })).toString('base64')
        : undefined;
    return {
      totalRecords: rows.length,
      count: data.length,
      resultTruncated: 'false',
      facets: [],
      ...(next === undefined ? {} : { $skipToken: next }),
      data,
    };
  }

  private serviceTags(url: URL, subscriptionId: string): unknown {
    const doc = this.options.serviceTags ?? { changeNumber: 1, values: [] };
    const pageSize = this.options.tagsPageSize ?? (doc.values.length || 1);
    const offset = Number(url.searchParams.get('$skipToken') ?? '0');
    const values = doc.values.slice(offset, offset + pageSize).map((t) => ({
      name: t.name,
      id: t.name,
      properties: {
        changeNumber: String(t.changeNumber ?? 1),
        region: t.region ?? '',
        systemService: t.systemService ?? '',
        addressPrefixes: [...t.addressPrefixes],
      },
    }));
    let nextLink: string | undefined;
    if (offset + pageSize < doc.values.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skipToken', String(offset + pageSize));
      nextLink = next.toString();
    }
    return {
      name: 'public',
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.Network/serviceTags/public`,
      type: 'Microsoft.Network/serviceTags',
      changeNumber: String(doc.changeNumber),
      cloud: doc.cloud ?? 'Public',
      values,
      ...(nextLink === undefined ? {} : { nextLink }),
    };
  }
}

function error(code: string, message: string): unknown {
  return { error: { code, message } };
}
