import type { Rule } from './types.js';
import { shown } from './words.js';

export const ownerMismatch = {
  id: 'owner-mismatch',
  code: 'LC012',
  severity: 'error',
  title: 'Link and target have different owners',
  fix: 'none',
  enabledBy: '--rule',
  docs: {
    what:
      'Off unless switched on (--rule owner-mismatch=error, or "rules" in the config): a link whose owner (its lstat uid) differs from the owner of what it resolves to in the jail view (the host view under root /). That is the check of nginx\'s disable_symlinks if_not_owner and Apache\'s Options SymLinksIfOwnerMatch.',
    why:
      'Such a server refuses the page (403) behind a link whose owner differs from its target\'s, so a deploy that left a root-owned link to the deploy user\'s files breaks pages; and a link owned by one user into another\'s files is the symlink attack those options exist for.',
    example: {
      root: '/srv/www',
      link: '/site/logo.png',
      text: '../assets/logo.png',
      exists: ['site/', 'assets/logo.png'],
      options: { rules: { 'owner-mismatch': 'error' }, owners: { 'site/logo.png': 1000 } },
    },
    fix: 'Never by --fix: who owns what is a security decision. The message names both owners: chown -h the link to the target\'s owner, or the other way round.',
  },
  check(f) {
    const o = f.owners;
    return o && o.target !== null && o.link !== o.target ? { args: [o.linkName, o.targetName, f.jail.status === 'ok' ? f.jail.resolved : ''] } : null;
  },
  render([link, target, resolved]) {
    return `the link is owned by ${link} but ${shown(resolved)} by ${target}: servers that check owners refuse it; chown -h ${target} the link, or give the target to ${link}`;
  },
} satisfies Rule<readonly [linkOwner: string, targetOwner: string, resolved: string]>;
