import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { fromJsonText, toJsonText } from '../core/bytes.js';
import { UsageError, errnoOf } from '../core/errors.js';
import { packageVersion } from '../core/version.js';

/** One --fix run: every journal line it writes names it, so `undo` can take back one run. */
export interface RunInfo {
  /** `<UTC start, compact ISO 8601>-<6 random hex digits>`: sorts by start time, unique. */
  id: string;
  host: string;
  user: string;
  /** linkcheck's version. */
  version: string;
  /** Host real path of the root the run fixed under (a byte string). */
  root: string;
}

/** One change as the journal records it. Paths and texts are byte strings in memory. */
export interface JournalEntry {
  path: string;
  old: string;
  new: string;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, exact. */
  mtime: bigint;
  atime: bigint;
  /** When the change was made (ISO 8601). */
  time: string;
  /** The run that made it; absent in journals written before runs were recorded. */
  run?: RunInfo | undefined;
}

/** The run id given to lines written before runs were recorded: together they undo as one run. */
export const LEGACY_RUN = 'legacy';

/** A new run's identity, for the journal lines it will write. */
export function newRun(root: string, now: Date = new Date()): RunInfo {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid ${process.getuid?.() ?? '?'}`; // no passwd entry (a bare container)
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return { id: `${stamp}-${randomBytes(3).toString('hex')}`, host: hostname(), user, version: packageVersion(), root };
}

/** The journal could not be written: the fixer stops before the change the line was for. */
export class JournalFailed extends Error {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`cannot write the journal ${file} (${why})`);
  }
}

/** The two system calls a line needs; a test injects failing ones. */
export interface JournalIo {
  write(fd: number, data: Buffer): number;
  fsync(fd: number): void;
}

const realIo: JournalIo = { write: (fd, data) => writeSync(fd, data), fsync: (fd) => fsyncSync(fd) };

/**
 * An append-only JSON-lines journal. Each line is written in one write(2) and fsynced before the
 * rename it describes, so after a crash the journal names every change that may have happened.
 * A write that fails or comes back short, or an fsync that fails, is a failure of the run: the
 * caller must not make the change (nothing is changed without its whole line). A short write
 * leaves a torn line behind; it is not cut back here, because another run (of another root)
 * may be appending to the same file, and truncating could take its line: the reader ignores
 * torn pieces instead. Times are written as exact integers (nanoseconds): more digits than a
 * double holds, so the reader takes them from the text rather than through JSON.parse.
 */
export class Journal {
  private fd: number;
  private failed: JournalFailed | null = null;

  constructor(
    readonly file: string,
    readonly run: RunInfo,
    private readonly io: JournalIo = realIo,
  ) {
    try {
      this.fd = openSync(file, 'a', 0o600);
    } catch (err) {
      throw new UsageError(`cannot open the journal ${file} for appending (${errnoOf(err)}): choose a writable path`);
    }
  }

  /** Writes and fsyncs one line, or throws JournalFailed (and keeps failing after that). */
  append(e: Omit<JournalEntry, 'run'>): void {
    if (this.failed) throw this.failed;
    const r = this.run;
    const head = JSON.stringify({ path: toJsonText(e.path), old: toJsonText(e.old), new: toJsonText(e.new), uid: e.uid, gid: e.gid });
    const tail = JSON.stringify({ time: e.time, run: r.id, host: r.host, user: r.user, version: r.version, root: toJsonText(r.root) });
    const line = Buffer.from(`${head.slice(0, -1)},"mtime":${e.mtime},"atime":${e.atime},${tail.slice(1)}\n`, 'utf8');
    try {
      const n = this.io.write(this.fd, line);
      if (n !== line.length) throw new JournalFailed(this.file, `short write: ${n} of ${line.length} bytes`);
      this.io.fsync(this.fd);
    } catch (err) {
      this.failed = err instanceof JournalFailed ? err : new JournalFailed(this.file, errnoOf(err));
      throw this.failed;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** What a journal holds: its whole lines, oldest first, and how many torn pieces were ignored. */
export interface JournalContents {
  entries: JournalEntry[];
  /** Pieces of lines whose write was cut short (a killed run, a full disk): no change was made for them. */
  torn: number;
}

/**
 * Every line starts with this, and it cannot occur inside a line: JSON escapes the quotes of a
 * string, so a path or text holding these characters is written as `{\"path\":`.
 */
const LINE_START = '{"path":';

/**
 * Reads a journal. Only a piece of text that starts a line and is ended by its own newline is
 * a change: a write is one line with its newline, so a piece without one was cut short, and its
 * change was never made (the fixer renames only after the whole line is written). A torn piece
 * may be followed on the same line by a whole line appended later: it is split off at the next
 * line start and ignored.
 */
export function readJournal(file: string): JournalContents {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the journal ${file} (${errnoOf(err)})`);
  }
  const entries: JournalEntry[] = [];
  const lines = text.split('\n');
  // What follows the last newline was never ended: all of it is torn.
  const unended = lines.pop()!;
  let torn = unended.trim() === '' ? 0 : pieces(unended).length;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = pieces(line);
    torn += parts.length - 1;
    entries.push(parseLine(file, i + 1, parts[parts.length - 1]!));
  });
  return { entries, torn };
}

function pieces(line: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let at = line.indexOf(LINE_START, 1); at !== -1; at = line.indexOf(LINE_START, at + 1)) {
    out.push(line.slice(from, at));
    from = at;
  }
  out.push(line.slice(from));
  return out;
}

function parseLine(file: string, n: number, line: string): JournalEntry {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new UsageError(`journal ${file} line ${n} is not JSON: is this a linkcheck journal?`);
  }
  const mtime = /"mtime":(\d+)/.exec(line)?.[1];
  const atime = /"atime":(\d+)/.exec(line)?.[1];
  if (typeof o.path !== 'string' || typeof o.old !== 'string' || typeof o.new !== 'string' || typeof o.uid !== 'number' || typeof o.gid !== 'number' || !mtime)
    throw new UsageError(`journal ${file} line ${n} lacks path, old, new, uid, gid or mtime: is this a linkcheck journal?`);
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    path: fromJsonText(o.path),
    old: fromJsonText(o.old),
    new: fromJsonText(o.new),
    uid: o.uid,
    gid: o.gid,
    mtime: BigInt(mtime),
    atime: BigInt(atime ?? mtime),
    time: str(o.time),
    run:
      typeof o.run === 'string'
        ? { id: o.run, host: str(o.host), user: str(o.user), version: str(o.version), root: typeof o.root === 'string' ? fromJsonText(o.root) : '' }
        : undefined,
  };
}

/** One run as the journal tells it. */
export interface JournalRun {
  id: string;
  /** The first and last change's times. */
  first: string;
  last: string;
  host: string;
  user: string;
  version: string;
  /** The root it fixed under ('' when not recorded). */
  root: string;
  /** Its entries, oldest first. */
  entries: JournalEntry[];
}

/** The runs in a journal, in the order they first appear; lines without a run id form one run. */
export function runsIn(entries: readonly JournalEntry[]): JournalRun[] {
  const byId = new Map<string, JournalRun>();
  for (const e of entries) {
    const id = e.run?.id ?? LEGACY_RUN;
    let r = byId.get(id);
    if (!r) {
      r = { id, first: e.time, last: e.time, host: e.run?.host ?? '', user: e.run?.user ?? '', version: e.run?.version ?? '', root: e.run?.root ?? '', entries: [] };
      byId.set(id, r);
    }
    r.last = e.time;
    r.entries.push(e);
  }
  return [...byId.values()];
}
