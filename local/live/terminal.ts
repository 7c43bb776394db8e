/**
 * The terminal side of the live screen: alternate screen buffer, hidden cursor, whole-frame redraws in one
 * write, resize, keys (q / Ctrl-C) in raw mode, and console output captured while the screen is up (it
 * would tear the frame). Everything is restored on leave(), and on process exit if leave() never ran.
 */

export interface ScreenStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface KeyInput {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[?25h\x1b[?1049l';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const CAPTURED: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];

export class Screen {
  private active = false;
  private readonly saved = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  private readonly restoreOnExit = () => this.leave();
  private resizeListener: (() => void) | undefined;
  private keyListener: ((chunk: Buffer | string) => void) | undefined;

  constructor(
    private readonly out: ScreenStream,
    private readonly keys?: KeyInput,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  get width(): number {
    return this.out.columns ?? 100;
  }

  get height(): number {
    return this.out.rows ?? 40;
  }

  /**
   * Takes over the terminal. `onKey('stop')` is called for q, Q and Ctrl-C (raw mode turns Ctrl-C into a
   * key, not a signal); `onConsole` receives what code printed with console.* meanwhile.
   */
  enter(handlers: {
    onResize: () => void;
    onStopKey: () => void;
    onConsole: (level: 'warn' | 'error', text: string) => void;
  }): void {
    if (this.active) return;
    this.active = true;
    this.out.write(ENTER);
    process.once('exit', this.restoreOnExit);
    this.resizeListener = handlers.onResize;
    this.out.on?.('resize', this.resizeListener);
    for (const m of CAPTURED) {
      this.saved.set(m, console[m]);
      console[m] = (...args: unknown[]) =>
        handlers.onConsole(
          m === 'error' ? 'error' : 'warn',
          args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '),
        );
    }
    if (this.keys?.isTTY && this.keys.setRawMode) {
      this.keys.setRawMode(true);
      this.keyListener = (chunk) => {
        const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        if (text.includes('\x03') || text.includes('q') || text.includes('Q')) handlers.onStopKey();
      };
      this.keys.on('data', this.keyListener);
      this.keys.resume();
    }
  }

  /** Draws a whole frame in one write: home, each line cleared to its end, the rest of the screen cleared. */
  draw(lines: readonly string[]): void {
    if (!this.active) return;
    this.out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.restoreOnExit);
    if (this.resizeListener) this.out.off?.('resize', this.resizeListener);
    for (const [m, fn] of this.saved) console[m] = fn;
    this.saved.clear();
    if (this.keys && this.keyListener) {
      this.keys.off('data', this.keyListener);
      this.keys.setRawMode?.(false);
      this.keys.pause();
      this.keyListener = undefined;
    }
    this.out.write(LEAVE);
  }
}
