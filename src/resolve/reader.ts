import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../core/errors.js';
import type { FsPort } from '../core/fs-port.js';
import { isWithin } from '../core/paths.js';

/** Who reads the tree (--as-user): the credentials a process of that user has. */
export interface Credentials {
  /** The name as looked up (or the uid as text when the uid has no passwd entry). */
  user: string;
  uid: number;
  gid: number;
  /** Supplementary groups, as the kernel holds them (initgroups for a name; none for uid:gid). */
  groups: number[];
}

/**
 * What the resolver asks about the reader at each step of a walk. The answers are the kernel's:
 * a search is asked of a process running with the reader's credentials, so ACLs, groups and
 * whatever else the kernel weighs come out as it says.
 */
export interface AccessGate {
  /** The errno a lookup in the real directory `hostDir` meets in `view` (null: the reader may search it). */
  search(viewRoot: string, hostDir: string): string | null;
  /** While true, answers are not to be kept: the gate is only noting which directories a walk needs. */
  readonly noting?: boolean;
  /** Whether the reader may follow the link `hostPath` found in `hostDir` (fs.protected_symlinks). */
  follow(hostDir: string, hostPath: string): boolean;
}

const S_ISVTX = 0o1000;
/** Answers kept before they are dropped and asked again. */
const ANSWERS_KEPT = 100_000;
/** Directories asked and not yet answered, at most (a few kB of answers in the pipe). */
const IN_FLIGHT = 4096;
const S_IWOTH = 0o002;

/**
 * The reader's side, as a process of its own: a child started as root takes the reader's groups,
 * gid and uid (so it can never take them back) and answers access(2) with X_OK for directories,
 * relative to the jail root for the jail view (it starts there, as a chrooted server does, so the
 * directories above the jail do not count) and from '/' for the host view.
 *
 * The child answers over two FIFOs read and written synchronously, because the resolver is
 * synchronous: each answer is a round trip, so answers are kept per directory and asked in
 * batches (a directory's ancestors with it).
 */
export class ReaderGate implements AccessGate {
  private channel: Channel | null = null;
  private answers = new Map<string, Map<string, string | null>>();
  private size = 0;
  /** Questions sent and not answered yet, oldest first, and the directories they ask about. */
  private readonly outstanding: Array<{ byDir: Map<string, string | null>; dirs: string[] }> = [];
  private readonly asked = new Set<string>();
  private outstandingPaths = 0;
  private reachable: boolean | undefined;
  noting = false;
  /** What a noting walk needed and was not known, by kind of question. */
  private readonly noted = new Map<'J' | 'H', Set<string>>();
  private readonly dirModes = new Map<string, { mode: number; uid: number } | null>();
  private readonly protectedSymlinks: boolean;

  constructor(
    private readonly reader: Credentials,
    /** Host path of the jail root ('' for '/'). */
    private readonly rootHost: string,
    private readonly fsPort: FsPort,
  ) {
    this.protectedSymlinks = readSysctl('/proc/sys/fs/protected_symlinks') === '1';
    // Started now, so it is up by the time the walk has links to ask about.
    this.channel = Channel.start(reader, rootHost || '/');
  }

  search(viewRoot: string, hostDir: string): string | null {
    // Inside a jail the reader can reach from '/', the host view meets the jail's answers.
    if (viewRoot === '' && this.rootHost !== '' && isWithin(hostDir, this.rootHost) && this.rootReachable()) viewRoot = this.rootHost;
    return this.lookup(viewRoot, hostDir);
  }

  private lookup(viewRoot: string, hostDir: string): string | null {
    const key = viewRoot === '' ? 'H' : 'J';
    let byDir = this.answers.get(key);
    if (byDir === undefined) this.answers.set(key, (byDir = new Map()));
    let known = byDir.get(hostDir);
    if (known !== undefined) return known;
    if (this.noting) {
      let set = this.noted.get(key);
      if (set === undefined) this.noted.set(key, (set = new Set()));
      set.add(hostDir);
      return null;
    }
    // The directory with its unasked ancestors (the walk reaches it through them), unless it is
    // on its way already; then the answers are read until its own comes.
    if (!this.asked.has(key + hostDir)) this.send(key, byDir, this.unasked(key, byDir, [hostDir]));
    while ((known = byDir.get(hostDir)) === undefined) this.receive();
    return known;
  }

  /**
   * Runs `walks` only to note the directories they search, then asks for all of them in one
   * round trip (per kind of view): the walks after it find every answer known. A walk under
   * noting takes every directory as searchable, so it goes at least as far as the real one.
   */
  prefetch(walks: () => void): void {
    this.noting = true;
    try {
      walks();
    } finally {
      this.noting = false;
    }
    for (const [key, dirs] of this.noted) {
      const ask = this.unasked(key, this.answers.get(key)!, dirs);
      if (ask.length > 0) this.send(key, this.answers.get(key)!, ask);
    }
    this.noted.clear();
  }

