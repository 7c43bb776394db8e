/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly totalBytes: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(doneBytes: number, tuples: number, label: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const share = this.totalBytes > 0 ? Math.min(1, doneBytes / this.totalBytes) : 1;
    const width = 24;
    const filled = Math.round(share * width);
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const rate = tuples / seconds;
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${formatCount(tuples)} tuples ${formatCount(rate)}/s ${label}`;
    const columns = this.stream.columns ?? 100;
    this.stream.write(`\r${text.slice(0, columns - 1).padEnd(columns - 1)}`);
  }

  done(): void {
    if (this.enabled) this.stream.write('\n');
  }
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}
