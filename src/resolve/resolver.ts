import { isAbsolute, SLASH } from '../core/paths.js';
import type { DirEntry, FsPort, Kind } from '../core/fs-port.js';
import { errnoOf } from '../core/errors.js';
import type { AccessGate } from './reader.js';

/** The kernel's answer for a path, in linkcheck's words (see the JSON contract). */
export type Status = 'ok' | 'dangling' | 'loop' | 'notdir' | 'denied' | 'error';

/** One link followed while resolving: where it is (in the view's terms) and its text. */
export interface Hop {
  path: string;
  text: string;
}

/** How a path resolved in one view: where it ended (ok), or where and why it failed. */
export type Resolution = Resolved | Unresolved;

/**
 * A resolution that ended on an existing entry.
 * @public (named in the rules' emitted declarations, through Resolution)
 */
export interface Resolved {
  status: 'ok';
  /** The fully resolved path in the view's terms. */
  resolved: string;
  errno: null;
  failedAt: null;
  /** Every link followed, in order, starting with the link itself when resolving a link. */
  hops: Hop[];
}

/**
 * A resolution that failed.
 * @public (named in the rules' emitted declarations, through Resolution)
 */
export interface Unresolved {
  status: Exclude<Status, 'ok'>;
  resolved: null;
  /** The errno behind the status (ENOENT, ELOOP, ENOTDIR, EACCES, ...). */
  errno: string | null;
  /** The path (in the view's terms) of the component that could not be resolved. */
  failedAt: string | null;
  hops: Hop[];
}

/** Linux's PATH_MAX: a path handed to a system call must fit in this many bytes with its NUL. */
const PATH_MAX = 4096;

/** Linux's MAXSYMLINKS: the 41st link followed in one resolution fails with ELOOP. */
const MAX_HOPS = 40;

function statusOf(errno: string): Unresolved['status'] {
  switch (errno) {
    case 'ENOENT':
      return 'dangling';
    case 'ELOOP':
      return 'loop';
    case 'ENOTDIR':
      return 'notdir';
    case 'EACCES':
      return 'denied';
    default:
      return 'error';
  }
}

/** A view is where absolute texts start and `..` stops: the jail root, or '' for the host's '/'. */
export interface View {
  /** Host path of the view's root without a trailing slash; '' is the host root '/'. */
  rootHost: string;
}

/**
 * Answers the text a link at a host path should be taken to have instead of its text on disk,
 * or undefined for "as on disk". The fix planner resolves through links as if fixed already.
 */
export type TextOverride = (hostPath: string, diskText: string) => string | undefined;

export interface ResolverOptions {
  /** Entries kept in memory before the cache is dropped and refilled (keeps memory flat). */
  cacheLimit?: number;
  /** Cut a looping walk short once it repeats itself (default true; false walks all 40 links, for tests). */
  cycleShortcut?: boolean;
  /** Hears each answer read from the disk: the entry's kind, or the errno (ENOENT: nothing there). */
  onRead?: ((hostPath: string, answer: Kind | string) => void) | undefined;
  /** Resolve as another reader would (--as-user): every search and every link followed is asked of it. */
  gate?: AccessGate | undefined;
  /**
   * Without a gate, for a caller that is not root: whether it may search a directory it already
   * entered, asked where a walk does not look a name up ('.' and '..'), so the answer there is the
   * kernel's too (a name it looks up answers by itself: lstat fails).
   */
  selfSearch?: ((hostDir: string) => string | null) | undefined;
}

/** A real directory the resolver has looked into; children are filled in as they are asked for. */
interface DirNode {
  parent: DirNode | null;
  /** Host path, '' for '/'. */
  path: string;
  /** Null until something is learnt in it: most directories on the way are never looked into. */
  children: Map<string, Entry> | null;
  /** The children are the whole listing: a name not among them does not exist. */
  complete: boolean;
  /** What the reader (--as-user) is known to be let do, per view: see READER_BITS. */
  reader: number;
}

