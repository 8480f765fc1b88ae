// @ts-check
// What one release of an app holds: the Rails skeleton, then gems, npm packages, resources,
// assets and lib files until the release's budget is spent.
import { FULL, content, fileName } from './builder.js';
import { EXOTIC, GEMS, JS_EXT, NPM, NPM_BINS, RB_EXT, RESOURCES, WORDS } from './vocab.js';

/** @typedef {import('./builder.js').Builder} Builder */
/** @typedef {import('./builder.js').DirNode} DirNode */
/** @typedef {import('./rng.js').Rng} Rng */
/**
 * An app under var/www: its deploy style (how its Capistrano links are written) and releases.
 * @typedef {object} App
 * @property {string} name
 * @property {'host' | 'relative' | 'chroot'} style
 * @property {string[]} ts release timestamps, oldest first
 * @property {string} deleted the timestamp of a release that no longer exists
 * @property {boolean} i18n
 * @property {string} rel var/www/<name>
 * @property {DirNode} [node]
 * @property {DirNode} [releasesNode]
 */
/**
 * The directories of a release that later steps add to or link to.
 * @typedef {object} ReleaseDirs
 * @property {Record<string, DirNode>} scopes npm scopes made so far
 * @property {Array<{ name: string, target: string }>} bins npm package binaries
 * @property {Set<string>} binsSeen
 * @property {DirNode} config @property {DirNode} public @property {DirNode} tmp @property {DirNode} nm
 * @property {DirNode} bin @property {DirNode} vendor @property {DirNode} gems @property {DirNode} specs
 * @property {DirNode} app @property {DirNode} models @property {DirNode} controllers @property {DirNode} views
 * @property {DirNode} layouts @property {DirNode} helpers @property {DirNode} jobs @property {DirNode} mailers
 * @property {DirNode} images @property {DirNode} css @property {DirNode} stimulus @property {DirNode} envs
 * @property {DirNode} inits @property {DirNode} locales @property {DirNode} migrate @property {DirNode} lib
 * @property {DirNode} passets @property {DirNode} packs @property {DirNode} spec @property {DirNode} specModels
 * @property {DirNode} specReq
 */

/** @returns {ReleaseDirs} */
export function newReleaseDirs() {
  // The directories are filled in by releaseSkeleton.
  return /** @type {ReleaseDirs} */ (/** @type {unknown} */ ({ scopes: Object.create(null), bins: [], binsSeen: new Set() }));
}

/**
 * Fills one release: the skeleton, then random parts until the budget is spent (FULL).
 * @param {Builder} b @param {Rng} rng @param {DirNode} rel @param {App} app @param {ReleaseDirs} d
 */
export function fillRelease(b, rng, rel, app, d) {
  try {
    releaseEssentials(b, rng, rel, d);
    releaseRails(b, rng, rel, app, d);
  } catch (e) {
    if (e !== FULL) throw e;
    return;
  }
  try {
    for (;;) {
      const g = rng.weighted(PARTS);
      if (g === 'gem') genGem(b, rng, d);
      else if (g === 'npm') genNpm(b, rng, d);
      else if (g === 'resource') genResource(b, rng, d);
      else if (g === 'assets') genAssets(b, rng, d);
      else genLib(b, rng, d);
    }
  } catch (e) {
    if (e !== FULL) throw e;
  }
}

/** @type {ReadonlyArray<readonly [string, number]>} */
const PARTS = [['gem', 40], ['npm', 30], ['resource', 18], ['assets', 6], ['lib', 6]];

/**
 * The directories the fixed links need: made whatever the budget says.
 * @param {Builder} b @param {Rng} rng @param {DirNode} rel @param {ReleaseDirs} d
 */
function releaseEssentials(b, rng, rel, d) {
  const F = true;
  d.config = b.mkdir(rel, 'config', F);
  d.public = b.mkdir(rel, 'public', F);
  d.tmp = b.mkdir(rel, 'tmp', F);
  d.nm = b.mkdir(rel, 'node_modules', F);
  d.bin = b.mkdir(d.nm, '.bin', F);
  d.vendor = b.mkdir(rel, 'vendor', F);
  const bundle = b.mkdir(d.vendor, 'bundle', F);
  const ruby = b.mkdir(bundle, 'ruby', F);
  const rv = b.mkdir(ruby, '3.2.0', F);
  d.gems = b.mkdir(rv, 'gems', F);
  d.specs = b.mkdir(rv, 'specifications', F);
  b.file(rel, 'REVISION', rng.hex(40) + '\n', F);
}

/**
 * The Rails skeleton (budgeted from here on).
 * @param {Builder} b @param {Rng} rng @param {DirNode} rel @param {App} app @param {ReleaseDirs} d
 */
