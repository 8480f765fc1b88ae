import picomatch from 'picomatch';
import { fromText, toDisplay, toJsonText } from './bytes.js';
import { UsageError, errnoOf } from './errors.js';
import { type FsPort, nodeFsPort } from './fs-port.js';
import { isWithin } from './paths.js';
import { compilePolicy, type Policy, type PolicyOptions } from './policy.js';

/** What a caller may say; everything is optional but the paths. Strings are ordinary (UTF-8) text. */
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
}

/** The frozen, validated form of AuditOptions: every default decided in one place. */
export interface Settings {
  readonly fs: FsPort;
  /** Host real path of the root, as a byte string; '/' when none was given. */
  readonly root: string;
  /** The root as a view prefix: '' for '/', else the root itself. */
  readonly rootHost: string;
  /** Host real paths of the scanned paths, byte strings, sorted, none inside another. */
  readonly scanned: readonly string[];
  readonly exclude: ((relative: string, isDir: boolean) => boolean) | undefined;
  readonly excludePatterns: readonly string[];
  readonly oneFileSystem: boolean;
  readonly fixScope: 'root' | 'tree';
  /** Rule levels, allow entries, requirements and preset. */
  readonly policy: Policy;
}

export function settingsFrom(options: AuditOptions): Settings {
  const fs = options.fs ?? nodeFsPort();
  const cwd = fromText(options.cwd ?? process.cwd());
  if (!options.paths || options.paths.length === 0) throw new UsageError('no path to scan given: name at least one directory');
  if (options.root === '') throw new UsageError('--root is empty: name the jail root directory (an unset variable in a cron line?)');
  const root = options.root === undefined ? '/' : realDir(fs, absolute(cwd, fromText(options.root)), 'root');
  const scanned: string[] = [];
  for (const p of options.paths) {
    if (p === '') throw new UsageError('an empty path was given: name a directory to scan');
    const real = realPath(fs, absolute(cwd, fromText(p)), 'path');
    if (!isWithin(real, root))
      throw new UsageError(`path ${toDisplay(real)} is not under the root ${toDisplay(root)}: scan a directory inside the root, or give the right --root`);
    scanned.push(real);
  }
  // Sorted, a directory comes before everything inside it, so one pass drops repeats and nesting.
  scanned.sort();
  const outer: string[] = [];
  for (const s of scanned) if (!outer.some((o) => isWithin(s, o))) outer.push(s);
  const fixScope = options.fixScope ?? 'root';
  if (fixScope !== 'root' && fixScope !== 'tree') throw new UsageError(`unknown fix scope "${String(fixScope)}": use root or tree`);
  const patterns = options.exclude ?? [];
  return Object.freeze({
    fs,
    root,
    rootHost: root === '/' ? '' : root,
    scanned: Object.freeze(outer),
    exclude: patterns.length > 0 ? excluder(patterns) : undefined,
    excludePatterns: Object.freeze([...patterns]),
    oneFileSystem: options.oneFileSystem ?? false,
    fixScope,
    policy: compilePolicy(options),
  });
}

function absolute(cwd: string, p: string): string {
  return p.startsWith('/') ? p : (cwd === '/' ? '' : cwd) + '/' + p;
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

function excluder(patterns: string[]): (relative: string, isDir: boolean) => boolean {
  for (const p of patterns) if (p.trim() === '') throw new UsageError('an empty --exclude pattern was given');
  const full = picomatch(patterns, { dot: true });
  const base = picomatch(
    patterns.filter((p) => !p.includes('/')),
    { dot: true },
  );
  const hasBase = patterns.some((p) => !p.includes('/'));
  return (rel) => {
    const text = toJsonText(rel);
    if (full(text)) return true;
    return hasBase && base(text.slice(text.lastIndexOf('/') + 1));
  };
}
