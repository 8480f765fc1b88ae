import { afterRootPrefix, climbsAbove, isAbsolute, isWithin, textClimbsAbove } from '../core/paths.js';
import type { LinkFacts, Rule } from './types.js';
import { shown } from './words.js';

/** Why the link leaves the root, or null when it stays inside. */
function escapeReason(f: LinkFacts): string | null {
  if (f.climbs) return 'its text climbs above the root with ..';
  if (isAbsolute(f.text)) {
    if (textClimbsAbove(0, f.text)) return 'its text climbs above the root with .. (the jail clamps it at /)';
    const rest = afterRootPrefix(f.text, f.root);
    if (rest !== null && climbsAbove(0, rest)) return `its text starts with the root ${shown(f.root)} and then climbs out of it`;
  }
  if (f.host.status === 'ok' && !isWithin(f.host.resolved, f.root))
    return `on the host it resolves to ${shown(f.host.resolved)}, outside the root`;
  return null;
}

export const escapesRoot = {
  id: 'escapes-root',
  code: 'LC002',
  severity: 'error',
  title: 'Link leaves the root',
  fix: 'rewrite',
  docs: {
    what:
      'A link whose text climbs above the root (../../.. past it, /../x, or the root\'s own host path followed by ..), or whose host view resolves outside the root.',
    why:
      'In the jail the kernel clamps .. at the root, on the host it does not: the link names a file inside the jail and another one outside it. A tree that should be self-contained (a chroot, a sysroot, a container root) then depends on, or exposes, the host.',
    example: { root: '/srv/lighty', link: '/var/www/rails/shared/passwd', text: '../../../../../../etc/passwd', exists: ['etc/passwd'] },
    fix: 'When the jail view resolves, --fix rewrites the text to the relative path of that target that stays inside the root (../../../../etc/passwd), so both sides agree; otherwise the link is left alone and reported.',
  },
  check(f) {
    const why = escapeReason(f);
    return why === null ? null : { args: [why] };
  },
  render([why]) {
    return `link leaves the root: ${why}`;
  },
} satisfies Rule<readonly [why: string]>;
