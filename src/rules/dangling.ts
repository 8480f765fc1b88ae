import type { Resolution } from '../resolve/resolver.js';
import type { Rule } from './types.js';
import { failure, shown } from './words.js';

export const dangling = {
  id: 'dangling',
  code: 'LC003',
  severity: 'error',
  title: 'Link does not resolve in the jail',
  fix: 'rewrite',
  docs: {
    what:
      'A link that the jailed process cannot follow: a component is missing (ENOENT), is not a directory (ENOTDIR, also for a trailing / after a file), is not searchable (EACCES) or fails otherwise.',
    why:
      'The jailed program gets "No such file or directory" when it opens the path: a missing log directory, a pid file that cannot be written, a release that cannot be loaded. Host-side tools (symlinks, rmlint, find -xtype l) judge from the host and miss it, or flag the wrong links.',
    example: { root: '/srv/lighty', link: '/var/www/rails/current/log', text: '../shared/log', exists: ['var/www/rails/current/'] },
    fix: 'When the text is a host path into the root (Capistrano) and the host view lands inside the root, --fix rewrites it to a relative text that works in both views. A link dangling in both views is never deleted by --fix; it is reported with the missing component.',
  },
  check(f) {
    if (f.jail.status === 'ok' || f.jail.status === 'loop') return null;
    // As another user, a refusal is that user's (no-access), not a missing target.
    if (f.reader !== undefined && f.jail.status === 'denied') return null;
    return { args: [f.jail, f.host, f.root !== '/'] };
  },
  // Without --root there is no jail: the words say so.
  render([jail, host, inJail]) {
    return `dangles${inJail ? ' in the jail' : ''}: ${failure(jail)}${host.status === 'ok' && inJail ? `; on the host it resolves to ${shown(host.resolved)}` : ''}`;
  },
} satisfies Rule<readonly [jail: Resolution, host: Resolution, inJail: boolean]>;
