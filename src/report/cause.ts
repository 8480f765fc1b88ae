import { components, dirname } from '../core/paths.js';
import type { Resolution } from '../resolve/resolver.js';

/** The other link on the way that a failed resolution is to be blamed on. */
export interface Cause {
  /** Its path, in the view's terms. */
  link: string;
  /** True when that link's own text fails (it dangles itself); false when it resolves and what comes after it fails. */
  dangles: boolean;
}

/**
 * Why a failed resolution failed, when another link on the way is to blame: `htdocs ->
 * /var/www/rails/current/public` dangles because `current` does. Null when no other link was
 * followed, or for a loop (its cycle says more).
 *
 * The walk is replayed from its hops: a component is a link exactly when the next hop sits at
 * its path, and between links every step is lexical (a real directory's `..` is its parent), so
 * the replay meets the failing component and knows whose text it came from. When that is a
 * link on the way, that link dangles itself, unless the component is the last of its text and
 * not a directory (the link resolves, to a file, and what came after it fails); when it is the
 * link's own text, the last link followed before the failure is named.
 */
export function causeOf(r: Resolution): Cause | null {
  if (r.status === 'ok' || r.status === 'loop' || r.failedAt === null || r.hops.length < 2) return null;
  const hops = r.hops;
  const fallback: Cause = { link: hops[hops.length - 1]!.path, dangles: false };
  // Components still to walk, last first, each with the hop whose text it came from.
  const pending: Array<[string, number, boolean]> = [];
  const push = (hop: number): void => {
    const comps = components(hops[hop]!.text);
    for (let i = comps.length - 1; i >= 0; i--) pending.push([comps[i]!, hop, i === comps.length - 1]);
  };
  const startOf = (hop: number, cur: string): string => (hops[hop]!.text.startsWith('/') ? '/' : cur);
  let cur = startOf(0, dirname(hops[0]!.path));
  let next = 1;
  push(0);
  while (pending.length > 0) {
    const [c, from, last] = pending.pop()!;
    if (c === '.') continue;
    if (c === '..') {
      cur = dirname(cur);
      continue;
    }
    const p = (cur === '/' ? '' : cur) + '/' + c;
    if (next < hops.length && hops[next]!.path === p) {
      cur = startOf(next, cur);
      push(next++);
      continue;
    }
    if (p === r.failedAt) {
      if (from === 0) return next > 1 ? { link: hops[next - 1]!.path, dangles: false } : null;
      return { link: hops[from]!.path, dangles: !(r.status === 'notdir' && last) };
    }
    cur = p;
  }
  return fallback;
}
