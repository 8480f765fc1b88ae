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
  /**
   * Every root the command fixes (byte strings): a --fix over many jails is one run, each of its
   * lines naming its own jail's root, its begin record listing them all. [root] when absent.
   */
  roots?: readonly string[] | undefined;
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

/** A new run's identity, for the journal lines it will write; `roots`: every root of the command. */
export function newRun(root: string, now: Date = new Date(), roots?: readonly string[]): RunInfo {
  const user = currentUser();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const run: RunInfo = { id: `${stamp}-${randomBytes(3).toString('hex')}`, host: hostname(), user, version: packageVersion(), root };
  if (roots) run.roots = roots;
  return run;
}

/** Who runs this process, by name when it has one. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`; // no passwd entry (a bare container)
  }
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

/** The open file that a run's journal views share: one descriptor, one failure, one begin record. */
interface OpenJournal {
  fd: number;
  io: JournalIo;
  failed: JournalFailed | null;
  /** Whether the run's begin record is written (before its first change, so runs that change nothing leave no trace). */
  begun: boolean;
  /** Change lines this run wrote. */
  changed: number;
}

/**
 * An append-only JSON-lines journal. Each line is written in one write(2) and fsynced before the
 * rename it describes, so after a crash the journal names every change that may have happened.
 * A write that fails or comes back short, or an fsync that fails, is a failure of the run: the
 * caller must not make the change (nothing is changed without its whole line). A short write
 * leaves a torn line behind; it is not cut back here, because another run (of another root)
 * may be appending to the same file, and truncating could take its line: the reader ignores
 * torn pieces instead. Times are written as exact integers (nanoseconds): more digits than a
 * double holds, so the reader takes them from the text rather than through JSON.parse.
 *
 * Around its changes a run writes two records: `begin` (its roots) before the first change and
 * `end` when the command finished. A run with a begin and no end was interrupted (a signal, a
 * kill, a full disk): `undo --list` says so.
 */
export class Journal {
  private readonly open: OpenJournal;

  constructor(
    readonly file: string,
    readonly run: RunInfo,
    io: JournalIo = realIo,
    shared?: OpenJournal,
  ) {
    if (shared) {
      this.open = shared;
      return;
    }
    try {
      this.open = { fd: openSync(file, 'a', 0o600), io, failed: null, begun: false, changed: 0 };
    } catch (err) {
      throw new UsageError(`cannot open the journal ${file} for appending (${errnoOf(err)}): choose a writable path`);
    }
  }

  /** The same journal and run, its lines naming `root`: one jail of a command over many. */
  forRoot(root: string): Journal {
    return new Journal(this.file, { ...this.run, root }, this.open.io, this.open);
  }

  /** Writes and fsyncs one line, or throws JournalFailed (and keeps failing after that). */
  append(e: Omit<JournalEntry, 'run'>): void {
    const r = this.run;
    if (!this.open.begun) {
      const roots = (r.roots ?? [r.root]).map(toJsonText);
      this.write(JSON.stringify({ run: r.id, begin: e.time, host: r.host, user: r.user, version: r.version, roots }) + '\n');
      this.open.begun = true;
    }
    const head = JSON.stringify({ path: toJsonText(e.path), old: toJsonText(e.old), new: toJsonText(e.new), uid: e.uid, gid: e.gid });
    const tail = JSON.stringify({ time: e.time, run: r.id, host: r.host, user: r.user, version: r.version, root: toJsonText(r.root) });
    this.write(`${head.slice(0, -1)},"mtime":${e.mtime},"atime":${e.atime},${tail.slice(1)}\n`);
    this.open.changed++;
  }

  /**
   * The run's end record, when it wrote any change. A failure here is not the run's (its changes
   * are made and journaled): the run then lists as interrupted, which undo handles the same way.
   */
  finish(now: Date = new Date()): void {
    if (!this.open.begun || this.open.failed) return;
    try {
      this.write(JSON.stringify({ run: this.run.id, end: now.toISOString(), changed: this.open.changed }) + '\n');
    } catch {
      // Said above: the run lists as interrupted.
    }
  }

  private write(text: string): void {
    const o = this.open;
    if (o.failed) throw o.failed;
    const line = Buffer.from(text, 'utf8');
    try {
      const n = o.io.write(o.fd, line);
      if (n !== line.length) throw new JournalFailed(this.file, `short write: ${n} of ${line.length} bytes`);
      o.io.fsync(o.fd);
    } catch (err) {
      o.failed = err instanceof JournalFailed ? err : new JournalFailed(this.file, errnoOf(err));
      throw o.failed;
    }
  }

  close(): void {
    closeSync(this.open.fd);
  }
}

/**
 * Marks runs undone: one record each, appended whole (one write, fsynced) like every line. Returns
 * the errno when the journal cannot take it (the undo itself is done either way).
 */
