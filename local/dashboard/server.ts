/**
 * The live dashboard's server: node:http on 127.0.0.1 only. It keeps the summary rows that reached the
 * local Event Hub (deduplicated by id, as ADX's dedup view does) and serves
 *   GET /             the page (local/dashboard/page.ts)
 *   GET /app.js       the bundled script (local/dashboard/bundle.ts)
 *   GET /api/panels   every panel for ?range=15m|1h|6h|24h|7d|all&resource=<resourceId>
 *   GET /events       server-sent events: `rows` whenever new rows were kept (at most every 500 ms)
 * Panels are computed from the rows alone (domain/analysis/panels.ts), plus, for per-blob lag, what
 * the live session knows of each blob (bytes and blocks committed but not yet read).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CountOnceRule,
  computePanels,
  isRangePreset,
  resolveRange,
  SummaryStore,
} from '../../domain/analysis/panels';
import type { FlowSummary } from '../../domain/summary/schema';
import { dashboardBundle } from './bundle';
import { pageHtml } from './page';

/** One blob's lag as the live session sees it, keyed by the `blob` id its rows carry. */
export interface BlobLag {
  readonly blob: string;
  readonly name: string;
  readonly lagBytes: number;
  readonly lagBlocks: number;
  readonly state: string;
}

export interface DashboardServerOptions {
  /** 0: any free port. */
  readonly port?: number;
  readonly title?: string;
  /** Shown in the status line (what feeds the rows). */
  readonly source?: string;
  /** Rows kept (the oldest go first). */
  readonly maxRows?: number;
  /** Per-blob lag from the live session, if any. */
  readonly lag?: () => readonly BlobLag[];
  readonly countOnce?: CountOnceRule;
  /** Least time between two `rows` events. */
  readonly notifyEveryMs?: number;
}

export class DashboardServer {
  readonly store: SummaryStore;
  private readonly clients = new Set<ServerResponse>();
  private notifyTimer: NodeJS.Timeout | undefined;
  private lastNotified = -1;
  private source: string;

  private constructor(
    private readonly server: Server,
    private readonly options: DashboardServerOptions,
  ) {
    this.store = new SummaryStore(options.maxRows ?? 200_000);
    this.source = options.source ?? 'local Event Hub';
  }

  /** Starts listening on 127.0.0.1; resolves once it does. */
  static async start(options: DashboardServerOptions = {}): Promise<DashboardServer> {
    let self: DashboardServer | undefined;
    const server = createServer((req, res) => {
      self?.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((error as Error)?.message ?? error));
      });
    });
    self = new DashboardServer(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Build (or read) the script now: the first page load should not wait for it.
    await dashboardBundle();
    return self;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}/`;
  }

  setSource(text: string): void {
    this.source = text;
  }

  /** Rows that reached the hub: kept (duplicates by id dropped); open pages are told. */
  addRows(rows: readonly FlowSummary[]): void {
    if (this.store.add(rows) > 0) this.scheduleNotify();
  }

  private scheduleNotify(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.notify();
    }, this.options.notifyEveryMs ?? 500);
  }

  private notify(): void {
    if (this.store.version === this.lastNotified) return;
    this.lastNotified = this.store.version;
    const data = JSON.stringify({ version: this.store.version, size: this.store.size });
    for (const c of this.clients) c.write(`event: rows\ndata: ${data}\n\n`);
  }

  /** Panels for a range preset and resource, as the page asks for them. */
  panels(range: string, resource: string | null) {
    const extent = this.store.extent();
    // now(): the wall clock, or the newest window's end when the data runs ahead of it (simulated time).
    const now = Math.max(Date.now(), extent?.to ?? 0);
    const preset = isRangePreset(range) ? range : 'all';
    const r = resolveRange(preset, extent, now);
    const panels = computePanels(this.store.rows(), {
      ...r,
      resourceId: resource,
      now,
      ...(this.options.countOnce ? { countOnce: this.options.countOnce } : {}),
    });
    return {
      panels,
      lag: this.options.lag ? this.options.lag() : undefined,
      meta: {
        size: this.store.size,
        offered: this.store.offered,
        duplicates: this.store.duplicates,
        version: this.store.version,
        resources: this.store.resources(),
        source: this.source,
      },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    switch (url.pathname) {
      case '/':
      case '/index.html':
        send(
          res,
          'text/html; charset=utf-8',
          pageHtml({ title: this.options.title ?? 'flowlog live', mode: 'live' }),
        );
        return;
      case '/app.js':
        send(res, 'text/javascript; charset=utf-8', await dashboardBundle());
        return;
      case '/api/panels': {
        const resource = url.searchParams.get('resource') || null;
        send(
          res,
          'application/json',
          JSON.stringify(this.panels(url.searchParams.get('range') ?? 'all', resource)),
        );
        return;
      }
      case '/events':
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`retry: 2000\nevent: hello\ndata: {"version":${this.store.version}}\n\n`);
        this.clients.add(res);
        req.on('close', () => this.clients.delete(res));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }

  /** Ends the event streams and stops listening. Idempotent. */
  async close(): Promise<void> {
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    for (const c of this.clients) c.end();
    this.clients.clear();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
