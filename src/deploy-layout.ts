import { basename, components, dirname, isAbsolute, isWithin, normalise, relative, afterRootPrefix } from './paths.js';
import type { FsPort } from './fs-port.js';
import type { Resolution } from './resolve.js';
import { deployLayout } from './rules/deploy-layout.js';
import type { Finding, LinkFacts } from './rules/types.js';
import { failure, shown } from './rules/words.js';
import { hostOf } from './paths.js';

/**
 * --preset deploy: the releases/ shared/ current layout of Capistrano, Deployer and ansistrano,
 * judged in the scanned path (the deploy directory). Pure functions of what the audit resolved.
 */

const finding = (message: string, severity: Finding['severity'] = 'error'): Finding => ({
  rule: deployLayout.id,
  code: deployLayout.code,
  severity,
  message,
});

/** Where a link's text points inside the root, read lexically ('/'-based); the root's host prefix is taken off a host path. */
export function lexicalTarget(f: Pick<LinkFacts, 'text' | 'insideDir' | 'root'>): string {
  let comps: string[];
  if (isAbsolute(f.text)) comps = afterRootPrefix(f.text, f.root) ?? components(f.text);
  else comps = [...components(f.insideDir), ...components(f.text)];
  const n = normalise(comps);
  while (n[0] === '..') n.shift();
  return '/' + n.join('/');
}

/**
 * The judgement on `current` (a link or not), given how the jail resolves it. `deploy` is the
 * deploy directory inside the root.
 */
export function judgeCurrent(fs: FsPort, root: string, deploy: string, r: Resolution): Finding | null {
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
export function judgeDeployLink(fs: FsPort, f: LinkFacts, deploy: string): Finding[] {
  const base = deploy === '/' ? '' : deploy;
  const target = lexicalTarget(f);
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