export function markUndone(file: string, runs: readonly string[], user: string, now: Date = new Date()): string | null {
  if (runs.length === 0) return null;
  let fd: number | null = null;
  try {
    fd = openSync(file, 'a');
    writeSync(fd, runs.map((run) => JSON.stringify({ run, undone: now.toISOString(), user }) + '\n').join(''));
    fsyncSync(fd);
    return null;
  } catch (err) {
    return errnoOf(err);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** A run's own record: its begin (with every root), its end, or an undo that took it back. */
export interface RunRecord {
  run: string;
  kind: 'begin' | 'end' | 'undone';
  time: string;
  /** begin: every root the command fixed (byte strings). */
  roots?: string[] | undefined;
}

/** What a journal holds: its whole lines, oldest first, and how many torn pieces were ignored. */
export interface JournalContents {
  entries: JournalEntry[];
  /** Pieces of lines whose write was cut short (a killed run, a full disk): no change was made for them. */
  torn: number;
  /** The runs' begin, end and undone records, oldest first. */
  records: RunRecord[];
  /** The run of the last change or begin record: the newest run, even one that has begun and changed nothing yet. */
  lastRun?: string | undefined;
}

/**
 * Every line starts with one of these, and neither can occur inside a line: JSON escapes the
 * quotes of a string, so a path holding these characters is written as `{\"path\":`, and a
 * change line's own `"run":` follows a comma.
 */
const LINE_START = /\{"(?:path|run)":/g;

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
  const records: RunRecord[] = [];
  let lastRun: string | undefined;
  const lines = text.split('\n');
  // What follows the last newline was never ended: all of it is torn.
  const unended = lines.pop()!;
  let torn = unended.trim() === '' ? 0 : pieces(unended).length;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = pieces(line);
    torn += parts.length - 1;
    const whole = parts[parts.length - 1]!;
    if (whole.startsWith('{"run":')) {
      const rec = parseRecord(file, i + 1, whole);
      records.push(rec);
      if (rec.kind === 'begin') lastRun = rec.run;
    } else {
      const entry = parseLine(file, i + 1, whole);
      entries.push(entry);
      lastRun = entry.run?.id ?? LEGACY_RUN;
    }
  });
  return { entries, torn, records, lastRun };
}

function pieces(line: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (const m of line.matchAll(LINE_START)) {
    if (m.index === 0) continue;
    out.push(line.slice(from, m.index));
    from = m.index;
  }
  out.push(line.slice(from));
  return out;
}

function parseRecord(file: string, n: number, line: string): RunRecord {
  const o = parseJson(file, n, line);
  const kind = (['begin', 'end', 'undone'] as const).find((k) => typeof o[k] === 'string');
  if (typeof o.run !== 'string' || !kind) throw new UsageError(`journal ${file} line ${n} is a run record without begin, end or undone: is this a linkcheck journal?`);
  const rec: RunRecord = { run: o.run, kind, time: o[kind] as string };
  if (kind === 'begin' && Array.isArray(o.roots)) rec.roots = o.roots.filter((r): r is string => typeof r === 'string').map(fromJsonText);
  return rec;
}

function parseJson(file: string, n: number, line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new UsageError(`journal ${file} line ${n} is not JSON: is this a linkcheck journal?`);
  }
}

function parseLine(file: string, n: number, line: string): JournalEntry {
  const o = parseJson(file, n, line);
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
  /** The root it fixed under ('' when not recorded); with many jails, the first one's. */
  root: string;
  /** Every root the command fixed (its begin record's list; the lines' roots without one). */
  roots: string[];
  /**
   * `complete`: its end record is there; `interrupted`: begun and never ended (a signal, a kill,
   * a full disk); `undone`: an undo took it back since; `unknown`: written before runs had
   * records.
   */
  state: 'complete' | 'interrupted' | 'undone' | 'unknown';
  /** Its entries, oldest first. */
  entries: JournalEntry[];
}

/** The runs in a journal, in the order they first appear; lines without a run id form one run. */
export function runsIn(entries: readonly JournalEntry[], records: readonly RunRecord[] = []): JournalRun[] {
  const byId = new Map<string, JournalRun>();
  for (const e of entries) {
    const id = e.run?.id ?? LEGACY_RUN;
    let r = byId.get(id);
    if (!r) {
      const root = e.run?.root ?? '';
      r = { id, first: e.time, last: e.time, host: e.run?.host ?? '', user: e.run?.user ?? '', version: e.run?.version ?? '', root, roots: [], state: 'unknown', entries: [] };
      byId.set(id, r);
    }
    r.last = e.time;
    r.entries.push(e);
    const root = e.run?.root ?? '';
    if (root !== '' && !r.roots.includes(root)) r.roots.push(root);
  }
  const kinds = new Map<string, Set<RunRecord['kind']>>();
  for (const rec of records) {
    const run = byId.get(rec.run);
    if (!run) continue;
    if (!kinds.has(rec.run)) kinds.set(rec.run, new Set());
    kinds.get(rec.run)!.add(rec.kind);
    if (rec.kind === 'begin' && rec.roots) run.roots = rec.roots;
  }
  for (const [id, seen] of kinds) {
    byId.get(id)!.state = seen.has('undone') ? 'undone' : seen.has('end') ? 'complete' : seen.has('begin') ? 'interrupted' : 'unknown';
  }
  return [...byId.values()];
}
