import { relative } from '../core/paths.js';
import type { Resolution } from '../resolve/resolver.js';
import type { Finding, Rule } from './types.js';
import { failure, shown } from './words.js';

/** One --require entry, as the policy compiled it. */
export interface RequiredPath {
  path: string;
  glob: string | null;
  matches: (relative: string) => boolean;
}

export const requirement = {
  id: 'requirement',
  code: 'LC008',
  severity: 'error',
  title: 'A required path does not resolve as asked',
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
  fix: 'none',
  /** The required path, given how the jail resolves it; `scanned` is the scanned path inside the root. */
  checkPath(req: RequiredPath, scanned: string, r: Resolution): Finding | null {
    const fail = (message: string): Finding => ({ rule: 'requirement', code: 'LC008', severity: 'error', message });
    if (r.status !== 'ok') return fail(`required path ${shown(req.path)} does not resolve in the jail: ${failure(r)}`);
    if (req.glob === null) return null;
    const rel = relative(scanned, r.resolved);
    return req.matches(rel) ? null : fail(`required path ${shown(req.path)} leads to ${shown(rel)} in the jail, which does not match ${shown(req.glob)}`);
  },
} satisfies Rule & { checkPath: unknown };
