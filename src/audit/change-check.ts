import { errnoOf } from '../core/errors.js';
import type { FsPort, Kind } from '../core/fs-port.js';
import { hostOf } from '../core/paths.js';
import { Resolver, type Resolution, type View } from '../resolve/resolver.js';

/** The verdict the check holds against the tree as it is now: the link and both views of it. */
export interface Verdict {
  dir: string;
  name: string;
  text: string;
  jail: Resolution;
  host: Resolution;
}

/** What lstat said about a host path: the entry's kind, or the errno (ENOENT: nothing there). */
type Answer = Kind | string;

/**
 * Whether a verdict still holds for the tree as it is now. The resolver answers from what it
 * learnt since the walk began (listings, link texts), so a tree that changes under the scan
 * could be judged on stale data. One look per view settles it in the usual case: where a view
 * ended must still exist, where it failed must still fail. When it does not, both views are
 * walked again from scratch, and only a different answer counts as a change. (The verdict is on
 * the text the report shows, as read by the walk.)
 *
 * The look need not be a new lstat: any answer read from the disk after the link's text was
 * read is as good, since what the check proves is the state of the tree after that moment. The
 * judge opens a window (`openWindow`) once the texts of the links it judges next have all been
 * read (one link on one thread, a batch of 512 on the audit thread); answers read since then,
 * by the resolver (`heard`) or by the check itself, settle later looks at the same path.
 * Windows halve the lstat calls of the audit thread against a fresh lstat per check (docs/performance.md, "Figures behind the code").
 */
export class ChangeCheck {
  /** Answers read from the disk since the window opened, by host path. */
  private readonly seen = new Map<string, Answer>();
  /** Whether the check keeps its own answers: only a window of many links can use them again. */
  private keep = false;

  constructor(
    private readonly fs: FsPort,
    private readonly jail: View,
    private readonly host: View,
  ) {}

  /** The links judged from now on (`many`: more than one) had their texts read before this call. */
  openWindow(many: boolean): void {
    // Clearing allocates a new table in V8: a one-link window on one thread is mostly empty.
    if (this.seen.size > 0) this.seen.clear();
    this.keep = many;
  }

  /** An answer read from the disk just now. */
  heard(hostPath: string, answer: Answer): void {
    this.seen.set(hostPath, answer);
  }

  /** Why `v` does not hold for the tree as it is now, or null when it does. */
  changedSince(v: Verdict): string | null {
    const rootHost = this.jail.rootHost;
    const jailEnd = endOf(v.jail);
    const jailAt = jailEnd === null ? null : hostOf(rootHost || '/', jailEnd);
    const hostAt = endOf(v.host);
    // Both views ended (or failed the same way) on the same entry: one look answers for both.
    const sameEnd = v.host.status === v.jail.status && v.host.errno === v.jail.errno && hostAt === jailAt;
    if (this.holds(v.jail, jailAt) && (sameEnd || rootHost === '' || this.holds(v.host, hostAt))) return null;
    // Walked again from scratch: only a different answer means the tree changed under the verdict.
    const fresh = new Resolver(this.fs);
    if (!same(fresh.resolveLink(this.jail, v.dir, v.name, v.text), v.jail)) return 'what it leads to changed';
    if (rootHost !== '' && !same(fresh.resolveLink(this.host, v.dir, v.name, v.text), v.host)) return 'what it leads to changed';
    return null;
  }

  /** Whether the entry at `at` (a host path) is still as `r` found it. */
  private holds(r: Resolution, at: string | null): boolean {
    if (at === null) return true;
    let a = this.seen.get(at);
    if (a === undefined) {
      a = this.look(at);
      if (this.keep) this.seen.set(at, a);
    }
    if (a === 'dir' || a === 'link' || a === 'file' || a === 'other') return r.status !== 'dangling';
    if (a === 'ENOENT') return r.status === 'dangling';
    return r.status !== 'ok' && a === r.errno;
  }

  private look(at: string): Answer {
    try {
      return this.fs.kind(at) ?? 'ENOENT';
    } catch (err) {
      return errnoOf(err);
    }
  }
}

/** The path (in the view's terms) the check looks at: where it ended, or where it failed. */
function endOf(r: Resolution): string | null {
  return r.status === 'ok' ? r.resolved : r.status === 'dangling' || r.status === 'notdir' ? r.failedAt : null;
}

function same(a: Resolution, b: Resolution): boolean {
  return a.status === b.status && a.resolved === b.resolved && a.errno === b.errno;
}
