// @ts-check
// The random links of one release, of the kinds in LINK_KINDS, each written the ways deploys
// write them (relative, host-absolute, chroot-absolute) and broken the ways they break.
import { depthOf, relTarget } from './builder.js';
import { LINK_NAMES, MISSING } from './vocab.js';

/** @typedef {import('./builder.js').Builder} Builder */
/** @typedef {import('./builder.js').DirNode} DirNode */
/** @typedef {import('./rng.js').Rng} Rng */
/** @typedef {import('./release.js').App} App */
/** @typedef {import('./release.js').ReleaseDirs} ReleaseDirs */

/**
 * Kinds of random links the generator makes (besides the fixed Capistrano ones), [kind, weight].
 * @type {ReadonlyArray<readonly [string, number]>}
 */
const LINK_KINDS = [
  ['relative', 28], // ../lib/foo.rb, node_modules/.bin/x -> ../pkg/bin/x
  ['relative-shared', 8], // ../../shared/log
  ['host-absolute', 16], // <DIR abs>/var/www/APP/shared/log
  ['chroot-absolute', 14], // /var/www/APP/shared/pids
  ['via-current', 8], // /var/www/APP/current/public
  ['escaping', 5], // ../../../../../../etc/passwd
  ['dangling', 9], // /var/www/APP/releases/<deleted>/public, ../missing.yml
  ['chain', 6], // a -> b -> dir (2-3 links)
  ['loop', 4], // a -> b -> a, x -> x (1-2 links)
  ['dir-cycle', 2], // up -> .., self -> .
];

/**
 * What a link maker needs: the builder, the PRNG, the release and where links may point.
 * @typedef {object} LinkCtx
 * @property {Builder} b @property {Rng} rng @property {App} app @property {ReleaseDirs} d
 * @property {DirNode[]} dirs the release's directories @property {string[]} files its files
 * @property {number} hostDepth how many components the root's host path has
 * @property {string[]} sharedTargets paths under the app's shared/
 * @property {(t: string) => string} host a path under the root as the host writes it
 * @property {(t: string) => string} chroot a path under the root as the jail writes it
 * @property {() => string} anyTarget a file or directory of the release
 * @property {() => string} linkName
 */

/** @type {Record<string, (c: LinkCtx, at: DirNode, kind: string) => void>} */
const MAKERS = {
  relative: relativeLink,
  'relative-shared': (c, at, kind) => void c.b.link(at, c.linkName(), relTarget(at.rel, c.rng.pick(c.sharedTargets)), kind),
  'host-absolute': (c, at, kind) => void c.b.link(at, c.linkName(), c.host(c.rng.chance(0.5) ? c.rng.pick(c.sharedTargets) : c.anyTarget()), kind),
  'chroot-absolute': chrootAbsoluteLink,
  'via-current': viaCurrentLink,
  escaping: escapingLink,
  dangling: danglingLink,
  chain: chainLinks,
  loop: loopLinks,
  'dir-cycle': dirCycleLink,
};

/**
 * Makes random links in one release until `count` of them exist.
 * @param {Builder} b @param {Rng} rng
 * @param {{ app: App, d: ReleaseDirs, collect: { dirs: DirNode[], files: string[] }, hostDepth: number }} release
 * @param {number} count
 */
