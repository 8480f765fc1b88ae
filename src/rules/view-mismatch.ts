import type { Resolution } from '../resolve/resolver.js';
import type { Rule } from './types.js';
import { failure, shown } from './words.js';
import { hostOf } from '../core/paths.js';

export const viewMismatch = {
  id: 'view-mismatch',
  code: 'LC005',
  severity: 'warning',
  title: 'Jail and host disagree',
  fix: 'rewrite',
  docs: {
    what: 'A link that resolves to different places in the jail and on the host, or resolves on one side only.',
    why:
      'Anything that looks at the tree from the host (backups, deploy scripts, monitoring, log rotation) then acts on a different file than the jailed service: logs rotated that the server never writes, a pid file checked in the wrong place.',
    example: { root: '/srv/lighty', link: '/var/www/rails/current/tmp/pids', text: '/var/www/rails/shared/pids', exists: ['var/www/rails/shared/pids/'] },
    fix: '--fix rewrites the link to a relative text that lands on its jail target from both sides.',
  },
  check(f) {
    const c = f.jail;
    const h = f.host;
    if (c.status !== 'ok' && h.status !== 'ok') return null;
    if (c.status === 'ok' && h.status === 'ok') {
      const expected = hostOf(f.root, c.resolved);
      return h.resolved === expected ? null : { args: ['disagree', c.resolved, expected, h.resolved] };
    }
    if (c.status === 'ok') return { severity: f.preset === 'sysroot' ? 'error' : undefined, args: ['jail only', c.resolved, h] };
    if (h.status !== 'ok') return null; // ruled out above; says so to the type checker
    return { args: ['host only', h.resolved, c] };
  },
  render(a) {
    switch (a[0]) {
      case 'disagree':
        return `jail and host disagree: in the jail it is ${shown(a[1])} (${shown(a[2])} on the host), the host resolves it to ${shown(a[3])}`;
      case 'jail only':
        return `resolves in the jail to ${shown(a[1])} but not on the host (${failure(a[2])})`;
      case 'host only':
        return `resolves on the host to ${shown(a[1])} but not in the jail (${failure(a[2])})`;
    }
  },
} satisfies Rule<MismatchArgs>;

/** How the views disagree: both resolve elsewhere (jail path, its host path, host path), or one fails. */
type MismatchArgs =
  | readonly ['disagree', string, string, string]
  | readonly ['jail only', string, Resolution]
  | readonly ['host only', string, Resolution];