/** DirNode.reader's bits: the reader may search the directory, or reach it from the view's root, in the jail or on the host. */
const READER_BITS = { search: { jail: 1, host: 2 }, reach: { jail: 4, host: 8 }, self: 16 } as const;
interface LinkEntry {
  text: string | null;
}
/** A directory, a link, or a string: 'file' / 'other' for other kinds, an errno code for failures. */
type Entry = DirNode | LinkEntry | string;

const isDir = (e: Entry): e is DirNode => typeof e === 'object' && 'children' in e;

/**
 * Resolves paths component by component with lstat and readlink only, the way the kernel's path
 * walk does under openat2's RESOLVE_IN_ROOT: absolute text restarts at the view's root, `..`
 * never climbs above it, every nested link is re-rooted the same way, a trailing slash demands a
 * directory, and the 41st link followed is a loop. Never realpath or stat: those answer for the
 * host and would be wrong for the jail.
 *
 * What it learns is kept as a tree of directories shared by both views and every link, keyed by
 * name: a directory prefix or a target that many links share costs one system call in all, and
 * a step costs a lookup by a short name rather than hashing a full path. The tree is dropped and
 * refilled when it grows past `cacheLimit` entries, so memory stays flat on huge trees.
 */
export class Resolver {
  private root: DirNode = newRoot();
  private size = 0;
  private readonly limit: number;
  private readonly shortcut: boolean;
  private readonly onRead: ((hostPath: string, answer: Kind | string) => void) | undefined;
  private readonly selfSearch: ((hostDir: string) => string | null) | undefined;
  /** The reader asked at each step, if any: the one given, or none while `as` says so. */
  private gate: AccessGate | undefined;
  /** Directory nodes by host path: a link's directory is asked for many times, and walking down to it costs a lookup per component. */
  private dirs = new Map<string, DirNode>();
  private roots = new Map<string, DirNode | null>();
  /**
   * Resolutions of absolute link texts by view root and text: such a walk starts at the view's
   * root wherever the link is, so links that share a text (a deploy's `log`, `tmp/pids` in every
   * release) share one walk; only the first hop, the link itself, differs.
   */
  private absolute = new Map<string, Map<string, Resolution>>();
  /** The same, for walks with no reader while a reader is given (`as`): they may end elsewhere. */
  private absoluteAsCaller = new Map<string, Map<string, Resolution>>();

  constructor(
    private readonly fs: FsPort,
    options: ResolverOptions = {},
  ) {
    // Lookups are local (a walk in path order, links mostly near their targets), so a small
    // cache loses few lstat calls and saves memory (docs/performance.md, "Figures behind the code").
    this.limit = options.cacheLimit ?? 30_000;
    this.shortcut = options.cycleShortcut ?? true;
    this.onRead = options.onRead;
    this.gate = options.gate;
    this.selfSearch = options.selfSearch;
  }

  /** Drops everything learnt; the next resolution asks the file system again. */
  clear(): void {
    this.root = newRoot();
    this.size = 0;
    this.dirs.clear();
    this.roots.clear();
    this.absolute.clear();
    this.absoluteAsCaller.clear();
  }

  /**
   * Runs `fn` with walks that ask `gate` (undefined: no reader, the caller's view), sharing what
   * was learnt of the tree: --as-user judges as the reader and plans fixes as the caller.
   */
  as<T>(gate: AccessGate | undefined, fn: () => T): T {
    const before = this.gate;
    const cache = this.absolute;
    if (gate !== before) {
      this.gate = gate;
      this.absolute = this.absoluteAsCaller;
      this.absoluteAsCaller = cache;
    }
    try {
      return fn();
    } finally {
      if (gate !== before) {
        this.gate = before;
        this.absoluteAsCaller = this.absolute;
        this.absolute = cache;
      }
    }
  }