function releaseRails(b, rng, rel, app, d) {
  d.app = b.mkdir(rel, 'app');
  d.models = b.mkdir(d.app, 'models');
  b.mkdir(d.models, 'concerns');
  d.controllers = b.mkdir(d.app, 'controllers');
  b.mkdir(d.controllers, 'concerns');
  d.views = b.mkdir(d.app, 'views');
  d.layouts = b.mkdir(d.views, 'layouts');
  b.file(d.layouts, 'application.html.erb', '<%= yield %>\n');
  d.helpers = b.mkdir(d.app, 'helpers');
  d.jobs = b.mkdir(d.app, 'jobs');
  d.mailers = b.mkdir(d.app, 'mailers');
  const assets = b.mkdir(d.app, 'assets');
  d.images = b.mkdir(assets, 'images');
  d.css = b.mkdir(assets, 'stylesheets');
  const js = b.mkdir(d.app, 'javascript');
  d.stimulus = b.mkdir(js, 'controllers');
  d.envs = b.mkdir(d.config, 'environments');
  d.inits = b.mkdir(d.config, 'initializers');
  d.locales = b.mkdir(d.config, 'locales');
  const db = b.mkdir(rel, 'db');
  d.migrate = b.mkdir(db, 'migrate');
  d.lib = b.mkdir(rel, 'lib');
  b.mkdir(d.lib, 'tasks');
  d.passets = b.mkdir(d.public, 'assets');
  d.packs = b.mkdir(d.public, 'packs');
  d.spec = b.mkdir(rel, 'spec');
  d.specModels = b.mkdir(d.spec, 'models');
  d.specReq = b.mkdir(d.spec, 'requests');
  b.mkdir(d.tmp, 'cache');
  releaseFiles(b, rng, rel, app, d);
}

/** @param {Builder} b @param {Rng} rng @param {DirNode} rel @param {App} app @param {ReleaseDirs} d */
function releaseFiles(b, rng, rel, app, d) {
  const rbin = b.mkdir(rel, 'bin');
  for (const f of ['rails', 'rake', 'setup']) b.file(rbin, f, '#!/usr/bin/env ruby\n');
  for (const f of ['Gemfile', 'Gemfile.lock', 'Rakefile', 'config.ru', 'package.json', 'yarn.lock', 'README.md', '.ruby-version']) {
    b.file(rel, f, content(rng, f));
  }
  for (const f of ['application.rb', 'routes.rb', 'puma.rb', 'boot.rb', 'environment.rb', 'storage.yml']) b.file(d.config, f, content(rng, f));
  for (const f of ['production.rb', 'staging.rb', 'development.rb', 'test.rb']) b.file(d.envs, f, content(rng, f));
  for (const f of ['robots.txt', '404.html', '422.html', '500.html', 'favicon.ico']) b.file(d.public, f, content(rng, f));
  b.file(d.locales, 'en.yml', 'en:\n  hello: "Hello"\n');
  if (app.i18n) b.file(d.locales, 'ja.yml', 'ja:\n  hello: "こんにちは"\n');
}

/** @param {Builder} b @param {Rng} rng @param {ReleaseDirs} d */
function genResource(b, rng, d) {
  const r = rng.pick(RESOURCES) + (rng.chance(0.3) ? '_' + rng.pick(WORDS) : '');
  b.file(d.models, r + '.rb', content(rng, r + '.rb'));
  b.file(d.controllers, r + 's_controller.rb', content(rng, r + '.rb'));
  b.file(d.helpers, r + 's_helper.rb', content(rng, r + '.rb'));
  const v = b.mkdir(d.views, r + 's');
  for (const a of ['index', 'show', 'new', 'edit', '_form']) {
    if (rng.chance(0.8)) b.file(v, a + '.html.erb', `<h1>${r} ${a}</h1>\n`);
  }
  if (rng.chance(0.3)) b.file(v, rng.pick(EXOTIC) + ' ' + r + '.html.erb', '<p>…</p>\n');
  b.file(d.specModels, r + '_spec.rb', content(rng, r + '.rb'));
  if (rng.chance(0.6)) b.file(d.specReq, r + 's_spec.rb', content(rng, r + '.rb'));
  if (rng.chance(0.3)) b.file(d.jobs, r + '_job.rb', content(rng, r + '.rb'));
  if (rng.chance(0.2)) b.file(d.mailers, r + '_mailer.rb', content(rng, r + '.rb'));
  if (rng.chance(0.5)) b.file(d.stimulus, r + '_controller.js', content(rng, 'x.js'));
  const ts = 20200101000000 + rng.int(49991231000000 - 20200101000000);
  b.file(d.migrate, `${ts}_create_${r}s.rb`, content(rng, 'm.rb'));
}

