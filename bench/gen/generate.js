// @ts-check
// Generates a whole tree: the chroot's system skeleton, then per app its shared/ and releases,
// each release filled (release.js) and linked (links.js), then `current`.
import fs from 'node:fs';
import path from 'node:path';
import { Builder, depthOf, fileName, relTarget } from './builder.js';
import { releaseLinks } from './links.js';
import { fillRelease, newReleaseDirs } from './release.js';
import { makeRng } from './rng.js';
import { APP_NAMES } from './vocab.js';

/** @typedef {import('./builder.js').DirNode} DirNode */
/** @typedef {import('./rng.js').Rng} Rng */
/** @typedef {import('./release.js').App} App */

/** Bump when the shape of generated trees changes (bench/run.js reuses trees by it). */
export const GENERATOR_VERSION = 1;

const RELEASES = 5;
const DAY_MS = 86400000;

/**
 * @typedef {object} GenerateOptions
 * @property {string} out directory that becomes the chroot root; created, must be empty unless force
 * @property {number} entries about this many entries (dirs + files + links) in total
 * @property {number} [seed] PRNG seed (default 1)
 * @property {number} [linkRatio] share of the entries that are symlinks (default 0.1)
 * @property {boolean} [force] replace a non-empty `out`
 */
/**
 * @typedef {object} GenerateResult
 * @property {string} out @property {number} entries @property {number} dirs @property {number} files @property {number} links
 * @property {Record<string, number>} kinds links per kind: 'fixed' (Capistrano's and the system's) and the LINK_KINDS
 * @property {Array<{ name: string, style: App['style'], releases: string[] }>} apps
 * @property {number} seed @property {number} linkRatio
 * @property {number} ms generation time in milliseconds
 */

/**
 * Generates a tree. Same (entries, seed, linkRatio, out path) => same tree, byte for byte.
 * @param {GenerateOptions} opts
 * @returns {GenerateResult}
 */
export function generate({ out, entries, seed = 1, linkRatio = 0.1, force = false }) {
  if (!out) throw new Error('generate: out is required');
  if (!Number.isFinite(entries) || entries < 1) throw new Error('generate: entries must be a positive number');
  if (!(linkRatio >= 0 && linkRatio < 1)) throw new Error('generate: linkRatio must be in [0, 1)');
  const t0 = process.hrtime.bigint();
  const rootAbs = path.resolve(out);
  const stale = clearOut(rootAbs, force);
  const rng = makeRng(seed);
  const b = new Builder(rootAbs);
  const www = systemSkeleton(b);
  const nApps = Math.max(2, Math.min(10, Math.ceil(entries / 60000)));
  const apps = planApps(rng, nApps);
  // fixed links: localtime, bin, lib (3) + www/default, www/html (2) + per app current + 5 per release
  const fixedLinks = 5 + nApps * (1 + RELEASES * FIXED_PER_RELEASE);
  const linkTarget = Math.round(entries * linkRatio);
  for (const app of apps) sharedDirs(b, rng, www, app);
  const first = /** @type {App} */ (apps[0]);
  b.link(www, 'default', first.name, 'fixed');
  b.link(www, 'html', `/var/www/${first.name}/current/public`, 'fixed');
  const budget = {
    files: Math.max(0, entries - linkTarget - (b.dirs + b.files)),
    links: Math.max(0, linkTarget - fixedLinks),
    hostDepth: depthOf(rootAbs.slice(1)),
  };
  buildReleases(b, rng, apps, budget);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (stale) fs.rmSync(stale, { recursive: true, force: true });
  return {
    out: rootAbs,
    entries: b.entries,
    dirs: b.dirs,
    files: b.files,
    links: b.links,
    kinds: { ...b.kinds },
    apps: apps.map((a) => ({ name: a.name, style: a.style, releases: a.ts })),
    seed,
    linkRatio,
    ms,
  };
}

/**
 * Makes `rootAbs` an empty directory; returns where an old tree was moved, to delete at the end.
 * @param {string} rootAbs @param {boolean} force
 */
