import { toDisplay } from '../core/bytes.js';
import { errnoOf, UsageError } from '../core/errors.js';
import type { LinkStat } from '../core/fs-port.js';
import type { DirOps } from './gate.js';
import { JournalFailed, type Journal } from './journal.js';
import { nextTempName } from './temp-names.js';

/**
 * The one guarded rewrite of a link, shared by --fix (fix/apply.ts) and undo (fix/undo.ts):
 * re-read the link, make the new one under a temporary name beside it with the old one's owner
 * and times, check the old one once more, journal, rename over it. The caller confirms the
 * result and, when it does not hold, rolls back with the same routine. Every failure carries its
 * reason and errno; `concurrent` tells another process's change from a failure of our own.
 */

type Failure = { ok: false; reason: string; errno: string | null; concurrent: boolean };
export type ReadResult = { ok: true; text: string } | { ok: false; errno: string };
export type Found = { ok: true; stat: LinkStat; text: string } | Failure;
export type Rewritten = { ok: true } | Failure;

/**
 * Errors that no later link can escape: the file system is full, over quota, read-only or failing.
 * Going on would only repeat them link after link (and a read-only remount in the middle of a run
 * is worth stopping for), so the fixer stops at the first one.
 */
const FATAL = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/**
 * A write failed with one of FATAL: what failed, and whether the journal line was already written.
 * Outside the fixer (undo) it is shown as it is: one line, exit 2.
 */
export class FsFault extends UsageError {
  constructor(
    readonly code: string,
    readonly what: string,
    readonly journaled: boolean,
    path: string,
  ) {
    super(`${what} ${toDisplay(path)} (${code}): stopped; nothing half done`);
  }
}

/** The link's text, or the errno of why it could not be read (EINVAL: no longer a link; ENOENT: gone). */
export function readLink(ops: DirOps, name: string): ReadResult {
  try {
    return { ok: true, text: ops.readlink(name) };
  } catch (err) {
    return { ok: false, errno: errnoOf(err) };
  }
}

/** The link `name` as it is now: its stat and text, or why it is no longer the link to rewrite. */
export function checkLink(ops: DirOps, name: string): Found {
  const stat = ops.lstat(name);
  if (!stat) return changed('the link no longer exists', 'ENOENT');
  if (stat.kind !== 'link') return changed('no longer a symlink: never replaced', null);
  const read = readLink(ops, name);
  if (read.ok) return { ok: true, stat, text: read.text };
  // Gone or replaced by a non-link between the lstat and the readlink: someone else's change.
  if (read.errno === 'EINVAL' || read.errno === 'ENOENT') return changed('changed while being read: no longer a symlink', read.errno);
  return { ok: false, reason: `could not read the link (${read.errno})`, errno: read.errno, concurrent: false };
}

/** An error's code as the messages have always named it. */
function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function changed(reason: string, errno: string | null): Failure {
  return { ok: false, reason, errno, concurrent: true };
}

/** The owner and times a rewritten link keeps. */
interface Keep {
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

export interface Rewrite {
  /** The link's name in the directory `ops` work in, and its host path (for the journal and messages). */
  name: string;
  path: string;
  /** The text it must still hold, and its inode. */
  expected: string;
  ino: bigint;
  /** The new text. */
  text: string;
  keep: Keep;
  /** Where the change is recorded before the rename (none for undo and roll-back). */
  journal: Journal | null;
}

/**
 * Replaces the link atomically. Nothing has changed when it fails. A journal that cannot be
 * written throws JournalFailed, after the temporary link is removed; a file system that is full
 * or read-only throws an FsFault (nothing changed either).
 */
export function rewriteLink(ops: DirOps, r: Rewrite): Rewritten {
  const tmp = nextTempName();
  try {
    ops.symlink(r.text, tmp);
  } catch (err) {
    const code = codeOf(err);
    if (FATAL.has(code)) throw new FsFault(code, 'could not create a temporary link beside', false, r.path);
    return { ok: false, reason: `could not create the temporary link (${code})`, errno: code, concurrent: false };
  }
  let journaled = false;
  try {
    ops.lchown(tmp, r.keep.uid, r.keep.gid);
    ops.lutimes(tmp, r.keep.atimeNs, r.keep.mtimeNs);
    const again = checkLink(ops, r.name);
    if (!again.ok || again.stat.ino !== r.ino || again.text !== r.expected) {
      ops.unlink(tmp);
      return again.ok || again.concurrent ? changed('changed while being fixed', again.ok ? null : again.errno) : again;
    }
    r.journal?.append({ path: r.path, old: r.expected, new: r.text, uid: r.keep.uid, gid: r.keep.gid, mtime: r.keep.mtimeNs, atime: r.keep.atimeNs, time: new Date().toISOString() });
    journaled = r.journal !== null;
    ops.rename(tmp, r.name);
    return { ok: true };
  } catch (err) {
    try {
      ops.unlink(tmp);
    } catch {
      // already gone, or the file system is read-only now: a later run removes it
    }
    if (err instanceof JournalFailed) throw err;
    const code = codeOf(err);
    if (FATAL.has(code)) throw new FsFault(code, 'could not replace', journaled, r.path);
    return { ok: false, reason: `could not replace the link (${code})`, errno: code, concurrent: false };
  }
}
