import { messageOf } from '../rules/messages.js';
import type { LinkRecord } from '../audit/records.js';
import type { Resolution } from '../resolve/resolver.js';
import { failure } from '../rules/words.js';
import { hostOf } from '../core/paths.js';
import { causeOf } from './cause.js';

/** How the verdict names things: whether there is a jail (--root), and a link on the way, by its path in the view. */
export interface VerdictWords {
  jail: boolean;
  root: string;
  /** A link on the way, given its path in the jail view (host view: its host path). */
  hop(viewPath: string, view: 'jail' | 'host'): string;
  /** A place by its host path, as the report names paths: where the two views land when they differ. */
  place(hostPath: string): string;
}

/**
 * What breaks, in one phrase and in the jail's words: `dangles in the jail (/srv does not exist
 * there)`, `dangles in the jail (via current, which dangles: ...)`. The jail view decides first
 * (it is what the jailed service sees), then a text that leaves the root, then the host view;
 * a link that works in both but is flagged anyway gets its most severe finding's message.
 */
export function verdict(rec: LinkRecord, w: VerdictWords): string {
  const jail = rec.chroot;
  const host = rec.host;
  const inJail = w.jail ? ' in the jail' : '';
  // With --preset rootfs a link into /proc is not broken, whatever the build tree has there.
  const mount = rec.findings.find((f) => f.rule === 'runtime-mount');
  if (mount) return messageOf(mount);
  // With --as-user, a refusal is the reader's: its message says whom, where and what to change.
  const refused = rec.findings.find((f) => f.rule === 'no-access');
  if (refused) return messageOf(refused);
  if (jail.status === 'loop') {
    const loop = rec.findings.find((f) => f.rule === 'loop');
    const cycle = loop ? messageOf(loop).replace(/^loops( in the jail)?: /, '') : 'more than 40 links are followed';
    return `loops${inJail} (${cycle})`;
  }
  if (jail.status !== 'ok') {
    return `${fails(jail)}${inJail} (${why(jail, 'jail', w)})`;
  }
  const escapes = rec.findings.find((f) => f.rule === 'escapes-root');
  if (escapes) return messageOf(escapes).replace(/^link /, '');
  if (host.status !== 'ok') return `${fails(host)} on the host only (${why(host, 'host', w)})`;
  // Both named on the host's side: a jail path and a host path can look alike and differ.
  const jailLands = hostOf(w.root, jail.resolved);
  if (w.jail && host.resolved !== jailLands) return `leads to ${w.place(jailLands)} in the jail but to ${w.place(host.resolved)} on the host`;
  const rank = { error: 3, warning: 2, info: 1 } as const;
  const worst = [...rec.findings].sort((a, b) => rank[b.severity] - rank[a.severity])[0];
  return worst ? messageOf(worst) : 'no problem';
}

function fails(r: Resolution): string {
  return r.status === 'dangling' || r.status === 'notdir' ? 'dangles' : 'cannot be followed';
}

/** The failure, blaming the link on the way when it is another one's: `via current, which dangles: /srv does not exist there`. */
function why(r: Resolution, view: 'jail' | 'host', w: VerdictWords): string {
  const there = w.jail && (r.status === 'dangling' || r.status === 'notdir') ? ' there' : '';
  const what = failure(r) + there;
  const cause = causeOf(r);
  if (!cause) return what;
  return `via ${w.hop(cause.link, view)}${cause.dangles ? ', which dangles' : ''}: ${what}`;
}