function clearOut(rootAbs, force) {
  let stale = null;
  if (fs.existsSync(rootAbs) && fs.readdirSync(rootAbs).length > 0) {
    if (!force) throw new Error(`generate: ${rootAbs} exists and is not empty (use force / --force)`);
    // Move the old tree aside and delete it only after generating: ext4 without
    // a journal crawls when allocating inodes right after freeing many.
    stale = `${rootAbs}.old-${process.pid}`;
    fs.renameSync(rootAbs, stale);
  }
  fs.mkdirSync(rootAbs, { recursive: true });
  return stale;
}

/**
 * The chroot's system: etc/, usr/, bin -> usr/bin, var/log; returns var/www.
 * @param {Builder} b
 */
function systemSkeleton(b) {
  const root = b.node('');
  const etc = b.mkdir(root, 'etc');
  b.file(etc, 'passwd', 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n');
  b.file(etc, 'group', 'root:x:0:\nwww-data:x:33:\n');
  b.file(etc, 'hosts', '127.0.0.1 localhost\n');
  b.file(etc, 'resolv.conf', 'nameserver 127.0.0.53\n');
  const usr = b.mkdir(root, 'usr');
  const ubin = b.mkdir(usr, 'bin');
  for (const f of ['ruby', 'bundle', 'node', 'sh']) b.file(ubin, f, '#!stub\n');
  const ulib = b.mkdir(usr, 'lib');
  b.file(ulib, 'libc.so.6', 'stub\n');
  const share = b.mkdir(usr, 'share');
  const zi = b.mkdir(share, 'zoneinfo');
  const ziEtc = b.mkdir(zi, 'Etc');
  b.file(ziEtc, 'UTC', 'TZif2\n');
  b.link(etc, 'localtime', '/usr/share/zoneinfo/Etc/UTC', 'fixed');
  b.link(root, 'bin', 'usr/bin', 'fixed');
  b.link(root, 'lib', 'usr/lib', 'fixed');
  b.mkdir(root, 'tmp');
  b.mkdir(root, 'dev');
  const varD = b.mkdir(root, 'var');
  const vlog = b.mkdir(varD, 'log');
  const lighty = b.mkdir(vlog, 'lighttpd');
  b.file(lighty, 'access.log', '');
  b.file(lighty, 'error.log', '');
  return b.mkdir(varD, 'www');
}

/** @param {number} n @param {number} [w] */
const pad = (n, w = 2) => String(n).padStart(w, '0');

/** A Capistrano release name (UTC yyyymmddHHMMSS). @param {number} ms */
function tsString(ms) {
  const d = new Date(ms);
  return d.getUTCFullYear() + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds());
}

/** @type {ReadonlyArray<App['style']>} */
const STYLES = ['host', 'relative', 'chroot'];
/** @type {ReadonlyArray<readonly [App['style'], number]>} */
const STYLE_WEIGHTS = [['host', 5], ['relative', 3], ['chroot', 2]];

/**
 * Apps' names, deploy styles and release timestamps.
 * @param {Rng} rng @param {number} nApps
 * @returns {App[]}
 */
function planApps(rng, nApps) {
  const apps = [];
  const clock = Date.UTC(2023, 0, 1) + rng.int(200) * DAY_MS;
  for (let i = 0; i < nApps; i++) {
    const name = APP_NAMES[i % APP_NAMES.length] + (i >= APP_NAMES.length ? String(i) : '');
    const style = STYLES[i] ?? rng.weighted(STYLE_WEIGHTS);
    let t = clock + rng.int(30) * DAY_MS;
    const deleted = tsString(t);
    const ts = [];
    for (let r = 0; r < RELEASES; r++) {
      t += (1 + rng.int(14)) * DAY_MS + rng.int(86400) * 1000;
      ts.push(tsString(t));
    }
    apps.push({ name, style, ts, deleted, i18n: rng.chance(0.5), rel: `var/www/${name}` });
  }
  return apps;
}

/**
 * An app's directory, releases/ and shared/{log,pids,system,config}.
 * @param {import('./builder.js').Builder} b @param {Rng} rng @param {DirNode} www @param {App} app
 */
