import { isUtf8 } from 'node:buffer';
import { errnoOf } from '../core/errors.js';
import { components } from '../core/paths.js';
import type { FsPort, LinkStat } from '../core/fs-port.js';

/** Operations on entries of one directory, by bare name: nothing here can be redirected by a link in the path. */
export interface DirOps {
  lstat(name: string): LinkStat | undefined;
  readlink(name: string): string;
  symlink(text: string, name: string): void;
  rename(from: string, to: string): void;
  unlink(name: string): void;
  lchown(name: string, uid: number, gid: number): void;
  lutimes(name: string, atimeNs: bigint, mtimeNs: bigint): void;
}

/**
 * Reaches directories for writing. `enter` answers the operations for a directory given by host
 * path, or a sentence saying why it is not safe to write there (a component is a link, was
 * swapped during the check, ...). `close` puts things back as they were.
 */
export interface DirGate {
  enter(dir: string): DirOps | string;
  close(): void;
}

export const NOT_ENTERABLE = 'a directory name on the way is not valid UTF-8, so the fixer cannot enter it safely';

/** Whether the gate for `fs` can reach `dir` at all: chdir takes UTF-8 text only. */
export function canEnter(fs: FsPort, dir: string): boolean {
  // '/' is never part of a multi-byte sequence, so the whole path is valid UTF-8 exactly when
  // each component is: one check over its bytes, no decoding and re-encoding per component.
  return !fs.real || /^[\x00-\x7f]*$/.test(dir) || isUtf8(Buffer.from(dir, 'latin1'));
}

export function gateFor(fs: FsPort): DirGate {
  return fs.real ? new ChdirGate(fs) : new PathGate(fs);
}

function lstatOrUndefined(fs: FsPort, p: string): LinkStat | undefined {
  try {
    return fs.lstat(p);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function opsAt(fs: FsPort, prefix: string): DirOps {
  const at = (name: string): string => prefix + name;
  return {
    lstat: (name) => lstatOrUndefined(fs, at(name)),
    readlink: (name) => fs.readlink(at(name)),
    symlink: (text, name) => fs.symlink(text, at(name)),
    rename: (from, to) => fs.rename(at(from), at(to)),
    unlink: (name) => fs.unlink(at(name)),
    lchown: (name, uid, gid) => fs.lchown(at(name), uid, gid),
    lutimes: (name, a, m) => fs.lutimes(at(name), a, m),
  };
}


interface Step {
  name: string;
  dev: bigint;
  ino: bigint;
}

/**
 * The real disk. Node has no openat(2), so a directory is pinned as the process's working
 * directory, reached one name at a time from '/': lstat(name) must be a real directory,
 * chdir(name), and lstat('.') must then be that same device and inode. A directory swapped for a
 * link at any moment is caught (chdir would follow the link; the identity check sees it), and
 * once pinned the working directory cannot be redirected: every write names a bare entry in it.
 * Moving between directories reuses the common prefix and climbs with '..', checking identities
 * on the way up. chdir is process-wide, so the fixer is serial and `close` restores the old cwd.
 *
 * process.chdir takes UTF-8 text only: a directory whose name is not valid UTF-8 cannot be
 * entered this way, and fixes below it are skipped.
 */
class ChdirGate implements DirGate {
  private readonly start = process.cwd();
  private readonly rootId: Step;
  private stack: Step[] = [];

  constructor(private readonly fs: FsPort) {
    process.chdir('/');
    const r = fs.lstat('.');
    this.rootId = { name: '', dev: r.dev, ino: r.ino };
  }

  enter(dir: string): DirOps | string {
    if (!canEnter(this.fs, dir)) return NOT_ENTERABLE;
    const comps = components(dir);
    if (this.moveTo(comps) === null) return opsAt(this.fs, '');
    // Start over from '/' once: a concurrent rename higher up may have moved us.
    this.reset();
    return this.moveTo(comps) ?? opsAt(this.fs, '');
  }

  private reset(): void {
    process.chdir('/');
    this.stack = [];
  }

  private same(a: { dev: bigint; ino: bigint }, b: { dev: bigint; ino: bigint }): boolean {
    return a.dev === b.dev && a.ino === b.ino;
  }

  private moveTo(comps: string[]): string | null {
    try {
      let k = 0;
      while (k < this.stack.length && k < comps.length && this.stack[k]!.name === comps[k]) k++;
      while (this.stack.length > k) {
        process.chdir('..');
        this.stack.pop();
        const expect = this.stack.length > 0 ? this.stack[this.stack.length - 1]! : this.rootId;
        if (!this.same(this.fs.lstat('.'), expect)) return 'a directory on the way was moved during the fix';
      }
      for (let i = k; i < comps.length; i++) {
        const name = comps[i]!;
        const before = lstatOrUndefined(this.fs, name);
        if (!before) return `${name} no longer exists`;
        if (before.kind !== 'dir') return `a directory on the way (${name}) is now a ${before.kind === 'link' ? 'symlink' : 'non-directory'}`;
        process.chdir(Buffer.from(name, 'latin1').toString('utf8'));
        const here = this.fs.lstat('.');
        if (!this.same(here, before)) return `a directory on the way (${name}) was swapped during the fix`;
        this.stack.push({ name, dev: here.dev, ino: here.ino });
      }
      return null;
    } catch (err) {
      return `a directory on the way could not be entered (${errnoOf(err)})`;
    }
  }

  close(): void {
    try {
      process.chdir(this.start);
    } catch {
      process.chdir('/');
    }
  }
}

/**
 * An injected file system (memfs): there is no process-wide directory to pin and no other
 * process to race with, so every component is checked to be a real directory and paths are used.
 */
class PathGate implements DirGate {
  constructor(private readonly fs: FsPort) {}

  enter(dir: string): DirOps | string {
    let p = '';
    for (const c of components(dir)) {
      p += '/' + c;
      const s = lstatOrUndefined(this.fs, p);
      if (!s) return `${c} no longer exists`;
      if (s.kind !== 'dir') return `a directory on the way (${c}) is now a ${s.kind === 'link' ? 'symlink' : 'non-directory'}`;
    }
    return opsAt(this.fs, p + '/');
  }

  close(): void {}
}