  /**
   * Tells the resolver what the walker just listed in a directory, so lookups there need no
   * system call. Entries already known (a directory with what was learnt below it) are kept.
   */
  primeDir(hostDir: string, entries: readonly DirEntry[]): void {
    const node = this.dirNode(hostDir);
    if (!node) return;
    for (const d of entries) this.learn(node, d.name, d.kind);
    this.size += entries.length;
    node.complete = true;
  }

  private learn(node: DirNode, name: string, kind: Kind): void {
    const ch = (node.children ??= new Map());
    if (ch.has(name)) return;
    ch.set(name, kind === 'dir' ? newDir(node, name) : kind === 'link' ? { text: null } : kind);
  }

  /**
   * Tells the resolver a link's text the walker already read, so it need not ask again. The
   * walker has just listed `hostDir` and every directory above it, so they are taken as real
   * directories without asking the disk.
   */
  prime(hostDir: string, name: string, text: string): void {
    const node = this.dirNode(hostDir, true);
    if (!node) return;
    const e = node.children?.get(name);
    if (e === undefined) {
      (node.children ??= new Map()).set(name, { text });
      this.size++;
    } else if (typeof e === 'object' && !isDir(e)) {
      // A new text (a link just fixed) changes what walks through it: forget the shared ones.
      if (e.text !== null && e.text !== text) {
        this.absolute.clear();
        this.absoluteAsCaller.clear();
      }
      e.text = text;
    }
  }

  /**
   * Follows the link `name` in the real directory `hostDir` (host path, as the walker found it),
   * whose text is `text`, in `view`: the link itself is the first hop.
   */
  resolveLink(view: View, hostDir: string, name: string, text: string, override?: TextOverride): Resolution {
    this.maybeReset();
    const start = this.dirNode(hostDir);
    const linkPath = viewPath(view, (hostDir === '/' ? '' : hostDir) + '/' + name);
    if (!start) return fail('ENOENT', viewPath(view, hostDir), [{ path: linkPath, text }]);
    if (this.gate !== undefined) {
      // The reader reaches the link through its directories, then follows the link itself.
      const refused = this.reach(view, start, [{ path: linkPath, text }]) ?? this.follows(view, start, name, [{ path: linkPath, text }]);
      if (refused !== null) return refused;
    }
    if (override !== undefined || !isAbsolute(text)) return this.walk(view, start, text, [{ path: linkPath, text }], override);
    let byText = this.absolute.get(view.rootHost);
    if (byText === undefined) this.absolute.set(view.rootHost, (byText = new Map()));
    const known = byText.get(text);
    if (known !== undefined) {
      const hops = known.hops.slice();
      hops[0] = { path: linkPath, text };
      return { ...known, hops };
    }
    const r = this.walk(view, start, text, [{ path: linkPath, text }], undefined);
    // A walk that only noted what the reader is asked about is no answer to keep.
    if (this.gate?.noting === true) return r;
    byText.set(text, r);
    this.size++;
    return r;
  }

  /** Resolves `text` from the real directory `hostDir` in `view`, following links. */
  resolvePath(view: View, hostDir: string, text: string, override?: TextOverride): Resolution {
    this.maybeReset();
    const start = this.dirNode(hostDir);
    if (!start) return fail('ENOENT', viewPath(view, hostDir), []);
    if (this.gate !== undefined) {
      const refused = this.reach(view, start, []);
      if (refused !== null) return refused;
    }
    return this.walk(view, start, text, [], override);
  }

  /**
   * The reader's walk from the view's root down to the real directory `dir`: each directory on
   * the way must let it search (the host's '/' for the host view; the jail root for the jail).
   */
  private reach(view: View, dir: DirNode, hops: Hop[]): Resolution | null {
    const bit = view.rootHost === '' ? READER_BITS.reach.host : READER_BITS.reach.jail;
    if ((dir.reader & bit) !== 0) return null;
    const chain: DirNode[] = [];
    for (let d: DirNode | null = dir; d !== null; d = d.parent) {
      chain.push(d);
      if (view.rootHost !== '' && d.path === view.rootHost) break;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const refused = this.refused(view, chain[i]!);
      if (refused !== null) return fail(refused, viewPath(view, chain[i]!.path), hops);
    }
    if (this.gate!.noting !== true) dir.reader |= bit;
    return null;
  }

