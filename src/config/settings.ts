import picomatch from 'picomatch';
import { fromJsonText, toDisplay, toJsonText } from '../core/bytes.js';
import { UsageError, errnoOf } from '../core/errors.js';
import { type FsPort, type Kind, nodeFsPort } from '../core/fs-port.js';
import { absoluteFrom, basename, dirname, isAbsolute, isWithin } from '../core/paths.js';
import type { Credentials } from '../resolve/reader.js';
import type { ImageLayers } from '../rules/types.js';
import { compilePolicy, type Policy, type PolicyOptions } from './policy.js';
import { credentialsOf } from './user.js';

/**
 * What a caller may say; everything is optional but the paths. Strings are ordinary (UTF-8) text;
 * a name that is not valid UTF-8 is written as the results write it (`\udcXX` per byte, see
 * fromBytes), so a path from a result can be passed back as it is.
 */
export interface AuditOptions extends PolicyOptions {
  /** Directories (or files) to scan. Relative paths are taken from `cwd`. */
  paths: string[];
  /** The jail root: the directory a chrooted process sees as '/'. Default '/'. */
  root?: string | undefined;
  /** Glob patterns (picomatch, dot files included) of entries to leave out, matched against the
   * path relative to each scanned path and, for patterns without '/', against the name alone. */
  exclude?: string[] | undefined;
  /** Do not descend into directories on other file systems (find -xdev). */
  oneFileSystem?: boolean | undefined;
  /** Which links --fix may rewrite: those whose target is inside the root (default) or inside the scanned tree. */
  fixScope?: 'root' | 'tree' | undefined;
  /** The file system; the real disk by default. */
  fs?: FsPort | undefined;
  /** Where relative paths start; process.cwd() by default. */
  cwd?: string | undefined;
  /**
   * Judge both views as this user would resolve them (--as-user): a name, `uid` or `uid:gid`, or
   * credentials already looked up. Taking another user's credentials needs root.
   */
  asUser?: string | Credentials | undefined;
  /**
   * The tree is a container image's merged root (--image, read in place by src/image): the
   * layer of each link is reported and the layer-ambiguity rule judges what runtimes disagree on.
   */
  image?: ImageLayers | undefined;
}

/** The frozen, validated form of AuditOptions: every default decided in one place. */
export interface Settings {
  readonly fs: FsPort;
  /** Host real path of the root, as a byte string; '/' when none was given. */
  readonly root: string;
  /** The root as a view prefix: '' for '/', else the root itself. */
  readonly rootHost: string;
  /**
   * Host paths of the scanned paths, byte strings, in walk order, none inside another: real
   * paths of directories, and for a scan path that is itself a symlink, the link (its directory's
   * real path plus its name), judged as a link and never followed.
   */
  readonly scanned: readonly string[];
  /** The scanned paths that are symlinks. */
  readonly scannedLinks: readonly string[];
  readonly exclude: ((relative: string, isDir: boolean) => boolean) | undefined;
  /** The --exclude patterns that have matched nothing so far (an absolute one never can). */
  readonly unmatchedExcludes: () => string[];
  readonly excludePatterns: readonly string[];
  readonly oneFileSystem: boolean;
  readonly fixScope: 'root' | 'tree';
  /** Rule levels, allow entries, requirements and preset. */
  readonly policy: Policy;
  /** Who reads the tree (--as-user); null: the caller, as today. */
  readonly reader: Credentials | null;
  /** --image: the image's layers (null: a tree on a disk). */
  readonly image: ImageLayers | null;
}

export function settingsFrom(options: AuditOptions): Settings {
  const fs = options.fs ?? nodeFsPort();
  const cwd = fromJsonText(options.cwd ?? process.cwd());
  if (!options.paths || options.paths.length === 0) throw new UsageError('no path to scan given: name at least one directory');
  if (options.root === '') throw new UsageError('--root is empty: name the jail root directory (an unset variable in a cron line?)');
  const root = options.root === undefined ? '/' : realDir(fs, absoluteFrom(cwd, fromJsonText(options.root)), 'root');
  const tops: ScanTop[] = [];
  for (const p of options.paths) {
    if (p === '') throw new UsageError('an empty path was given: name a directory to scan');
    for (const top of scanTopsOrHint(fs, cwd, fromJsonText(p), root)) {
      // `alias/` where the alias itself lies outside the jail: only the directory is the jail's.
      if (top.beside && !isWithin(top.path, root)) continue;
      if (!isWithin(top.path, root))
        throw new UsageError(`path ${toDisplay(top.path)} is not under the root ${toDisplay(root)}: scan a directory inside the root, or give the right --root`);
      tops.push(top);
    }
  }
  // In walk order (a directory sorts as its name plus '/'), a directory comes before everything
  // inside it, so one pass drops repeats and nesting, and links come out in path order across tops.
  const key = (t: ScanTop): string => (t.kind === 'dir' ? t.path + '/' : t.path);
  tops.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const deduped: ScanTop[] = [];
  for (const t of tops) if (!deduped.some((o) => o.path === t.path || (o.kind === 'dir' && isWithin(t.path, o.path)))) deduped.push(t);
  const fixScope = options.fixScope ?? 'root';
  if (fixScope !== 'root' && fixScope !== 'tree') throw new UsageError(`unknown fix scope "${String(fixScope)}": use root or tree`);
  const patterns = options.exclude ?? [];
  const matcher = patterns.length > 0 ? excluder(patterns) : undefined;
  return Object.freeze({
    fs,
    root,
    rootHost: root === '/' ? '' : root,
    scanned: Object.freeze(deduped.map((t) => t.path)),
    scannedLinks: Object.freeze(deduped.filter((t) => t.kind === 'link').map((t) => t.path)),
    exclude: matcher?.test,
    unmatchedExcludes: matcher ? matcher.unmatched : () => [],
    excludePatterns: Object.freeze([...patterns]),
    oneFileSystem: options.oneFileSystem ?? false,
    fixScope,
    policy: compilePolicy(options),
    reader: options.asUser === undefined ? null : typeof options.asUser === 'string' ? credentialsOf(options.asUser) : options.asUser,
    image: options.image ?? null,
  });
}

