import { createHash, randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { toDisplay } from '../core/bytes.js';
import { UsageError, errnoOf } from '../core/errors.js';
import { startTicks } from './temp-names.js';

/**
 * One --fix or undo at a time per root.
 *
 * Where: root's locks live in /run/linkcheck, a directory only root can create (/run is root's
 * and not world-writable). Not in /run/lock: that directory is world-writable (1777), so a deploy
 * user could create /run/lock/linkcheck before root does and fill it with locks that block root.
 * Not inside the scanned tree, for the same reason. Other users lock in $XDG_RUNTIME_DIR/linkcheck
 * or $TMPDIR/linkcheck-<uid>. LINKCHECK_LOCK_DIR overrides all of these (tests, a shared NFS
 * directory). Whichever it is, it must be a real directory owned by the user (or root) that no
 * one else may write, else the run stops with exit 2 rather than trust it.
 *
 * How: Node has no flock(2), so the lock is a file `<hash of the root's real path>.lock` made
 * with link(2). Each contender first writes its identity (pid, process start time, boot id, pid
 * namespace, host, a random nonce) to a private file, complete, then links it to the lock name:
 * link fails with EEXIST if the name exists, so exactly one contender wins, and a reader never
 * sees a half-written lock (O_EXCL followed by write would show an empty file for a moment).
 *
 * A lock whose holder is dead (killed by SIGKILL: no chance to remove it) is taken over, and the
 * take-over itself is exclusive: the lock (content C) may be removed only by the one process that
 * links its identity to `<lock>.break-<hash of C>`. Holding that marker, it reads the lock again
 * and unlinks it only if it still holds C. That read-then-unlink cannot race: C names a dead
 * process, which will never remove or rewrite it, and every other would-be breaker of C needs
 * the same marker. Every identity carries a nonce, so C never appears again once removed, and a
 * slow waiter that read C long ago and wins the marker later finds another content and leaves
 * it alone. A marker left by a breaker that was itself killed is broken the same way (its own
 * marker, one level down). Then everyone contends for the lock name again with link().
 */

const LOCK_DIR_ENV = 'LINKCHECK_LOCK_DIR';

/** The lock directory for this user, as explained above. */
export function lockDirFor(env: Record<string, string | undefined>): string {
  const override = env[LOCK_DIR_ENV];
  if (override !== undefined && override !== '') return override;
  const uid = process.geteuid?.() ?? 0;
  if (uid === 0) return '/run/linkcheck';
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith('/')) return `${xdg}/linkcheck`;
  return `${tmpdir()}/linkcheck-${uid}`;
}

/** Who holds a lock, as its file says. */
export interface Holder {
  pid: number;
  start: string;
  boot: string;
  ns: string;
  host: string;
  nonce: string;
  /** What it is doing: fix or undo. */
  what: string;
  since: string;
}