export function releaseLinks(b, rng, { app, d, collect, hostDepth }, count) {
  /** @type {LinkCtx} */
  const c = {
    b,
    rng,
    app,
    d,
    dirs: collect.dirs,
    files: collect.files,
    hostDepth,
    sharedTargets: ['log', 'pids', 'system', 'config', 'config/database.yml', 'system/uploads', 'log/production.log'].map((s) => `${app.rel}/shared/${s}`),
    host: (t) => b.rootAbs + '/' + t,
    chroot: (t) => '/' + t,
    anyTarget: () => (rng.chance(0.5) ? rng.pick(collect.files) : rng.pick(collect.dirs).rel),
    linkName: () => rng.pick(LINK_NAMES),
  };
  const start = b.links;
  while (b.links - start < count) {
    const kind = rng.weighted(LINK_KINDS);
    const at = rng.pick(c.dirs);
    MAKERS[kind]?.(c, at, kind);
  }
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function relativeLink(c, at, kind) {
  const { b, rng, d } = c;
  if (d.bins.length && rng.chance(0.25)) {
    const bin = rng.pick(d.bins);
    if (!d.bin.names.has(bin.name)) {
      b.link(d.bin, bin.name, relTarget(d.bin.rel, bin.target), kind);
      return;
    }
  }
  const t = c.anyTarget();
  b.link(at, c.linkName(), relTarget(at.rel, t), kind);
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function chrootAbsoluteLink(c, at, kind) {
  const { rng } = c;
  const r = rng.int(10);
  const t = r < 5 ? c.chroot(rng.pick(c.sharedTargets)) : r < 9 ? c.chroot(c.anyTarget()) : rng.pick(['/etc/hosts', '/usr/bin/ruby', '/tmp', '/etc/localtime']);
  c.b.link(at, c.linkName(), t, kind);
}

const CURRENT_TARGETS = ['public', 'public/assets', 'config', 'log', 'tmp/pids', 'app/models', 'public/system', 'Gemfile'];

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function viaCurrentLink(c, at, kind) {
  const t = `${c.app.rel}/current/${c.rng.pick(CURRENT_TARGETS)}`;
  const r = c.rng.int(3);
  c.b.link(at, c.linkName(), r === 0 ? c.chroot(t) : r === 1 ? c.host(t) : relTarget(at.rel, t), kind);
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function escapingLink(c, at, kind) {
  const { rng } = c;
  const depth = depthOf(at.rel);
  // mostly a few levels too many; sometimes enough to reach the host's real /
  const extra = rng.chance(0.75) ? rng.range(1, 3) : c.hostDepth + rng.range(1, 3);
  const t = '../'.repeat(depth + extra) + rng.pick(['etc/passwd', 'etc/passwd', 'etc/hosts', 'usr/bin/ruby', 'etc/shadow', 'root/.ssh']);
  c.b.link(at, c.linkName(), t, kind);
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function danglingLink(c, at, kind) {
  const { rng, app } = c;
  const r = rng.int(6);
  let t;
  if (r === 0) t = '../' + rng.pick(MISSING);
  else if (r === 1) t = rng.pick(MISSING);
  else if (r === 2) t = c.chroot(`${app.rel}/shared/tmp/cache`);
  else if (r === 3) t = c.chroot(`${app.rel}/releases/${app.deleted}/public/assets`);
  else if (r === 4) t = c.host(`${app.rel}/shared/bundle`);
  else t = rng.pick(['/opt/rbenv/versions/3.2.2/bin/ruby', '/home/deploy/apps/' + app.name + '/shared/log', '/srv/old/var/www']);
  c.b.link(at, c.linkName(), t, kind);
}

/**
 * a -> b [-> c] -> dir
 * @param {LinkCtx} c @param {DirNode} at @param {string} kind
 */
function chainLinks(c, at, kind) {
  const { b, rng, dirs } = c;
  // Meant to avoid an ancestor of `at`, the first version compared a node with a path and so
  // never did: trees of GENERATOR_VERSION 1 take the first pick.
  const dirT = rng.pick(dirs).rel;
  const hop1 = rng.pick(dirs);
  const style = rng.int(3);
  const tgt1 = style === 0 ? relTarget(hop1.rel, dirT) : style === 1 ? c.host(dirT) : c.chroot(dirT);
  let last = b.link(hop1, c.linkName(), tgt1, kind);
  if (rng.chance(0.3)) {
    const hop2 = rng.pick(dirs);
    last = b.link(hop2, c.linkName(), relTarget(hop2.rel, last), kind);
  }
  b.link(at, c.linkName(), rng.chance(0.7) ? relTarget(at.rel, last) : c.chroot(last), kind);
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function loopLinks(c, at, kind) {
  const { b, rng } = c;
  const r = rng.int(4);
  if (r === 0) {
    // x -> x
    const name = b.unique(at, 'loop');
    b.link(at, name, name, kind, true);
  } else if (r === 1 || r === 2) {
    // a -> b -> a, same dir or across dirs
    const other = r === 1 ? at : rng.pick(c.dirs);
    const na = b.unique(at, c.linkName());
    const nb = b.unique(other, c.linkName());
    const ra = at.rel + '/' + na;
    const rb = other.rel + '/' + nb;
    b.link(at, na, relTarget(at.rel, rb), kind, true);
    b.link(other, nb, rng.chance(0.5) ? relTarget(other.rel, ra) : c.chroot(ra), kind, true);
  } else {
    // a -> b/inner, b -> a: a loop through a path component
    const na = b.unique(at, 'a');
    const nb = b.unique(at, 'b');
    b.link(at, na, nb + '/inner', kind, true);
    b.link(at, nb, na, kind, true);
  }
}

/** @param {LinkCtx} c @param {DirNode} at @param {string} kind */
function dirCycleLink(c, at, kind) {
  const r = c.rng.int(3);
  const t = r === 0 ? '.' : r === 1 ? '..' : c.chroot(c.app.rel);
  c.b.link(at, c.rng.pick(['self', 'up', 'root', 'all']), t, kind);
}
