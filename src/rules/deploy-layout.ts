import type { FsPort } from '../core/fs-port.js';
import { basename, dirname, hostOf, isWithin, lexicalTarget, relative } from '../core/paths.js';
import type { Resolution } from '../resolve/resolver.js';
import type { Finding, LinkFacts, Rule } from './types.js';
import { failure, shown } from './words.js';

/**
 * --preset deploy: the releases/ shared/ current layout of Capistrano, Deployer and ansistrano,
 * judged in the scanned path (the deploy directory) from what the audit resolved; the tree is
 * asked only whether a release exists and which is the newest.
 */

export const deployLayout = {
  id: 'deploy-layout',
  code: 'LC009',
  severity: 'error',
  title: 'The releases/ shared/ current layout is broken',
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
  fix: 'none',
  /** `current` (a link or not), judged from how the jail resolves it; `deploy` is the deploy directory inside the root. */
  checkCurrent: (fs: FsPort, root: string, deploy: string, r: Resolution): Finding | null => checkCurrent(fs, root, deploy, r),
  /** Any other link in the deploy directory: links into shared/ must resolve, links into releases must find their release. */
  checkLink: (fs: FsPort, f: LinkFacts, deploy: string): Finding[] => checkLink(fs, f, deploy),
} satisfies Rule & { checkCurrent: unknown; checkLink: unknown };



const finding = (message: string, severity: Finding['severity'] = 'error'): Finding => ({
  rule: 'deploy-layout',
  code: 'LC009',
  severity,
  message,
});

/**
 * The judgement on `current` (a link or not), given how the jail resolves it. `deploy` is the
 * deploy directory inside the root.
 */
function checkCurrent(fs: FsPort, root: string, deploy: string, r: Resolution): Finding | null {
  const releases = (deploy === '/' ? '' : deploy) + '/releases';
  if (r.status !== 'ok') return finding(`current does not resolve in the jail (${failure(r)}): the service has no release to run`);
  const to = r.resolved;
  if (dirname(to) !== releases || fs.kind(hostOf(root, to)) !== 'dir')
    return finding(`current leads to ${shown(relative(deploy, to))} in the jail, not to a directory directly in releases/`);
  const newest = newestRelease(fs, hostOf(root, releases));
  if (newest !== null && newest !== basename(to))
    return finding(
      `current leads to releases/${shown(basename(to))}, which is not the newest release (releases/${shown(newest)}): after a rollback that is expected; otherwise deploy again`,
      'warning',
    );
  return null;
}

function newestRelease(fs: FsPort, releasesHost: string): string | null {
  let newest: string | null = null;
  try {
    for (const e of fs.readdir(releasesHost)) if (e.kind === 'dir' && (newest === null || e.name > newest)) newest = e.name;
  } catch {
    return null;
  }
  return newest;
}

/** Findings on any link in the deploy directory: links into shared/ must resolve; links into releases must find their release. */
function checkLink(fs: FsPort, f: LinkFacts, deploy: string): Finding[] {
  const base = deploy === '/' ? '' : deploy;
  const target = lexicalTarget(f.text, f.insideDir, f.root);
  const out: Finding[] = [];
  if (isWithin(target, base + '/shared') && f.jail.status !== 'ok')
    out.push(finding(`points into shared/ (${shown(target)}) but does not resolve in the jail: ${failure(f.jail)}`));
  if (isWithin(target, base + '/releases') && target !== base + '/releases') {
    const release = target.slice(base.length + '/releases/'.length).split('/')[0]!;
    if (fs.kind(hostOf(f.root, base + '/releases/' + release)) === undefined)
      out.push(finding(`points into release ${shown(release)}, which no longer exists (removed by a cleanup?)`));
  }
  return out;
}