/**
 * A subtree of nested dirs and files (lib/ of a gem, dist/ of a package).
 * @param {Builder} b @param {Rng} rng @param {DirNode} parent @param {readonly string[]} exts
 * @param {number} maxDepth @param {number} nFiles
 */
function genNested(b, rng, parent, exts, maxDepth, nFiles) {
  let dir = parent;
  const stack = [parent];
  for (let i = 0; i < nFiles; i++) {
    const r = rng.rand();
    if (r < 0.12 && stack.length < maxDepth) {
      dir = b.mkdir(dir, rng.chance(0.03) ? rng.pick(EXOTIC) : rng.pick(WORDS));
      stack.push(dir);
    } else if (r < 0.2 && stack.length > 1) {
      stack.pop();
      dir = /** @type {DirNode} */ (stack[stack.length - 1]);
    }
    const name = fileName(rng, exts);
    b.file(dir, name, content(rng, name));
  }
}

/** @param {Builder} b @param {Rng} rng @param {ReleaseDirs} d */
function genGem(b, rng, d) {
  const g = rng.pick(GEMS);
  const ver = `${rng.int(8)}.${rng.int(20)}.${rng.int(12)}`;
  const gd = b.mkdir(d.gems, `${g}-${ver}`);
  b.file(d.specs, `${g}-${ver}.gemspec`, content(rng, 'x.gemspec'));
  for (const f of ['README.md', 'LICENSE.txt', 'CHANGELOG.md']) if (rng.chance(0.7)) b.file(gd, f, content(rng, f));
  const lib = b.mkdir(gd, 'lib');
  b.file(lib, g.replace(/-/g, '_') + '.rb', content(rng, 'x.rb'));
  const inner = b.mkdir(lib, /** @type {string} */ (g.replace(/-/g, '/').split('/')[0]));
  genNested(b, rng, inner, RB_EXT, 4, rng.range(4, 90));
  if (rng.chance(0.25)) {
    const ext = b.mkdir(gd, 'ext');
    genNested(b, rng, ext, ['.c', '.h', '.rb', '.o', '.so'], 2, rng.range(3, 20));
  }
}

/** @param {Builder} b @param {Rng} rng @param {ReleaseDirs} d */
function genNpm(b, rng, d) {
  const name = rng.pick(NPM);
  let parent = d.nm;
  let base = name;
  if (name.startsWith('@')) {
    const [scope, pkg] = /** @type {[string, string]} */ (name.split('/'));
    parent = d.scopes[scope] ||= b.mkdir(d.nm, scope);
    base = pkg;
  }
  if (parent.names.has(base) && rng.chance(0.7)) {
    // nested duplicate version, the node_modules way
    base = base + '-' + rng.range(1, 9);
  }
  const pd = b.mkdir(parent, base);
  b.file(pd, 'package.json', content(rng, 'package.json'));
  for (const f of ['README.md', 'LICENSE', 'index.js']) if (rng.chance(0.7)) b.file(pd, f, content(rng, f));
  const sub = b.mkdir(pd, rng.pick(['lib', 'dist', 'src', 'build', 'cjs', 'esm']));
  genNested(b, rng, sub, JS_EXT, 4, rng.range(3, 70));
  if (NPM_BINS.has(name) && !d.binsSeen.has(base)) {
    const bd = b.mkdir(pd, 'bin');
    const cli = b.file(bd, base + '.js', '#!/usr/bin/env node\n');
    d.binsSeen.add(base);
    d.bins.push({ name: base, target: cli });
  }
}

/** @param {Builder} b @param {Rng} rng @param {ReleaseDirs} d */
function genAssets(b, rng, d) {
  const n = rng.range(3, 25);
  for (let i = 0; i < n; i++) {
    const kind = rng.int(4);
    if (kind === 0) b.file(d.passets, `application-${rng.hex(64)}.css`, 'body{}\n');
    else if (kind === 1) b.file(d.passets, `${rng.pick(WORDS)}-${rng.hex(64)}.js`, content(rng, 'x.js'));
    else if (kind === 2) b.file(d.images, fileName(rng, ['.png', '.svg', '.jpg', '.gif']), 'img\n');
    else b.file(d.packs, `${rng.pick(WORDS)}-${rng.hex(20)}.js.gz`, 'gz\n');
  }
}

/** @param {Builder} b @param {Rng} rng @param {ReleaseDirs} d */
function genLib(b, rng, d) {
  genNested(b, rng, d.lib, RB_EXT, 3, rng.range(2, 15));
}
