/**
 * Wires the dashboard server to a live session (flowlog live / npm start): the session hands over the
 * summaries of every hub event (LiveSessionOptions.onSummaries) and the server asks it for per-blob lag.
 */
import type { LiveSession, LiveSessionOptions } from '../live/session';
import { type BlobLag, DashboardServer } from './server';

export class LiveDashboard {
  private session: LiveSession | undefined;

  private constructor(readonly server: DashboardServer) {}

  static async start(port: number, source: string): Promise<LiveDashboard> {
    let self: LiveDashboard | undefined;
    const server = await DashboardServer.start({
      port,
      title: 'flowlog live',
      source,
      lag: () => self?.lag() ?? [],
    });
    self = new LiveDashboard(server);
    return self;
  }

  get url(): string {
    return this.server.url;
  }

  /** What LiveSession.start needs to feed the dashboard and show its address. */
  sessionOptions(): Pick<LiveSessionOptions, 'onSummaries' | 'endpoints'> {
    return {
      onSummaries: (rows) => this.server.addRows(rows),
      endpoints: [`Dashboard ${this.url}`],
    };
  }

  attach(session: LiveSession): void {
    this.session = session;
  }

  /** The live session's lag of each blob it shows, by the blob id its rows carry. */
  lag(): BlobLag[] {
    const s = this.session;
    if (!s) return [];
    const rows = new Map(s.model.view(Date.now()).blobs.map((b) => [b.key, b]));
    const out: BlobLag[] = [];
    for (const b of s.blobIdentities()) {
      const row = rows.get(b.key);
      if (row)
        out.push({
          blob: b.blobId,
          name: b.name,
          lagBytes: row.lagBytes,
          lagBlocks: row.lagBlocks,
          state: row.state,
        });
    }
    return out;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
