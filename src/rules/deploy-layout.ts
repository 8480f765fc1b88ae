import type { Rule } from './types.js';

export const deployLayout = {
  id: 'deploy-layout',
  code: 'LC009',
  severity: 'error',
  title: 'The releases/ shared/ current layout is broken',
  fixable: false,
  enabledBy: '--preset deploy',
  docs: {
    what:
      'With --preset deploy (the layout of Capistrano, Deployer and ansistrano, in the scanned path): current that does not lead, in the jail, to a directory directly in releases/ (error) or leads to one that is not the newest by name, as after a rollback (warning); a link into shared/ that does not resolve in the jail; a link into a release directory that no longer exists.',
    why:
      'A deploy that finished but left current on a half-copied or removed release, a shared/log link that the jailed server cannot follow, or a link into a release that cleanup removed all break the service at its next restart, while every link on its own may look fine.',
    example: {
      root: '/srv/lighty',
      scan: '/var/www/rails',
      link: '/var/www/rails/current',
      text: 'releases/20070401120000',
      exists: ['var/www/rails/releases/20070401120000/', 'var/www/rails/releases/20070506135654/', 'var/www/rails/shared/'],
      options: { preset: 'deploy' },
    },
    fix: 'Not fixable by --fix: which release current should name is a deploy decision (deploy again, or roll back on purpose and allow the warning with a reason). Links into shared/ that dangle because their text is a host path are repaired by --fix under their own rules.',
  },
  // Judged by the audit with --preset deploy (see src/deploy-layout.ts).
  check() {
    return null;
  },
} satisfies Rule;