function sharedDirs(b, rng, www, app) {
  const ad = b.mkdir(www, app.name);
  app.node = ad;
  app.releasesNode = b.mkdir(ad, 'releases');
  const sh = b.mkdir(ad, 'shared');
  const slog = b.mkdir(sh, 'log');
  for (const f of ['production.log', 'puma.stdout.log', 'puma.stderr.log', 'sidekiq.log']) b.file(slog, f, '');
  const spids = b.mkdir(sh, 'pids');
  b.file(spids, 'puma.pid', String(1000 + rng.int(60000)) + '\n');
  b.file(spids, 'sidekiq.pid', String(1000 + rng.int(60000)) + '\n');
  const ssys = b.mkdir(sh, 'system');
  const up = b.mkdir(ssys, 'uploads');
  for (let k = 0; k < 6; k++) b.file(up, fileName(rng, ['.jpg', '.png', '.pdf']), 'upload\n');
  const scfg = b.mkdir(sh, 'config');
  b.file(scfg, 'database.yml', 'production:\n  adapter: postgresql\n');
  b.file(scfg, 'master.key', rng.hex(32) + '\n');
  b.file(scfg, 'storage.yml', 'local:\n  service: Disk\n');
}

const FIXED_PER_RELEASE = 5;

/**
 * Every app's releases, the dirs+files and random links spread evenly over them, then each
 * app's `current`.
 * @param {Builder} b @param {Rng} rng @param {App[]} apps
 * @param {{ files: number, links: number, hostDepth: number }} budget
 */
function buildReleases(b, rng, apps, budget) {
  const n = apps.length * RELEASES;
  const perRelease = Math.floor(budget.files / n);
  let extra = budget.files - perRelease * n;
  const linksPer = Math.floor(budget.links / n);
  let linksExtra = budget.links - linksPer * n;
  for (const app of apps) {
    for (const ts of app.ts) {
      const size = perRelease + (extra-- > 0 ? 1 : 0);
      const nLinks = linksPer + (linksExtra-- > 0 ? 1 : 0);
      buildRelease(b, rng, app, ts, size, nLinks, budget.hostDepth);
    }
    // Capistrano: current -> <deploy_to as the host sees it>/releases/<latest>
    b.link(/** @type {DirNode} */ (app.node), 'current', `${b.rootAbs}/${app.rel}/releases/${app.ts[app.ts.length - 1]}`, 'fixed');
  }
}

/**
 * One release: its files within `size` entries, Capistrano's links to shared/, `nLinks` random links.
 * @param {Builder} b @param {Rng} rng @param {App} app @param {string} ts
 * @param {number} size @param {number} nLinks @param {number} hostDepth
 */
function buildRelease(b, rng, app, ts, size, nLinks, hostDepth) {
  /** @type {{ dirs: DirNode[], files: string[] }} */
  const collect = { dirs: [], files: [] };
  b.collect = collect;
  b.limit = b.dirs + b.files + size;
  const rel = b.mkdir(/** @type {DirNode} */ (app.releasesNode), ts, true);
  const d = newReleaseDirs();
  fillRelease(b, rng, rel, app, d);
  b.limit = Infinity;
  b.collect = null;
  // Capistrano's linked_dirs / linked_files, in the deploy style of the app
  const shared = `${app.rel}/shared`;
  /** @param {string} fromDir @param {string} t */
  const fixedTarget = (fromDir, t) => (app.style === 'host' ? b.rootAbs + '/' + t : app.style === 'chroot' ? '/' + t : relTarget(fromDir, t));
  b.link(rel, 'log', fixedTarget(rel.rel, `${shared}/log`), 'fixed');
  b.link(d.public, 'system', fixedTarget(d.public.rel, `${shared}/system`), 'fixed');
  b.link(d.tmp, 'pids', fixedTarget(d.tmp.rel, `${shared}/pids`), 'fixed');
  b.link(d.config, 'database.yml', fixedTarget(d.config.rel, `${shared}/config/database.yml`), 'fixed');
  b.link(d.config, 'master.key', fixedTarget(d.config.rel, `${shared}/config/master.key`), 'fixed');
  releaseLinks(b, rng, { app, d, collect, hostDepth }, nLinks);
}