  /** Why the caller may not search `dir` (null: it may, or nobody asks), kept on the node once allowed. */
  private refusedToSelf(dir: DirNode): string | null {
    if (this.selfSearch === undefined || (dir.reader & READER_BITS.self) !== 0) return null;
    const r = this.selfSearch(dir.path);
    if (r === null) dir.reader |= READER_BITS.self;
    return r;
  }

  /** Why the reader may not search `dir` in `view` (null: it may), kept on the node once allowed. */
  private refused(view: View, dir: DirNode): string | null {
    const bit = view.rootHost === '' ? READER_BITS.search.host : READER_BITS.search.jail;
    if ((dir.reader & bit) !== 0) return null;
    const r = this.gate!.search(view.rootHost, dir.path);
    if (r === null && this.gate!.noting !== true) dir.reader |= bit;
    return r;
  }

  /** The reader may follow the link `name` found in `dir` (fs.protected_symlinks). */
  private follows(view: View, dir: DirNode, name: string, hops: Hop[]): Resolution | null {
    const at = dir.path + '/' + name;
    return this.gate!.follow(dir.path, at) ? null : fail('EACCES', viewPath(view, at), hops);
  }

  /** Whether the host path names a real directory (asked of the cache first, as a walk would). */
  isDirectory(hostPath: string): boolean {
    return this.dirNode(hostPath) !== null;
  }

  private maybeReset(): void {
    if (this.size > this.limit) this.clear();
  }

  /**
   * The node of a real directory by host path, or null when it is not one (any more). Found
   * from the nearest known ancestor, usually the parent: links come in walk order.
   */
  private dirNode(hostDir: string, trusted = false): DirNode | null {
    const known = this.dirs.get(hostDir);
    if (known !== undefined) return known;
    let end = hostDir.length;
    while (end > 0 && hostDir.charCodeAt(end - 1) === SLASH) end--;
    if (end === 0) {
      this.dirs.set('/', this.root);
      return this.root;
    }
    const cut = hostDir.lastIndexOf('/', end - 1);
    const parent = this.dirNode(cut <= 0 ? '/' : hostDir.slice(0, cut), trusted);
    if (!parent) return null;
    const name = hostDir.slice(cut + 1, end);
    let e = trusted ? parent.children?.get(name) : this.lookup(parent, name);
    if (e === undefined || (trusted && !isDir(e))) {
      e = newDir(parent, name);
      (parent.children ??= new Map()).set(name, e);
      this.size++;
    }
    if (!isDir(e)) return null;
    // Keyed by the node's own path, which it keeps anyway, not by the caller's copy of it.
    this.dirs.set(e.path, e);
    this.size++;
    return e;
  }

  private lookup(dir: DirNode, name: string): Entry {
    // lstat refuses a host path of PATH_MAX bytes or more (docs/how-fix-works.md, "Limits"): say so whatever the
    // walk has primed, or the answer would depend on the cache (and differ between -j 1 and -j 2).
    if (dir.path.length + 1 + name.length >= PATH_MAX) return 'ENAMETOOLONG';
    let e = dir.children?.get(name);
    if (e !== undefined) return e;
    // A full listing settles that a name is absent, except for one too long to exist at all,
    // where the kernel says ENAMETOOLONG: ask the file system about those.
    if (dir.complete && name.length <= 255) return 'ENOENT';
    const path = dir.path + '/' + name;
    let k: Kind | undefined;
    try {
      k = this.fs.kind(path);
      if (k === undefined) e = 'ENOENT';
      else if (k === 'dir') e = newDir(dir, name);
      else if (k === 'link') e = { text: null };
      else e = k;
    } catch (err) {
      e = errnoOf(err);
    }
    this.onRead?.(path, k ?? (e as string));
    (dir.children ??= new Map()).set(name, e);
    this.size++;
    return e;
  }

