import * as nodeFs from 'node:fs';
import { fromText, toNative } from './bytes.js';

/** What an entry is, as lstat(2) says: links are never followed here. */
export type Kind = 'dir' | 'link' | 'file' | 'other';

export interface DirEntry {
  /** Byte string (see bytes.ts). */
  name: string;
  kind: Kind;
}

export interface LinkStat {
  kind: Kind;
  dev: bigint;
  ino: bigint;
  uid: number;
  gid: number;
  mode: number;
  /** Nanoseconds since the epoch, exact (bigint lstat). */
  mtimeNs: bigint;
  atimeNs: bigint;
}

/**
 * The file system as linkcheck sees it: a small port so the same walker, resolver and fixer run
 * on the real disk and on memfs. Every path is a byte string. Reads throw fs errors with a
 * `code`, except `kind`, which answers `undefined` for ENOENT because dangling links are common
 * and a thrown error is far slower than a return value.
 */
export interface FsPort {
  /** True for the real disk: only there can the fixer pin directories with chdir (see fix/gate.ts). */
  readonly real: boolean;
  readdir(dir: string): DirEntry[];
  kind(path: string): Kind | undefined;
  lstat(path: string): LinkStat;
  readlink(path: string): string;
  realpath(path: string): string;
  symlink(target: string, path: string): void;
  /** rename(2) of a symlink onto another name: atomic replacement on a real disk. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  lchown(path: string, uid: number, gid: number): void;
  /** Sets atime and mtime of the link itself; nanoseconds are rounded to what the platform keeps. */
  lutimes(path: string, atimeNs: bigint, mtimeNs: bigint): void;
}

/** The subset of node:fs (or memfs' createFsFromVolume result) the port is built from. */
export interface NodeLikeFs {
  readdirSync: typeof nodeFs.readdirSync;
  lstatSync: typeof nodeFs.lstatSync;
  readlinkSync: typeof nodeFs.readlinkSync;
  realpathSync: typeof nodeFs.realpathSync;
  symlinkSync: typeof nodeFs.symlinkSync;
  renameSync: typeof nodeFs.renameSync;
  unlinkSync: typeof nodeFs.unlinkSync;
  lchownSync: typeof nodeFs.lchownSync;
  lutimesSync: typeof nodeFs.lutimesSync;
}

function kindOf(s: { isDirectory(): boolean; isSymbolicLink(): boolean; isFile(): boolean }): Kind {
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'link';
  if (s.isFile()) return 'file';
  return 'other';
}

const NS_PER_S = 1_000_000_000n;
/**
 * Node takes times as seconds in a double (good to about ±120 ns today) and keeps whole
 * microseconds, truncating. Aiming at the middle of the microsecond makes it land on the right
 * one: times are kept exactly to the microsecond, which is as exact as Node allows.
 */
function nsToSeconds(ns: bigint): number {
  const mid = (ns / 1000n) * 1000n + 500n;
  return Number(mid / NS_PER_S) + Number(mid % NS_PER_S) / 1e9;
}

/** The real disk, through node:fs, with names as raw bytes. */
export function nodeFsPort(fs: NodeLikeFs = nodeFs): FsPort {
  const n = toNative;
  return {
    real: fs === nodeFs,
    readdir(dir) {
      const ents = fs.readdirSync(n(dir), { withFileTypes: true, encoding: 'latin1' as BufferEncoding });
      const out: DirEntry[] = new Array(ents.length);
      for (let i = 0; i < ents.length; i++) {
        const d = ents[i]!;
        let kind: Kind = kindOf(d);
        // Some file systems report DT_UNKNOWN; only then does an entry cost an lstat.
        if (kind === 'other' && !d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice()) {
          const s = fs.lstatSync(n(dir + '/' + d.name), { throwIfNoEntry: false });
          kind = s ? kindOf(s) : 'other';
        }
        out[i] = { name: d.name as string, kind };
      }
      return out;
    },
    kind(p) {
      const s = fs.lstatSync(n(p), { throwIfNoEntry: false });
      return s ? kindOf(s) : undefined;
    },
    lstat(p) {
      const s = fs.lstatSync(n(p), { bigint: true });
      return {
        kind: kindOf(s),
        dev: s.dev,
        ino: s.ino,
        uid: Number(s.uid),
        gid: Number(s.gid),
        mode: Number(s.mode),
        mtimeNs: s.mtimeNs,
        atimeNs: s.atimeNs,
      };
    },
    readlink(p) {
      return fs.readlinkSync(n(p), { encoding: 'latin1' as BufferEncoding }) as string;
    },
    realpath(p) {
      return fs.realpathSync.native(n(p), { encoding: 'latin1' as BufferEncoding }) as string;
    },
    rename(from, to) {
      fs.renameSync(n(from), n(to));
    },
    ...simpleWrites(fs, n),
  };
}

/**
 * memfs (through createFsFromVolume) as a port. memfs keeps names as UTF-8 strings, so byte
 * strings are converted at this edge; and its rename follows a symlink source instead of moving
 * the link, so renaming a link is emulated (memfs is single-threaded: nothing can observe the gap).
 */
export function memFsPort(fs: NodeLikeFs): FsPort {
  const u = (b: string): string => Buffer.from(b, 'latin1').toString('utf8');
  const base = nodeFsPort(fs);
  return {
    ...base,
    real: false,
    readdir(dir) {
      return (fs.readdirSync(u(dir), { withFileTypes: true }) as unknown as nodeFs.Dirent[]).map((d) => ({
        name: fromText(String(d.name)),
        kind: kindOf(d),
      }));
    },
    kind(p) {
      const s = fs.lstatSync(u(p), { throwIfNoEntry: false });
      return s ? kindOf(s) : undefined;
    },
    readlink(p) {
      return fromText(String(fs.readlinkSync(u(p))));
    },
    realpath(p) {
      return fromText(String(fs.realpathSync(u(p))));
    },
    ...simpleWrites(fs, u),
    rename(from, to) {
      const src = fs.lstatSync(u(from), { bigint: true });
      if (!src.isSymbolicLink()) return fs.renameSync(u(from), u(to));
      const text = String(fs.readlinkSync(u(from)));
      const dst = fs.lstatSync(u(to), { throwIfNoEntry: false });
      if (dst?.isDirectory()) throw Object.assign(new Error(`EISDIR: rename onto a directory: ${to}`), { code: 'EISDIR' });
      if (dst) fs.unlinkSync(u(to));
      fs.symlinkSync(text, u(to));
      fs.lchownSync(u(to), Number(src.uid), Number(src.gid));
      fs.lutimesSync(u(to), nsToSeconds(src.atimeNs), nsToSeconds(src.mtimeNs));
      fs.unlinkSync(u(from));
    },
  };
}

/** The writes that need nothing but the path converted: the same for both ports. */
function simpleWrites(fs: NodeLikeFs, conv: (b: string) => string | Buffer): Pick<FsPort, 'symlink' | 'unlink' | 'lchown' | 'lutimes'> {
  return {
    symlink(target, p) {
      fs.symlinkSync(conv(target), conv(p));
    },
    unlink(p) {
      fs.unlinkSync(conv(p));
    },
    lchown(p, uid, gid) {
      fs.lchownSync(conv(p), uid, gid);
    },
    lutimes(p, atimeNs, mtimeNs) {
      fs.lutimesSync(conv(p), nsToSeconds(atimeNs), nsToSeconds(mtimeNs));
    },
  };
}
