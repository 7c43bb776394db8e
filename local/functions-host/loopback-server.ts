/**
 * The host's loopback HTTP server (127.0.0.1, ephemeral port by default): the durable RPC API that
 * `df.getClient` calls, the public webhook API, and `/api/...` routes to HTTP-triggered functions.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rpcPath, systemKey, webhookPath } from './client-binding';
import type { ApiResponse, DurableHttpApi } from './durable-http-api';
import type { HostHttpRequest, HostHttpResponse } from './http-bridge';
import type { WorkTracker } from './work-tracker';

export interface LoopbackServerDeps {
  readonly api: DurableHttpApi;
  readonly dispatchHttp: (request: HostHttpRequest) => Promise<HostHttpResponse>;
  readonly work: WorkTracker;
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function flatHeaders(request: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function writeApiResponse(response: http.ServerResponse, result: ApiResponse): void {
  const headers: Record<string, string> = { ...(result.headers ?? {}) };
  let body = '';
  if (result.rawJson !== undefined) body = result.rawJson;
  else if (result.body !== undefined) body = JSON.stringify(result.body);
  if (body !== '') headers['content-type'] = 'application/json; charset=utf-8';
  response.writeHead(result.status, headers);
  response.end(body);
}

export class LoopbackServer {
  private readonly server: http.Server;
  private port = 0;

  constructor(private readonly deps: LoopbackServerDeps) {
    this.server = http.createServer((request, response) => {
      const end = deps.work.begin();
      this.route(request, response)
        .catch((err: unknown) => {
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(err instanceof Error ? err.message : String(err));
        })
        .finally(end);
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    const body = await readBody(request);
    const method = (request.method ?? 'GET').toUpperCase();
    const headers = flatHeaders(request);
    for (const base of [rpcPath, `${webhookPath}/`]) {
      if (!url.pathname.startsWith(base)) continue;
      // The public webhook API takes the extension's system key (rpc is the worker's own channel).
      if (base !== rpcPath && url.searchParams.get('code') !== systemKey) {
        writeApiResponse(response, {
          status: 401,
          body: { message: 'the durable webhook API needs the system key (code=)' },
        });
        return;
      }
      const segments = url.pathname.slice(base.length).split('/').map(decodeURIComponent);
      const origin = headers['host'] ? `http://${headers['host']}` : this.origin;
      const result = this.deps.api.handle({
        method,
        segments,
        query: url.searchParams,
        headers,
        body: body.toString('utf8'),
        origin,
      });
      writeApiResponse(response, result);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      // From the network: only the key the request carries counts.
      const result = await this.deps.dispatchHttp({ method, url: url.href, headers, body, key: null });
      response.writeHead(result.status, result.headers);
      response.end(result.body);
      return;
    }
    writeApiResponse(response, { status: 404, body: { message: `No route for ${url.pathname}` } });
  }
}