  /**
   * `dirs` and their ancestors (the walk reaches a directory through them, down from the view's
   * root), less what is known or on its way already: one question's worth.
   */
  private unasked(key: 'J' | 'H', byDir: Map<string, string | null>, dirs: Iterable<string>): string[] {
    const ask = new Set<string>();
    const open = (d: string): boolean => !byDir.has(d) && !this.asked.has(key + d) && !ask.has(d);
    for (const dir of dirs)
      for (let d: string | null = dir; d !== null && open(d) && (key === 'H' || d.length >= this.rootHost.length); d = parentOf(d)) ask.add(d);
    return [...ask];
  }

  private send(key: 'J' | 'H', byDir: Map<string, string | null>, dirs: string[]): void {
    // Bounded, so that the answers waiting in the pipe never fill it while this side writes.
    while (this.outstandingPaths + dirs.length > IN_FLIGHT && this.outstanding.length > 0) this.receive();
    const root = this.rootHost;
    this.open().send(key, dirs.map((d) => (key === 'H' ? d || '/' : d === root ? '.' : d.slice(root.length + 1))));
    this.outstanding.push({ byDir, dirs });
    this.outstandingPaths += dirs.length;
    for (const d of dirs) this.asked.add(key + d);
  }

  /** Reads the oldest answer and keeps it. */
  private receive(): void {
    const q = this.outstanding.shift()!;
    const codes = this.channel!.receive(q.dirs.length);
    this.outstandingPaths -= q.dirs.length;
    const key = q.byDir === this.answers.get('H') ? 'H' : 'J';
    // Memory stays flat: past the limit, what was learnt is asked again.
    if (this.size > ANSWERS_KEPT) this.forget();
    for (let i = 0; i < q.dirs.length; i++) {
      q.byDir.set(q.dirs[i]!, codes[i] === '' ? null : codes[i]!);
      this.asked.delete(key + q.dirs[i]);
    }
    this.size += q.dirs.length;
  }

  /** Whether the reader can search its way from '/' to the jail root (then the host view is the jail's). */
  rootReachable(): boolean {
    if (this.reachable === undefined) {
      const chain: string[] = [];
      for (let d: string | null = this.rootHost; d !== null; d = parentOf(d)) chain.push(d);
      // Asked for real even from a noting walk: the answer decides how every later walk goes.
      const noting = this.noting;
      this.noting = false;
      this.reachable = chain.every((d) => this.lookup('', d) === null);
      this.noting = noting;
    }
    return this.reachable;
  }

  private forget(): void {
    for (const m of this.answers.values()) m.clear();
    this.dirModes.clear();
    this.size = 0;
  }

  follow(hostDir: string, hostPath: string): boolean {
    // The kernel's may_follow_link (fs/namei.c): with fs.protected_symlinks on, a link in a
    // sticky world-writable directory is followed only by its owner, or when the directory's
    // owner owns the link too.
    if (!this.protectedSymlinks) return true;
    let dir = this.dirModes.get(hostDir);
    if (dir === undefined) {
      try {
        const s = this.fsPort.lstat(hostDir || '/');
        dir = { mode: s.mode, uid: s.uid };
      } catch {
        dir = null;
      }
      this.dirModes.set(hostDir, dir);
    }
    if (dir === null || (dir.mode & (S_ISVTX | S_IWOTH)) !== (S_ISVTX | S_IWOTH)) return true;
    let owner: number;
    try {
      owner = this.fsPort.lstat(hostPath).uid;
    } catch {
      return true;
    }
    return owner === this.reader.uid || owner === dir.uid;
  }

  /** Ends the reader's process (it ends by itself too when this process goes). */
  close(): void {
    this.channel?.close();
    this.channel = null;
  }

  private open(): Channel {
    if (this.channel === null) throw new Error("the reader's process was closed");
    return this.channel;
  }
}

function parentOf(hostDir: string): string | null {
  if (hostDir === '') return null;
  const cut = hostDir.lastIndexOf('/');
  return cut <= 0 ? '' : hostDir.slice(0, cut);
}

