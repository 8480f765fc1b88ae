import { cycleMembers, type Resolution } from '../resolve/resolver.js';
import type { Rule } from './types.js';
import { shown } from './words.js';

export const loop = {
  id: 'loop',
  code: 'LC004',
  severity: 'error',
  title: 'Link loops in the jail',
  fix: 'reason',
  docs: {
    what: 'A link whose resolution in the jail follows more than 40 links (ELOOP): a cycle, or a chain too long for the kernel.',
    why: 'Every open of the path fails with "Too many levels of symbolic links"; walkers that follow links can spin on it.',
    example: { root: '/srv/lighty', link: '/var/www/a', text: 'b', exists: ['var/www/'], links: { '/var/www/b': 'a' } },
    fix: 'Not fixable automatically: which member of the cycle is wrong is a human decision. The message names the cycle.',
  },
  check(f) {
    return f.jail.status === 'loop' ? { args: [f.jail, f.inside, f.root !== '/'] } : null;
  },
  // Without --root there is no jail: the words say so.
  render([jail, inside, inJail]) {
    const where = inJail ? 'loops in the jail' : 'loops';
    const members = cycleMembers(jail);
    if (members.length === 0) return `${where}: a chain of more than 40 links starting at ${shown(inside)}`;
    return `${where}: cycle through ${members.map((m) => shown(m)).join(', ')}`;
  },
} satisfies Rule<readonly [jail: Resolution, inside: string, inJail: boolean]>;