function realPath(fs: FsPort, p: string, what: string): string {
  try {
    return fs.realpath(p);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') throw new UsageError(`${what} ${toDisplay(p)} does not exist`);
    if (code === 'EACCES') throw new UsageError(`${what} ${toDisplay(p)} cannot be reached: permission denied`);
    throw new UsageError(`${what} ${toDisplay(p)} cannot be resolved (${code})`);
  }
}

function realDir(fs: FsPort, p: string, what: string): string {
  const real = realPath(fs, p, what);
  if (fs.kind(real) !== 'dir') throw new UsageError(`${what} ${toDisplay(p)} is not a directory: --root names the directory the jail sees as /`);
  return real;
}

/**
 * Matches the --exclude patterns and remembers which have matched, so a pattern that matched
 * nothing in a whole run (a typo, or an absolute path where a relative one is meant) is told to
 * the user instead of silently excluding nothing. Which pattern matched is asked only while some
 * pattern has not matched yet: after that the combined matcher alone runs.
 */
function excluder(patterns: string[]): { test: (relative: string, isDir: boolean) => boolean; unmatched: () => string[] } {
  for (const p of patterns) if (p.trim() === '') throw new UsageError('an empty --exclude pattern was given');
  const full = picomatch(patterns, { dot: true });
  const base = picomatch(
    patterns.filter((p) => !p.includes('/')),
    { dot: true },
  );
  const hasBase = patterns.some((p) => !p.includes('/'));
  const each = patterns.map((p) => ({ p, full: picomatch(p, { dot: true }), base: p.includes('/') ? null : picomatch(p, { dot: true }) }));
  let waiting = [...each];
  const hit = (text: string, name: string): void => {
    waiting = waiting.filter((w) => !(w.full(text) || w.base?.(name)));
  };
  return {
    test(rel) {
      const text = toJsonText(rel);
      const name = text.slice(text.lastIndexOf('/') + 1);
      const matched = full(text) || (hasBase && base(name));
      if (matched && waiting.length > 0) hit(text, name);
      return matched;
    },
    unmatched: () => waiting.map((w) => w.p),
  };
}

interface ScanTop {
  path: string;
  kind: 'dir' | 'link';
  /** A link named with a trailing slash, judged beside the directory it leads to. */
  beside?: boolean;
}

/**
 * What one scan path names. A directory is scanned by its real path. A symlink is judged as a
 * link and not followed (the walk never follows links, and a scan path is no exception); with a
 * trailing slash (`current/`, as in `ls current/`) the directory it leads to on the host is
 * scanned as well (and a link outside the root named so is only the way to that directory). Anything else is a mistake worth one line: a file has no links below it, and
 * "0 links" would pass a check that never looked.
 */
/**
 * scanTops, and when a relative path missing from the working directory is there inside the
 * root, the error says so: with a plain --root a scan path is read from the cwd, while the paths of
 * a root glob (and a config's) are read inside each root.
 */
function scanTopsOrHint(fs: FsPort, cwd: string, given: string, root: string): ScanTop[] {
  try {
    return scanTops(fs, cwd, given);
  } catch (err) {
    if (!(err instanceof UsageError) || isAbsolute(given) || root === '/' || !err.message.endsWith(' does not exist')) throw err;
    const inside = (root + '/' + given).replace(/\/+$/, '');
    if (fs.kind(inside) === undefined) throw err;
    throw new UsageError(`${err.message}: did you mean ${toDisplay(inside)}? (a scan path is read from the working directory; only a root glob reads it inside each root)`);
  }
}

function scanTops(fs: FsPort, cwd: string, given: string): ScanTop[] {
  const abs = absoluteFrom(cwd, given);
  const bare = abs.length > 1 ? abs.replace(/\/+$/, '') || '/' : abs;
  const last = basename(bare);
  let kind: Kind | undefined;
  try {
    kind = last === '.' || last === '..' ? 'dir' : fs.lstat(bare).kind;
  } catch {
    kind = undefined; // realPath below says why
  }
  if (kind === 'link') {
    const link = { path: joinPath(realPath(fs, dirname(bare) || '/', 'path'), last), kind: 'link' as const };
    if (bare === abs) return [link];
    let real: string | undefined;
    try {
      real = fs.realpath(abs);
    } catch {
      // said below
    }
    if (real === undefined || fs.kind(real) !== 'dir')
      throw new UsageError(`path ${toDisplay(abs)} does not lead to a directory on the host: drop the trailing / to judge the link alone`);
    return [{ ...link, beside: true }, { path: real, kind: 'dir' }];
  }
  const real = realPath(fs, abs, 'path');
  const k = fs.kind(real);
  if (k !== 'dir')
    throw new UsageError(`path ${toDisplay(abs)} is ${k === 'file' ? 'a file' : 'not a directory'}: name a directory to scan (a symlink is judged as a link)`);
  return [{ path: real, kind: 'dir' }];
}

function joinPath(dir: string, name: string): string {
  return (dir === '/' ? '' : dir) + '/' + name;
}