function readSysctl(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * The reader's process, run with `node -e` so it needs no file of ours (bundled or not). argv:
 * request FIFO, answer FIFO, uid, gid, groups (comma separated; '-' keeps this process's own
 * credentials, for a reader who is the caller). A request is a 4-byte length, a kind byte (J: a
 * path relative to the jail, H: a host path) and paths separated by NUL; the answer is a 4-byte
 * length and one errno code per path ('' when access(2) allows a search), separated by NUL.
 */
const READER_PROCESS = String.raw`
const fs = require('fs');
const [req, ans, uid, gid, groups] = process.argv.slice(1);
const out = fs.openSync(ans, 'w');
const inp = fs.openSync(req, 'r');
if (groups !== '-') {
  process.setgroups(groups === '' ? [] : groups.split(',').map(Number));
  process.setgid(Number(gid));
  process.setuid(Number(uid));
}
const readFull = (n) => {
  const b = Buffer.alloc(n);
  for (let o = 0; o < n; ) {
    const k = fs.readSync(inp, b, o, n - o, null);
    if (k === 0) process.exit(0);
    o += k;
  }
  return b;
};
for (;;) {
  const body = readFull(readFull(4).readUInt32LE(0));
  const codes = body.subarray(1).toString('latin1').split('\0').map((p) => {
    try {
      fs.accessSync(Buffer.from(p, 'latin1'), fs.constants.X_OK);
      return '';
    } catch (e) {
      return e.code || 'EIO';
    }
  });
  const text = Buffer.from(codes.join('\0'), 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(text.length, 0);
  fs.writeSync(out, Buffer.concat([head, text]));
}
`;

/**
 * The two FIFOs to the reader's process. It is started at once, and this side opens its ends
 * (blocking, once both ends exist) when the first question is asked: by then the process has
 * long started, so the walk does not wait for it.
 */
class Channel {
  private toReader = -1;
  private fromReader = -1;

  private constructor(
    private readonly dir: string,
    private readonly req: string,
    private readonly ans: string,
    /** This side's end of the answers, held open (non-blocking) so the reader's open for writing does not wait for ours. */
    private early: number,
    private readonly child: ChildProcess,
  ) {}

  static start(reader: Credentials, cwd: string): Channel {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-reader-'));
    try {
      const req = path.join(dir, 'req');
      const ans = path.join(dir, 'ans');
      const made = spawnSync('mkfifo', ['-m', '0600', req, ans]);
      if (made.status !== 0) throw new UsageError(`--as-user: cannot make the reader's pipes (mkfifo: ${made.error?.message ?? made.stderr.toString().trim()})`);
      const early = fs.openSync(ans, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const self = reader.uid === process.getuid?.();
      const groups = self && process.getuid?.() !== 0 ? '-' : reader.groups.join(',');
      const child = spawn(process.execPath, ['-e', READER_PROCESS, req, ans, String(reader.uid), String(reader.gid), groups], {
        // spawn takes a string: a jail root whose name is not UTF-8 is not reached exactly here.
        cwd: Buffer.from(cwd, 'latin1').toString('utf8'),
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.unref();
      return new Channel(dir, req, ans, early, child);
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private connect(): void {
    if (this.toReader >= 0 || this.early < 0) return;
    try {
      this.toReader = openWriter(this.req, this.child.pid);
      this.fromReader = fs.openSync(this.ans, fs.constants.O_RDONLY);
    } finally {
      fs.closeSync(this.early);
      this.early = -1;
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  send(kind: 'J' | 'H', paths: readonly string[]): void {
    this.connect();
    const body = Buffer.from(kind + paths.join('\0'), 'latin1');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    writeAll(this.toReader, Buffer.concat([head, body]));
  }

  /** The next answer, of `count` paths (answers come in the order asked). */
  receive(count: number): string[] {
    const len = readFull(this.fromReader, 4).readUInt32LE(0);
    const codes = readFull(this.fromReader, len).toString('latin1').split('\0');
    if (codes.length !== count) throw new Error(`the reader's process answered ${codes.length} paths for ${count}`);
    return codes;
  }

  /**
   * Ends the reader's process by EOF on its requests (a signal would need CAP_KILL once it is
   * another user: a hardened unit has none). One never asked is met first, or it would wait for
   * this side's end of the pipes for ever.
   */
  close(): void {
    try {
      this.connect();
    } catch {
      // It did not start or is gone: nothing waits on the pipes.
    }
    for (const fd of [this.toReader, this.fromReader]) if (fd >= 0) fs.closeSync(fd);
    this.toReader = this.fromReader = -1;
  }
}

/**
 * Opens the request FIFO for writing once the reader has opened it for reading (ENXIO until
 * then), then again blocking, so a reader that died shows as EPIPE and not as a hang.
 */
function openWriter(req: string, pid: number | undefined): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const nb = fs.openSync(req, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      const fd = fs.openSync(req, fs.constants.O_WRONLY);
      fs.closeSync(nb);
      return fd;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
    }
    if (pid === undefined || Date.now() > deadline || !alive(pid)) throw new Error("the reader's process did not start");
    Atomics.wait(pause, 0, 0, 2);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A child that exited stays a zombie until Node reaps it, which it cannot while we wait.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let o = 0; o < b.length; ) o += fs.writeSync(fd, b, o);
}

function readFull(fd: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let o = 0; o < n; ) {
    const k = fs.readSync(fd, b, o, n - o, null);
    if (k === 0) throw new Error("the reader's process ended");
    o += k;
  }
  return b;
}