  /** A link's text, or why it cannot be read. */
  private readlink(at: string): string | { errno: string } {
    try {
      return this.fs.readlink(at);
    } catch (err) {
      return { errno: errnoOf(err) };
    }
  }

  /** The view's root as a node (null: it is no directory any more). */
  private rootOf(view: View): DirNode | null {
    let rootNode = view.rootHost === '' ? this.root : this.roots.get(view.rootHost);
    if (rootNode === undefined) {
      rootNode = this.dirNode(view.rootHost);
      this.roots.set(view.rootHost, rootNode);
    }
    return rootNode;
  }

  /** One walk, step by step as the kernel's path walk (fs/namei.c, link_path_walk) takes it. */
  private walk(view: View, start: DirNode, text: string, hops: Hop[], override: TextOverride | undefined): Resolution {
    const rootNode = this.rootOf(view);
    if (!rootNode) return fail('ENOENT', '/', hops);
    let cur = isAbsolute(text) ? rootNode : start;
    // Components still to walk, last first; a trailing slash is a final empty one (see pushComponents).
    const pending: string[] = [];
    pushComponents(pending, text);
    let marks: Mark[] | null = null;
    const gate = this.gate;
    while (pending.length > 0) {
      const c = pending.pop()!;
      // A trailing slash asks only that what came before be a directory, which `cur` is.
      if (c === '') continue;
      // Every other component, '.' and '..' too, is looked up in `cur`: a reader must search it.
      const refused = gate !== undefined ? this.refused(view, cur) : c === '.' || c === '..' ? this.refusedToSelf(cur) : null;
      if (refused !== null) return fail(refused, viewPath(view, cur.path), hops);
      if (c === '.') continue;
      // '..' is the physical parent, and stays at the view's root (RESOLVE_IN_ROOT's clamp).
      if (c === '..') {
        if (cur !== rootNode && cur.parent) cur = cur.parent;
        continue;
      }
      const e = this.lookup(cur, c);
      // A file ends the walk (or breaks it, with components left); a failed lookup fails it.
      if (typeof e === 'string') {
        if (e === 'file' || e === 'other') {
          if (pending.length > 0) return fail('ENOTDIR', viewPath(view, cur.path + '/' + c), hops);
          return { status: 'ok', resolved: viewPath(view, cur.path + '/' + c), errno: null, failedAt: null, hops };
        }
        return fail(e, viewPath(view, cur.path + '/' + c), hops);
      }
      // A real directory: step into it.
      if (isDir(e)) {
        cur = e;
        continue;
      }
      // A link: the 41st is a loop; a walk that repeats itself is one too (see loopFrom).
      const at = cur.path + '/' + c;
      if (hops.length >= MAX_HOPS) return fail('ELOOP', viewPath(view, at), hops);
      if (hops.length >= CYCLE_CHECK_FROM && this.shortcut) {
        // About to follow the same link with the same components still to walk as before: the
        // walk is periodic from there on and can only end at the 41st link. Its hops are
        // written out instead of walked (a loop costs as much as a short chain).
        marks ??= [];
        for (const m of marks) if (m.entry === e && sameStack(m.rest, pending)) return loopFrom(hops, m.hop);
        marks.push({ entry: e, hop: hops.length, rest: pending.slice() });
      }
      // fs.protected_symlinks weighs only the last link of a path (WALK_TRAILING), a trailing slash aside.
      if (gate !== undefined && pending.every((p) => p === '') && !gate.follow(cur.path, at)) return fail('EACCES', viewPath(view, at), hops);
      // Its text goes ahead of what is left; an absolute text starts again at the view's root.
      const read = e.text ?? this.readlink(at);
      if (typeof read !== 'string') return fail(read.errno, viewPath(view, at), hops);
      e.text = read;
      const t = override?.(at, read) ?? read;
      hops.push({ path: viewPath(view, at), text: t });
      if (isAbsolute(t)) cur = rootNode;
      pushComponents(pending, t);
    }
    return { status: 'ok', resolved: viewPath(view, cur.path), errno: null, failedAt: null, hops };
  }
}

