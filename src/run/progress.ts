import { writeSync } from 'node:fs';
import type { FsPort } from '../core/fs-port.js';

/**
 * Progress on stderr for a person at a terminal: entries walked, links judged and the rate,
 * drawn once a scan has run for half a second, redrawn in place, erased at the end. Never in
 * pipes, CI, --quiet or machine formats (see progressWanted).
 */

export interface ProgressCounts {
  entries: number;
  links: number;
}

export interface ProgressWish {
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  quiet: boolean;
  format: string;
}

/** Only for a person: stderr a terminal, not CI (CI set at all), not --quiet, the pretty format. */
export function progressWanted(w: ProgressWish): boolean {
  return w.stderrIsTTY && w.env.CI === undefined && !w.quiet && w.format === 'pretty';
}

/**
 * Milliseconds before the line appears: LINKCHECK_PROGRESS_DELAY in seconds (as git's
 * GIT_PROGRESS_DELAY), else half a second.
 */
export function progressDelay(env: Record<string, string | undefined>): number {
  const s = Number(env.LINKCHECK_PROGRESS_DELAY);
  return env.LINKCHECK_PROGRESS_DELAY !== undefined && env.LINKCHECK_PROGRESS_DELAY.trim() !== '' && Number.isFinite(s) && s >= 0 ? s * 1000 : 500;
}

/** 1234567 as 1,234,567: the same on every locale, so tests and screenshots agree. */
function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** The progress line: `linkcheck: 120,000 entries walked, 9,000 links judged (310,000 entries/s)`. */
export function renderProgress(c: ProgressCounts, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (c.entries * 1000) / elapsedMs : 0;
  return `linkcheck: ${grouped(c.entries)} entries walked, ${grouped(c.links)} links judged (${grouped(rate)} entries/s)`;
}

/** What puts the cursor back at the start of a line `width` wide and blanks it: plain \r and spaces, which every terminal understands. */
export function eraseText(width: number): string {
  return width > 0 ? '\r' + ' '.repeat(width) + '\r' : '';
}

/** What redraws the line over one `shown` wide: the new line, padded to cover the old one. */
export function redrawText(line: string, shown: number): string {
  return '\r' + line + ' '.repeat(Math.max(0, shown - line.length));
}

/**
 * Slots of the terminal lock, a SharedArrayBuffer shared with a thread that writes the report
 * to the same terminal: LOCK is 1 while one side writes, SHOWN the width of the line on screen.
 */
const LOCK = 0;
const SHOWN = 1;

function terminalLock(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/**
 * A report writer that never writes over the progress line: it takes the lock (waiting while
 * the line is being drawn, a moment), erases the line, writes, and lets go. The line comes back
 * at the next redraw. Without a lock it is the writer itself.
 */
export function besideProgress(write: (b: Buffer) => void, lock: SharedArrayBuffer | undefined, eraseFd = 2): (b: Buffer) => void {
  if (lock === undefined) return write;
  const s = new Int32Array(lock);
  return (b) => {
    while (Atomics.compareExchange(s, LOCK, 0, 1) !== 0) Atomics.wait(s, LOCK, 1, 5);
    try {
      const shown = Atomics.load(s, SHOWN);
      if (shown > 0) {
        writeSync(eraseFd, eraseText(shown));
        Atomics.store(s, SHOWN, 0);
      }
      write(b);
    } finally {
      Atomics.store(s, LOCK, 0);
      Atomics.notify(s, LOCK);
    }
  };
}

export interface ProgressOptions {
  /** Milliseconds before the line first appears (default 500). */
  delay?: number;
  /** Milliseconds between redraws at most (default 200). */
  interval?: number;
  /** Weight (entries and links met) between two looks at the clock (default 512). */
  every?: number;
  now?: () => number;
  /** The terminal's width: the line is cut to fit, since a wrapped line cannot be redrawn in place. */
  columns?: number | undefined;
}

/**
 * The progress line of one scan phase. The walking thread counts what it meets through `meter`
 * (readdir and readlink of the file system port) and looks at the clock only every `every`
 * entries, so the hot path costs an addition and a compare. Links judged come from `judged`
 * (the auditor's count, or the worker's batches done); without it, the links met.
 */
export class Progress {
  readonly lock: SharedArrayBuffer = terminalLock();
  private readonly slots = new Int32Array(this.lock);
  private entries = 0;
  private links = 0;
  private weight = 0;
  private start: number;
  private last = -Infinity;
  private paused = false;
  private readonly delay: number;
  private readonly interval: number;
  private readonly every: number;
  private readonly now: () => number;
  private readonly columns: number | undefined;
  judged: (() => number) | undefined;

  constructor(
    private readonly write: (s: string) => void,
    options: ProgressOptions = {},
  ) {
    this.delay = options.delay ?? 500;
    this.interval = options.interval ?? 200;
    this.every = options.every ?? 512;
    this.now = options.now ?? (() => performance.now());
    this.columns = options.columns;
    this.start = this.now();
  }

  /** The file system port, counting the walk's entries and links as they are read. */
  meter(fs: FsPort): FsPort {
    const wrapped = Object.create(fs) as FsPort;
    wrapped.readdir = (dir) => {
      const e = fs.readdir(dir);
      this.entries += e.length;
      this.tick(e.length);
      return e;
    };
    wrapped.readlink = (p) => {
      const t = fs.readlink(p);
      this.links++;
      this.tick(1);
      return t;
    };
    return wrapped;
  }

  /** Off the screen and silent until restart (while --fix applies its plan, which is no walk). */
  pause(): void {
    this.erase();
    this.paused = true;
  }

  /** A new phase (the report's walk after --fix's planning walk): counts from zero, and the delay again. */
  restart(): void {
    this.erase();
    this.paused = false;
    this.entries = this.links = this.weight = 0;
    this.judged = undefined;
    this.start = this.now();
    this.last = -Infinity;
  }

  tick(weight: number): void {
    this.weight += weight;
    if (this.weight < this.every) return;
    this.weight = 0;
    if (this.paused) return;
    const now = this.now();
    if (now - this.start < this.delay || now - this.last < this.interval) return;
    this.last = now;
    const line = renderProgress({ entries: this.entries, links: this.judged?.() ?? this.links }, now - this.start);
    this.draw(this.columns !== undefined && this.columns > 1 ? line.slice(0, this.columns - 1) : line);
  }

  /** Takes the line off the screen, before the report writes there or at the end. */
  erase(): void {
    const shown = Atomics.load(this.slots, SHOWN);
    if (shown === 0) return;
    // The report thread erases under the lock too; if it holds it, it erases the line itself.
    if (Atomics.compareExchange(this.slots, LOCK, 0, 1) !== 0) return;
    this.write(eraseText(Atomics.load(this.slots, SHOWN)));
    Atomics.store(this.slots, SHOWN, 0);
    Atomics.store(this.slots, LOCK, 0);
    Atomics.notify(this.slots, LOCK);
  }

  private draw(line: string): void {
    // Never wait for the report thread: skip this redraw instead.
    if (Atomics.compareExchange(this.slots, LOCK, 0, 1) !== 0) return;
    this.write(redrawText(line, Atomics.load(this.slots, SHOWN)));
    Atomics.store(this.slots, SHOWN, line.length);
    Atomics.store(this.slots, LOCK, 0);
    Atomics.notify(this.slots, LOCK);
  }
}
