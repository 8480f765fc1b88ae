import type { Rule } from './types.js';

export const requirement = {
  id: 'requirement',
  code: 'LC008',
  severity: 'error',
  title: 'A required path does not resolve as asked',
  fixable: false,
  enabledBy: '--require',
  docs: {
    what:
      'A path named with --require (or "require" in the config) that does not resolve in the jail view, or, for --require path=glob, whose jail-view target (relative to the scanned path) does not match the glob.',
    why:
      '"Every link resolves" is not "safe to restart": the service needs current to lead to a release, a pid directory to exist, a socket directory to be there. --require states that before the restart, so the check fails where the service would.',
    example: {
      root: '/srv/lighty',
      scan: '/var/www/rails',
      link: '/var/www/rails/current',
      text: 'shared',
      exists: ['var/www/rails/shared/', 'var/www/rails/releases/20070506135654/'],
      options: { require: ['current=releases/*'] },
    },
    fix: 'Not fixable: --fix makes links relative and keeps their targets; pointing current at another release is a deploy decision. The message says where the path leads instead.',
  },
  // Judged by the audit from --require, not from one link's facts alone (see src/checks.ts).
  check() {
    return null;
  },
} satisfies Rule;
