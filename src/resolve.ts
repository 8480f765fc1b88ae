import type { FsPort, Kind } from './fs-port.js';
import { errnoOf } from './errors.js';
import { components, isAbsolute } from './paths.js';

/** The kernel's answer for a path, in linkcheck's words (see the JSON contract). */
export type Status = 'ok' | 'dangling' | 'loop' | 'notdir' | 'denied' | 'error';

/** One link followed while resolving: where it is (in the view's terms) and its text. */
export interface Hop {
  path: string;
  text: string;
}

export interface Resolution {
  status: Status;
  /** The fully resolved path in the view's terms; non-null exactly when status is ok. */
  resolved: string | null;
  /** The errno behind a non-ok status (ENOENT, ELOOP, ENOTDIR, EACCES, ...). */
  errno: string | null;
  /** The path (in the view's terms) of the component that could not be resolved. */
  failedAt: string | null;
  /** Every link followed, in order, starting with the link itself. */
  hops: Hop[];
}

/** Linux's MAXSYMLINKS: the 41st link followed in one resolution fails with ELOOP. */
export const MAX_HOPS = 40;

export function statusOf(errno: string): Status {
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

export interface ResolverOptions {
  /** Lookups kept in memory before the cache is dropped and refilled (keeps memory flat). */
  cacheLimit?: number;
  /** Ask the file system every time: for confirming a fix just written, when nothing cached may be trusted. */
  noCache?: boolean;
}

/**
 * Answers the text a link at a host path should be taken to have instead of its text on disk,
 * or undefined for "as on disk". The fix planner resolves through links as if fixed already.
 */
export type TextOverride = (hostPath: string) => string | undefined;

type Lookup = Kind | string; // a Kind, or an errno code (codes start with 'E')

/**
 * Resolves paths component by component with lstat and readlink only, the way the kernel's path
 * walk does under openat2's RESOLVE_IN_ROOT: absolute text restarts at the view's root, `..`
 * never climbs above it, every nested link is re-rooted the same way, a trailing slash demands a
 * directory, and the 41st link followed is a loop. Never uses realpath or stat: those answer for
 * the host and would be wrong for the jail.
 *
 * Lookups and link texts are cached by host path and shared by both views, so links that share
 * directory prefixes or targets cost one system call per distinct path, not one per link.
 * A TextOverride lets a caller resolve as if some links already had other texts (the fix planner).
 */
export class Resolver {
  private readonly kinds = new Map<string, Lookup>();
  private readonly texts = new Map<string, string>();
  private readonly limit: number;

  constructor(
    private readonly fs: FsPort,
    options: ResolverOptions = {},
  ) {
    this.limit = options.noCache ? 0 : (options.cacheLimit ?? 200_000);
  }

  /** Tells the cache what the walker already knows, so resolution need not ask again. */
  prime(hostPath: string, kind: Kind, text?: string): void {
    if (this.limit === 0) return;
    if (this.kinds.size >= this.limit) this.clear();
    this.kinds.set(hostPath, kind);
    if (text !== undefined) this.texts.set(hostPath, text);
  }

  clear(): void {
    this.kinds.clear();
    this.texts.clear();
  }

  private lookup(hostPath: string): Lookup {
    let k = this.kinds.get(hostPath);
    if (k === undefined) {
      try {
        k = this.fs.kind(hostPath) ?? 'ENOENT';
      } catch (err) {
        k = errnoOf(err);
      }
      if (this.kinds.size >= this.limit) this.clear();
      if (this.limit > 0) this.kinds.set(hostPath, k);
    }
    return k;
  }

  private readText(hostPath: string, override: TextOverride | undefined): string {
    const o = override?.(hostPath);
    if (o !== undefined) return o;
    let t = this.texts.get(hostPath);
    if (t === undefined) {
      t = this.fs.readlink(hostPath);
      if (this.limit > 0) this.texts.set(hostPath, t);
    }
    return t;
  }

  /**
   * Follows the link at view path `linkPath` (whose parent `dir` is a real directory, as the
   * walker guarantees) with text `text`: the link itself is the first hop.
   */
  resolveLink(view: View, dir: string, linkPath: string, text: string, override?: TextOverride): Resolution {
    const hops: Hop[] = [{ path: linkPath, text }];
    return this.walk(view, dir, text, hops, override);
  }

  /** Resolves `text` from view directory `dir` ('/'-based, a real directory), following links. */
  resolvePath(view: View, dir: string, text: string, override?: TextOverride): Resolution {
    return this.walk(view, dir, text, [], override);
  }

  private walk(view: View, startDir: string, text: string, hops: Hop[], override: TextOverride | undefined): Resolution {
    const root = view.rootHost;
    // `cur` is the view path of a real directory, '' for the root: '/a/b' is `root + '/a/b'` on the host.
    let cur = isAbsolute(text) ? '' : startDir === '/' ? '' : startDir;
    const pending = components(text).reverse();
    while (pending.length > 0) {
      const c = pending.pop()!;
      if (c === '.') continue;
      if (c === '..') {
        cur = cur.slice(0, cur.lastIndexOf('/'));
        continue;
      }
      const next = cur + '/' + c;
      const k = this.lookup(root + next);
      if (k === 'dir') {
        cur = next;
        continue;
      }
      if (k === 'link') {
        if (hops.length >= MAX_HOPS) return fail('ELOOP', next, hops);
        let t: string;
        try {
          t = this.readText(root + next, override);
        } catch (err) {
          return fail(errnoOf(err), next, hops);
        }
        hops.push({ path: next, text: t });
        if (isAbsolute(t)) cur = '';
        const tc = components(t);
        for (let i = tc.length - 1; i >= 0; i--) pending.push(tc[i]!);
        continue;
      }
      if (k === 'file' || k === 'other') {
        if (pending.length > 0) return fail('ENOTDIR', next, hops);
        return { status: 'ok', resolved: next, errno: null, failedAt: null, hops };
      }
      return fail(k, next, hops);
    }
    return { status: 'ok', resolved: cur === '' ? '/' : cur, errno: null, failedAt: null, hops };
  }
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