/** Another run holds the lock (and still did when the wait ran out). */
export class Busy extends Error {
  constructor(
    readonly holder: Holder | null,
    readonly lockFile: string,
    readonly root: string,
  ) {
    const who = holder ? `${holder.what === 'undo' ? 'an undo' : 'a --fix run'} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : `another run (lock file ${lockFile})`;
    super(`${who} is already working on the root ${toDisplay(root)}`);
  }
}

export interface HeldLock {
  readonly file: string;
  release(): void;
}

function readOrNull(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return null;
    throw new UsageError(`cannot read the lock file ${p} (${errnoOf(err)}); set ${LOCK_DIR_ENV} to a directory of your own`);
  }
}

function unlinkQuietly(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // already gone
  }
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** The pid namespace (a magic link's text, `pid:[4026531836]`): pids mean nothing outside it. */
function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

function parseHolder(text: string): Holder | null {
  const kv = new Map<string, string>();
  const lines = text.split('\n');
  if (lines[0] !== 'linkcheck lock 1') return null;
  for (const l of lines.slice(1)) {
    const eq = l.indexOf('=');
    if (eq > 0) kv.set(l.slice(0, eq), l.slice(eq + 1));
  }
  const pid = Number(kv.get('pid'));
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const get = (k: string): string => kv.get(k) ?? '';
  return { pid, start: get('start'), boot: get('boot'), ns: get('ns'), host: get('host'), nonce: get('nonce'), what: get('what'), since: get('since') };
}

const here = { boot: bootId(), ns: pidNamespace(), host: hostname(), proc: startTicks(process.pid) };

/**
 * Whether the process a lock file names may still be running: its pid with the same start time.
 * A holder from an earlier boot is gone. One on another host or in another pid namespace cannot
 * be checked from here, so it counts as alive (never taken over); so does a file that does not
 * read as a lock.
 */
function holderAlive(h: Holder | null): boolean {
  if (h === null) return true;
  if (h.host !== here.host || h.ns !== here.ns) return true;
  if (h.boot !== here.boot) return false;
  const ticks = startTicks(h.pid);
  if (ticks !== null) return ticks === h.start;
  // No start time to compare: a zombie (gone), or a pid /proc hides from us (hidepid) or no /proc
  // at all. Then only kill(pid, 0) can tell, and a process that exists counts as the holder.
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
  return here.proc === null;
}

/** The lock file's name for a root (a byte string): the root's real path hashed, so any path fits. */
export function lockName(root: string): string {
  return createHash('sha256').update(Buffer.from(root, 'latin1')).digest('hex').slice(0, 16) + '.lock';
}

/** Makes sure `dir` exists and is a directory no one but this user (or root) can write. */
function trustedDir(dir: string): void {
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw new UsageError(`cannot use the lock directory ${dir} (${errnoOf(err)}); set ${LOCK_DIR_ENV} to another`);
    try {
      mkdirSync(dir, 0o755);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw new UsageError(`cannot create the lock directory ${dir} (${errnoOf(e)}); set ${LOCK_DIR_ENV} to a directory you can write`);
    }
    st = lstatSync(dir);
  }
  const uid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new UsageError(`the lock directory ${dir} is not a directory (a symlink?): remove it, or set ${LOCK_DIR_ENV}`);
  if ((st.uid !== uid && st.uid !== 0) || (st.mode & 0o022) !== 0)
    throw new UsageError(`the lock directory ${dir} is owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8)}: another user could hold its locks; remove it, or set ${LOCK_DIR_ENV} to a directory only you can write`);
}

export interface LockRequest {
  /** Host real path of the root (a byte string). */
  root: string;
  dir: string;
  /** How long to wait for a busy lock, in milliseconds (0: do not wait). */
  waitMs: number;
  /** fix or undo: shown to a run that finds the lock taken. */
  what: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Takes the root's lock, waiting up to `waitMs` for it; throws Busy when it stays taken. */
export async function acquireLock(req: LockRequest): Promise<HeldLock> {
  trustedDir(req.dir);
  const file = `${req.dir}/${lockName(req.root)}`;
  const nonce = randomBytes(8).toString('hex');
  const mine = `${file}.${process.pid}.${nonce}.tmp`;
  const identity =
    `linkcheck lock 1\npid=${process.pid}\nstart=${startTicks(process.pid) ?? ''}\nboot=${here.boot}\nns=${here.ns}\nhost=${here.host}\n` +
    `nonce=${nonce}\nwhat=${req.what}\nsince=${new Date().toISOString()}\nroot=${toDisplay(req.root)}\n`;
  try {
    writeFileSync(mine, identity, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    throw new UsageError(`cannot write in the lock directory ${req.dir} (${errnoOf(err)}); set ${LOCK_DIR_ENV} to a directory you can write`);
  }
  const deadline = Date.now() + req.waitMs;
  try {
    for (;;) {
      const holder = tryOnce(file, mine);
      if (holder === 'taken') break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Busy(holder, file, req.root);
      await sleep(Math.min(100, left));
    }
  } catch (err) {
    unlinkQuietly(mine);
    throw err;
  }
  sweep(req.dir, file, mine);
  let held = true;
  return {
    file,
    release() {
      if (!held) return;
      held = false;
      // Only this process (alive) or a breaker of its content (needs it dead) removes it.
      if (readOrNull(file) === identity) unlinkQuietly(file);
      unlinkQuietly(mine);
    },
  };
}

/** One attempt: 'taken', or who holds it (null: unreadable, or a take-over in progress elsewhere). */
function tryOnce(file: string, mine: string): 'taken' | Holder | null {
  // Each turn either takes the lock, finds it held, or removes one dead holder's lock: bounded.
  for (let turn = 0; turn < 8; turn++) {
    try {
      linkSync(mine, file);
      return 'taken';
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw new UsageError(`cannot take the lock ${file} (${errnoOf(err)})`);
    }
    const content = readOrNull(file);
    if (content === null) continue;
    const holder = parseHolder(content);
    if (holderAlive(holder)) return holder;
    if (!breakStale(file, content, mine, 0)) return holder;
  }
  return null;
}

const MAX_DEPTH = 4;

/** Removes `file` if it still holds `content` (a dead holder's), exclusively; false if a live process is at it. */
function breakStale(file: string, content: string, mine: string, depth: number): boolean {
  const marker = `${file}.break-${createHash('sha256').update(content).digest('hex').slice(0, 16)}`;
  let got = false;
  for (let turn = 0; turn < 8 && !got; turn++) {
    try {
      linkSync(mine, marker);
      got = true;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw new UsageError(`cannot take over the lock ${file} (${errnoOf(err)})`);
      const m = readOrNull(marker);
      if (m === null) continue;
      if (holderAlive(parseHolder(m)) || depth >= MAX_DEPTH) return false;
      breakStale(marker, m, mine, depth + 1);
    }
  }
  if (!got) return false;
  try {
    if (readOrNull(file) === content) unlinkSync(file);
  } finally {
    unlinkQuietly(marker);
  }
  return true;
}

/**
 * Clears what killed contenders left: their private files, and markers of take-overs that are
 * over. Run while holding the lock: every marker then names a lock content that is gone for
 * good (ours is alive), so removing a dead breaker's marker cannot let anyone remove a live lock.
 * Dead holders' locks of other roots (a tree since removed, as tests leave them) are broken the
 * exclusive way, so the directory does not fill up.
 */
function sweep(dir: string, file: string, mine: string): void {
  const base = file.slice(dir.length + 1);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const isTmp = /\.lock\.\d+\.[0-9a-f]+\.tmp$/.test(name);
    const isMarker = name.startsWith(`${base}.break-`);
    const isOtherLock = /^[0-9a-f]{16}\.lock$/.test(name) && name !== base;
    if (!isTmp && !isMarker && !isOtherLock) continue;
    const p = `${dir}/${name}`;
    const content = readOrNull(p);
    if (content === null || holderAlive(parseHolder(content))) continue;
    if (isOtherLock) breakStale(p, content, mine, 0);
    else unlinkQuietly(p);
  }
}

/** Locks several roots (an undo of runs under different roots), in sorted order so two never deadlock, within one wait. */
export async function lockRoots(roots: readonly string[], how: Omit<LockRequest, 'root'>): Promise<HeldLock> {
  const deadline = Date.now() + how.waitMs;
  const held: HeldLock[] = [];
  const releaseAll = (): void => {
    for (const h of held.reverse()) h.release();
  };
  try {
    for (const root of [...new Set(roots)].sort()) held.push(await acquireLock({ ...how, root, waitMs: Math.max(0, deadline - Date.now()) }));
  } catch (err) {
    releaseAll();
    throw err;
  }
  return { file: held.map((h) => h.file).join(' '), release: releaseAll };
}

/** A --wait value in milliseconds. */
export function waitMs(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) throw new UsageError(`--wait takes a number of seconds, not "${text}"`);
  return Math.round(Number(text) * 1000);
}
