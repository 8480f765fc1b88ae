import type { Blocked, Rule } from './types.js';
import { shown } from './words.js';

export const noAccess = {
  id: 'no-access',
  code: 'LC011',
  severity: 'error',
  title: 'The reader cannot reach what the link leads to',
  fix: 'none',
  enabledBy: '--as-user',
  docs: {
    what:
      'With --as-user: the jail view, resolved as that user, stops at a directory the user cannot search (permission denied), or the link resolves but to a directory the user cannot search, so nothing below it can be opened; or fs.protected_symlinks forbids the user to follow the link.',
    why:
      'Servers drop to their own user after chroot (lighttpd and nginx as www-data). A release directory left 0700 by the deploy user\'s umask passes every check made as root, and the restarted server answers 403 for every page through current.',
    example: {
      root: '/srv/lighty',
      link: '/var/www/rails/current',
      text: 'releases/20261207',
      exists: ['var/www/rails/releases/20261207/'],
      options: { asUser: 'nobody', modes: { 'var/www/rails/releases/20261207/': 0o700 } },
    },
    fix: 'Never by --fix: the link text is right, the permissions are not. The message names the directory, its mode and owner, and what would let the user in (chmod, or the group).',
  },
  check(f) {
    const b = f.reader?.blocked;
    return b ? { args: [f.reader!.user, b] } : null;
  },
  render([user, b]) {
    if (b.why === 'follow')
      return `${user} may not follow ${shown(b.at)} in the jail (a link owned by ${b.owner} in a sticky world-writable directory: fs.protected_symlinks); let the directory's owner own the link, or move it`;
    const advice =
      b.bits === 'owner' ? 'chmod u+x it' : b.bits === 'group' ? 'chmod g+x it' : b.bits === 'others' ? `chmod o+x it, or give ${user} its group` : `an ACL refuses it (getfacl ${shown(b.at)})`;
    return `${user} cannot search ${shown(b.at)} in the jail (${b.mode} ${b.owner}:${b.group}): ${advice}`;
  },
} satisfies Rule<readonly [user: string, blocked: Blocked]>;