/** Walks with fewer links than this are not checked for a cycle: chains are short, loops reach 40. */
const CYCLE_CHECK_FROM = 4;

/** The state of a walk just before it follows a link: which link, and what is left to walk after it. */
interface Mark {
  entry: LinkEntry;
  /** The index in hops this link's hop took. */
  hop: number;
  rest: string[];
}

function sameStack(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The end of a walk that has come back to the state it was in at hop `from`: hop k repeats hop
 * from + (k - from) mod period up to the 40th, and the 41st link (where the kernel says ELOOP)
 * is the one the period puts there.
 */
function loopFrom(hops: Hop[], from: number): Resolution {
  const period = hops.length - from;
  while (hops.length < MAX_HOPS) hops.push(hops[from + ((hops.length - from) % period)]!);
  return fail('ELOOP', hops[from + ((MAX_HOPS - from) % period)]!.path, hops);
}

function newRoot(): DirNode {
  return { parent: null, path: '', children: null, complete: false, reader: 0 };
}

function newDir(parent: DirNode, name: string): DirNode {
  return { parent, path: parent.path + '/' + name, children: null, complete: false, reader: 0 };
}

/** A host path in the view's terms: inside the jail, '/'-based. */
function viewPath(view: View, hostPath: string): string {
  const p = view.rootHost === '' ? hostPath : hostPath.slice(view.rootHost.length);
  return p === '' ? '/' : p;
}

/** Pushes the components of `text` onto a last-first stack, ahead of what is pending. */
function pushComponents(stack: string[], text: string): void {
  let end = text.length;
  if (end > 1 && text.charCodeAt(end - 1) === SLASH) {
    // x/: the last component must be a directory, marked by an empty one (the kernel looks
    // nothing up for it, unlike x/.). A text of only slashes has none.
    let k = end;
    while (k > 0 && text.charCodeAt(k - 1) === SLASH) k--;
    if (k > 0) stack.push('');
    end = k;
  }
  while (end > 0) {
    let start = text.lastIndexOf('/', end - 1) + 1;
    if (start < end) stack.push(text.slice(start, end));
    end = start - 1;
    while (end > 0 && text.charCodeAt(end - 1) === SLASH) end--;
    if (start === 0) break;
  }
}

/**
 * The host view of a link, derived from its jail view where the two must agree: the text is
 * relative, does not climb above the root, and the jail walk followed no link but this one. Then
 * both walks step through the same real directories (a '..' from a real directory is its
 * physical parent in both), so they meet the same entries and end the same way. Null when that
 * does not hold and the host view must be walked.
 */
export function hostFromJail(jail: Resolution, rootHost: string, hostLinkPath: string, climbs: boolean): Resolution | null {
  if (climbs || jail.hops.length !== 1) return null;
  const text = jail.hops[0]!.text;
  if (isAbsolute(text)) return null;
  const host = (p: string): string => (p === '/' ? rootHost || '/' : rootHost + p);
  const hops = [{ path: hostLinkPath, text }];
  if (jail.status === 'ok') return { ...jail, resolved: host(jail.resolved), hops };
  return { ...jail, failedAt: jail.failedAt === null ? null : host(jail.failedAt), hops };
}

function fail(errno: string, at: string, hops: Hop[]): Resolution {
  return { status: statusOf(errno), resolved: null, errno, failedAt: at, hops };
}

/** The links that make up the cycle of a looping resolution: those followed more than once. */
export function cycleMembers(r: Resolution): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const h of r.hops) (seen.has(h.path) ? twice : seen).add(h.path);
  return [...twice];
}
