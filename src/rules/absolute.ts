import { isAbsolute } from '../core/paths.js';
import type { Resolution } from '../resolve/resolver.js';
import type { Rule } from './types.js';
import { failure, shown } from './words.js';

export const absolute = {
  id: 'absolute',
  code: 'LC001',
  severity: 'warning',
  title: 'Link text is an absolute path',
  fix: 'rewrite',
  docs: {
    what:
      'A link whose text starts with "/". Inside a chroot "/" is the jail root, on the host it is the host root, so the same text names two different places.',
    why:
      'Deploy tools such as Capistrano write host paths (current -> /srv/lighty/var/www/rails/releases/...). They work on the host and dangle in the jail, so the jailed server cannot find its code, logs or pid files. This is an error when the link dangles in the jail but works on the host, info without --root when the link resolves (the two views are one; --fix leaves it unless the config raises the rule to warning or error), and a warning otherwise: an absolute link that works in the jail still breaks as soon as the tree is looked at from the other side or moved.',
    example: {
      root: '/srv/lighty',
      link: '/var/www/rails/current',
      text: '/srv/lighty/var/www/rails/releases/20070506135654',
      exists: ['var/www/rails/releases/20070506135654/'],
    },
    fix: 'linkcheck --fix rewrites it to the shortest relative text that lands on the same target from both sides (here: releases/20070506135654), keeping intermediate links such as current so it follows the next deploy.',
  },
  check(f) {
    if (!isAbsolute(f.text)) return null;
    if (f.jail.status !== 'ok' && f.host.status === 'ok') return { severity: 'error', args: ['host only', f.jail, f.root] };
    // Without --root the jail is the host: a text that resolves means one place only. It is
    // noted, not flagged, and --fix leaves it alone unless the config raises this rule.
    if (f.root === '/' && f.jail.status === 'ok') return { severity: 'info', args: [f.image ? 'in the image' : 'one view'] };
    // A sysroot is read on the host too (a cross linker's --sysroot): working in the jail only is broken.
    if (f.jail.status === 'ok' && f.host.status !== 'ok') return { severity: f.preset === 'sysroot' ? 'error' : undefined, args: ['jail only', f.host] };
    // Without --root there are no two places: it names one, which is not there.
    if (f.root === '/') return { args: ['unresolved'] };
    return { args: ['two places'] };
  },
  render(a) {
    switch (a[0]) {
      case 'host only':
        return `absolute link works on the host but not in the jail (${failure(a[1])} inside ${shown(a[2])}); make it relative`;
      case 'one view':
        return 'absolute link; it resolves, and without --root the jail and the host are the same';
      case 'in the image':
        return "absolute link; it resolves in the image, which is its container's root";
      case 'jail only':
        return `absolute link works in the jail only (on the host ${failure(a[1])}); make it relative`;
      case 'two places':
        return 'absolute link: it means different places in the jail and on the host; make it relative';
      case 'unresolved':
        return 'absolute link, and it does not resolve; a relative text would mean the same place in a jail too';
    }
  },
} satisfies Rule<AbsoluteArgs>;

/** Which way the views differ, and what the message names. */
type AbsoluteArgs = readonly ['host only', Resolution, string] | readonly ['one view'] | readonly ['in the image'] | readonly ['jail only', Resolution] | readonly ['two places'] | readonly ['unresolved'];
