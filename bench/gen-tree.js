#!/usr/bin/env node
// Deterministic generator of Capistrano-shaped chroot trees for the linkcheck
// benchmark (and for tests that want a big, realistic tree).
//
//   node bench/gen-tree.js --out DIR --entries N [--seed S] [--link-ratio 0.1] [--force]
//
// DIR becomes a chroot root (think /srv/lighty): a small system skeleton
// (etc/, usr/, bin -> usr/bin, ...) plus var/www/APP/{releases/<ts> x5,
// shared/{log,pids,system,config}, current} for several apps. Every release is
// a Rails-like tree (app/, config/, vendor/bundle, node_modules, ...) grown
// until the whole tree has about N entries (dirs + files + links), about
// link-ratio of them symlinks of many kinds (see LINK_KINDS).
//
// Same (entries, seed, linkRatio, out path) => same tree, byte for byte.
// Only Node builtins and sync fs calls.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Bump when the shape of generated trees changes (bench/run.js reuses trees by it). */
export const GENERATOR_VERSION = 1;

/** Kinds of random links the generator makes (besides the fixed Capistrano ones). */
export const LINK_KINDS = [
  // [kind, weight]
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

// ---------------------------------------------------------------- PRNG

/** mulberry32: tiny, fast, good enough, deterministic. Returns floats in [0,1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function rand() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeRng(seed) {
  const rand = mulberry32(seed);
  const int = (n) => Math.floor(rand() * n);
  return {
    rand,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: (arr) => arr[int(arr.length)],
    chance: (p) => rand() < p,
    weighted(pairs) {
      let total = 0;
      for (const [, w] of pairs) total += w;
      let r = rand() * total;
      for (const [v, w] of pairs) {
        r -= w;
        if (r < 0) return v;
      }
      return pairs[pairs.length - 1][0];
    },
    hex: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)];
      return s;
    },
  };
}

// ---------------------------------------------------------------- vocab

const APP_NAMES = ['shop', 'blog', 'api', 'admin', 'billing', 'wiki', 'crm', 'status', 'docs', 'forum', 'mailer', 'search'];
const RESOURCES = [
  'user', 'post', 'comment', 'order', 'invoice', 'product', 'cart', 'session', 'account', 'report',
  'payment', 'tag', 'category', 'notification', 'subscription', 'webhook', 'audit', 'team', 'project',
  'ticket', 'attachment', 'address', 'coupon', 'shipment', 'review', 'message', 'event', 'setting',
];
const GEMS = [
  'rack', 'rails', 'actionpack', 'actionview', 'activerecord', 'activesupport', 'activejob', 'nokogiri',
  'puma', 'sidekiq', 'redis', 'pg', 'devise', 'pundit', 'kaminari', 'rspec-core', 'rspec-mocks',
  'rubocop', 'faker', 'bootsnap', 'sprockets', 'tzinfo', 'i18n', 'concurrent-ruby', 'mini_portile2',
  'thor', 'zeitwerk', 'json', 'bcrypt', 'aws-sdk-s3', 'aws-sdk-core', 'capybara', 'selenium-webdriver',
  'mail', 'net-smtp', 'racc', 'loofah', 'builder', 'erubi', 'globalid', 'marcel', 'rake', 'jbuilder',
  'image_processing', 'ruby-vips', 'msgpack', 'ffi', 'websocket-driver', 'sassc', 'turbo-rails',
];
const NPM = [
  'react', 'react-dom', 'lodash', 'webpack', 'webpack-cli', 'esbuild', 'postcss', 'autoprefixer',
  'jquery', 'moment', 'core-js', 'chart.js', 'axios', 'debug', 'ms', 'semver', 'chalk', 'commander',
  'glob', 'minimatch', 'rimraf', 'mkdirp', 'uuid', 'qs', 'express', 'tslib', 'sass', 'nanoid',
  '@babel/core', '@babel/preset-env', '@babel/runtime', '@rails/ujs', '@rails/actioncable',
  '@hotwired/turbo', '@hotwired/stimulus', '@popperjs/core', 'bootstrap', 'tailwindcss',
];
const NPM_BINS = new Set(['webpack', 'webpack-cli', 'esbuild', 'postcss', 'semver', 'glob', 'rimraf', 'mkdirp', 'uuid', 'sass', 'nanoid', 'tailwindcss']);
const WORDS = [
  'base', 'helper', 'util', 'config', 'index', 'main', 'core', 'version', 'errors', 'parser', 'adapter',
  'client', 'server', 'cache', 'store', 'railtie', 'engine', 'middleware', 'request', 'response',
  'router', 'session', 'cookie', 'logger', 'format', 'encoder', 'decoder', 'schema', 'model', 'query',
  'builder', 'visitor', 'node', 'tree', 'token', 'lexer', 'compiler', 'runtime', 'loader', 'registry',
  'callbacks', 'validations', 'associations', 'migration', 'connection', 'pool', 'transaction', 'type',
];
const EXOTIC = [
  'Read Me', 'café', 'naïve', '日本語', 'résumé template', 'Ünïcödé file', 'emoji 🎉', 'über config',
  'ñandú', 'Straße', 'файл', 'copy of index', 'notes (old)', 'draft v2', 'Ελληνικά', 'a b c', '中文 说明',
];
const RB_EXT = ['.rb', '.rb', '.rb', '.rb', '.rake', '.yml', '.erb'];
const JS_EXT = ['.js', '.js', '.js', '.mjs', '.cjs', '.d.ts', '.json', '.map'];
const LINK_NAMES = [
  'shared', 'current', 'latest', 'assets', 'uploads', 'cache', 'pids', 'logs', 'config', 'data',
  'vendor', 'public', 'system', 'tmp', 'link', 'alias', 'prev', 'next', 'storage', 'media', 'packs',
  'database.yml', 'settings.yml', 'secrets.yml', 'app.js', 'main.css', 'favicon.ico', 'robots.txt',
];
const MISSING = ['missing.yml', 'application.yml.bak', 'old', 'tmp/cache/old', 'config/credentials.yml.enc', 'public/packs-test', 'storage'];

// ---------------------------------------------------------------- helpers

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

function tsString(ms) {
  const d = new Date(ms);
  return (
    d.getUTCFullYear() + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) +
    pad(d.getUTCHours()) + pad(d.getUTCMinutes()) + pad(d.getUTCSeconds())
  );
}

const FULL = Symbol('budget-full');

/** Relative link text from directory `fromDir` to `target` (both relative to the root, '' = root). */
function relTarget(fromDir, target) {
  const r = path.posix.relative('/' + fromDir, '/' + target);
  return r === '' ? '.' : r;
}

function depthOf(rel) {
  return rel === '' ? 0 : rel.split('/').length;
}

/** Parse "300k", "1m", "1.5M", "12345". */
export function parseCount(s) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(String(s));
  if (!m) throw new Error(`not a count: ${s}`);
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

// ---------------------------------------------------------------- builder

class Builder {
  constructor(rootAbs, rng) {
    this.rootAbs = rootAbs;
    this.rng = rng;
    this.dirs = 0;
    this.files = 0;
    this.links = 0;
    this.kinds = Object.create(null);
    this.limit = Infinity; // cap on dirs + files (links are budgeted separately)
    this.collect = null; // {dirs: [], files: []} while building a release
  }

  get entries() {
    return this.dirs + this.files + this.links;
  }

  abs(rel) {
    return rel === '' ? this.rootAbs : this.rootAbs + '/' + rel;
  }

  node(rel) {
    return { rel, names: new Set() };
  }

  unique(parent, name) {
    if (!parent.names.has(name)) {
      parent.names.add(name);
      return name;
    }
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    for (let i = 2; ; i++) {
      const n = `${stem}-${i}${ext}`;
      if (!parent.names.has(n)) {
        parent.names.add(n);
        return n;
      }
    }
  }

  check(force) {
    if (!force && this.dirs + this.files >= this.limit) throw FULL;
  }

  mkdir(parent, name, force = false) {
    this.check(force);
    const n = this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.mkdirSync(this.abs(rel));
    this.dirs++;
    const node = this.node(rel);
    if (this.collect) this.collect.dirs.push(node);
    return node;
  }

  file(parent, name, content = '', force = false) {
    this.check(force);
    const n = this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.writeFileSync(this.abs(rel), content);
    this.files++;
    if (this.collect) this.collect.files.push(rel);
    return rel;
  }

  link(parent, name, target, kind, reserved = false) {
    const n = reserved ? name : this.unique(parent, name);
    const rel = parent.rel === '' ? n : parent.rel + '/' + n;
    fs.symlinkSync(target, this.abs(rel));
    this.links++;
    this.kinds[kind] = (this.kinds[kind] || 0) + 1;
    return rel;
  }
}

function fileName(rng, exts) {
  if (rng.chance(0.04)) {
    const e = rng.pick(EXOTIC);
    return rng.chance(0.5) ? e + rng.pick(exts) : e + ' ' + rng.pick(WORDS) + rng.pick(exts);
  }
  const w = rng.pick(WORDS);
  const r = rng.int(10);
  if (r < 5) return w + rng.pick(exts);
  if (r < 8) return w + '_' + rng.pick(WORDS) + rng.pick(exts);
  return rng.pick(WORDS) + '-' + w + rng.pick(exts);
}

function content(rng, name) {
  if (name.endsWith('.rb') || name.endsWith('.rake')) {
    const cls = name.replace(/\W+/g, '_');
    return `# frozen_string_literal: true\n\nmodule Gen\n  class C_${cls}\n    VALUE = ${rng.int(100000)}\n  end\nend\n`;
  }
  if (name.endsWith('.json')) return `{"name":"${name.replace(/"/g, '')}","v":${rng.int(1000)}}\n`;
  if (name.endsWith('.js') || name.endsWith('.mjs') || name.endsWith('.cjs')) return `export const v${rng.int(1e6)} = ${rng.int(1e6)};\n`;
  if (rng.chance(0.15)) return '';
  return `${name} ${rng.hex(16)}\n`;
}

// ---------------------------------------------------------------- release contents

/** The Rails skeleton of a release. Returns named nodes the links need. */
function releaseSkeleton(b, rng, rel, app, d) {
  const F = true; // essentials ignore the budget so the fixed links always have parents
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

  // budgeted from here on
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
  return d;
}

function genResource(b, rng, d) {
  const r = rng.pick(RESOURCES) + (rng.chance(0.3) ? '_' + rng.pick(WORDS) : '');
  b.file(d.models, r + '.rb', content(rng, r + '.rb'));
  b.file(d.controllers, r + 's_controller.rb', content(rng, r + '.rb'));
  b.file(d.helpers, r + 's_helper.rb', content(rng, r + '.rb'));
  const v = b.mkdir(d.views, r + 's');
  for (const a of ['index', 'show', 'new', 'edit', '_form']) {
    if (rng.chance(0.8)) b.file(v, a + '.html.erb', `<h1>${r} ${a}</h1>\n`);
  }
  if (rng.chance(0.3)) b.file(v, a11y(rng, r), '<p>…</p>\n');
  b.file(d.specModels, r + '_spec.rb', content(rng, r + '.rb'));
  if (rng.chance(0.6)) b.file(d.specReq, r + 's_spec.rb', content(rng, r + '.rb'));
  if (rng.chance(0.3)) b.file(d.jobs, r + '_job.rb', content(rng, r + '.rb'));
  if (rng.chance(0.2)) b.file(d.mailers, r + '_mailer.rb', content(rng, r + '.rb'));
  if (rng.chance(0.5)) b.file(d.stimulus, r + '_controller.js', content(rng, 'x.js'));
  const ts = 20200101000000 + rng.int(49991231000000 - 20200101000000);
  b.file(d.migrate, `${ts}_create_${r}s.rb`, content(rng, 'm.rb'));
}

function a11y(rng, r) {
  return rng.pick(EXOTIC) + ' ' + r + '.html.erb';
}

/** A subtree of nested dirs and files (lib/ of a gem, dist/ of a package). */
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
      dir = stack[stack.length - 1];
    }
    const name = fileName(rng, exts);
    b.file(dir, name, content(rng, name));
  }
}

function genGem(b, rng, d) {
  const g = rng.pick(GEMS);
  const ver = `${rng.int(8)}.${rng.int(20)}.${rng.int(12)}`;
  const gd = b.mkdir(d.gems, `${g}-${ver}`);
  b.file(d.specs, `${g}-${ver}.gemspec`, content(rng, 'x.gemspec'));
  for (const f of ['README.md', 'LICENSE.txt', 'CHANGELOG.md']) if (rng.chance(0.7)) b.file(gd, f, content(rng, f));
  const lib = b.mkdir(gd, 'lib');
  b.file(lib, g.replace(/-/g, '_') + '.rb', content(rng, 'x.rb'));
  const inner = b.mkdir(lib, g.replace(/-/g, '/').split('/')[0]);
  genNested(b, rng, inner, RB_EXT, 4, rng.range(4, 90));
  if (rng.chance(0.25)) {
    const ext = b.mkdir(gd, 'ext');
    genNested(b, rng, ext, ['.c', '.h', '.rb', '.o', '.so'], 2, rng.range(3, 20));
  }
}

function genNpm(b, rng, d) {
  const name = rng.pick(NPM);
  let parent = d.nm;
  let base = name;
  if (name.startsWith('@')) {
    const [scope, pkg] = name.split('/');
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

function genLib(b, rng, d) {
  genNested(b, rng, d.lib, RB_EXT, 3, rng.range(2, 15));
}

// ---------------------------------------------------------------- links

function pickNotAncestor(rng, arr, avoid) {
  for (let i = 0; i < 4; i++) {
    const x = rng.pick(arr);
    if (!avoid.startsWith(x)) return x;
  }
  return rng.pick(arr);
}

/** Make random links in one release until `count` of them exist. */
function releaseLinks(b, rng, ctx, count) {
  const { app, rel, d, collect, hostDepth } = ctx;
  const appRel = app.rel; // var/www/APP
  const sharedTargets = ['log', 'pids', 'system', 'config', 'config/database.yml', 'system/uploads', 'log/production.log'].map(
    (s) => `${appRel}/shared/${s}`,
  );
  const currentTargets = ['public', 'public/assets', 'config', 'log', 'tmp/pids', 'app/models', 'public/system', 'Gemfile'];
  const dirs = collect.dirs;
  const files = collect.files;
  const host = (t) => b.rootAbs + '/' + t;
  const chroot = (t) => '/' + t;
  const anyTarget = () => (rng.chance(0.5) ? rng.pick(files) : rng.pick(dirs).rel);
  const linkName = () => rng.pick(LINK_NAMES);

  const start = b.links;
  while (b.links - start < count) {
    const kind = rng.weighted(LINK_KINDS);
    const at = rng.pick(dirs);
    switch (kind) {
      case 'relative': {
        if (d.bins.length && rng.chance(0.25)) {
          const bin = rng.pick(d.bins);
          if (!d.bin.names.has(bin.name)) {
            b.link(d.bin, bin.name, relTarget(d.bin.rel, bin.target), kind);
            break;
          }
        }
        const t = anyTarget();
        b.link(at, linkName(), relTarget(at.rel, t), kind);
        break;
      }
      case 'relative-shared':
        b.link(at, linkName(), relTarget(at.rel, rng.pick(sharedTargets)), kind);
        break;
      case 'host-absolute':
        b.link(at, linkName(), host(rng.chance(0.5) ? rng.pick(sharedTargets) : anyTarget()), kind);
        break;
      case 'chroot-absolute': {
        const r = rng.int(10);
        const t = r < 5 ? chroot(rng.pick(sharedTargets)) : r < 9 ? chroot(anyTarget()) : rng.pick(['/etc/hosts', '/usr/bin/ruby', '/tmp', '/etc/localtime']);
        b.link(at, linkName(), t, kind);
        break;
      }
      case 'via-current': {
        const t = `${appRel}/current/${rng.pick(currentTargets)}`;
        const r = rng.int(3);
        b.link(at, linkName(), r === 0 ? chroot(t) : r === 1 ? host(t) : relTarget(at.rel, t), kind);
        break;
      }
      case 'escaping': {
        const depth = depthOf(at.rel);
        // mostly a few levels too many; sometimes enough to reach the host's real /
        const extra = rng.chance(0.75) ? rng.range(1, 3) : hostDepth + rng.range(1, 3);
        const t = '../'.repeat(depth + extra) + rng.pick(['etc/passwd', 'etc/passwd', 'etc/hosts', 'usr/bin/ruby', 'etc/shadow', 'root/.ssh']);
        b.link(at, linkName(), t, kind);
        break;
      }
      case 'dangling': {
        const r = rng.int(6);
        let t;
        if (r === 0) t = '../' + rng.pick(MISSING);
        else if (r === 1) t = rng.pick(MISSING);
        else if (r === 2) t = chroot(`${appRel}/shared/tmp/cache`);
        else if (r === 3) t = chroot(`${appRel}/releases/${app.deleted}/public/assets`);
        else if (r === 4) t = host(`${appRel}/shared/bundle`);
        else t = rng.pick(['/opt/rbenv/versions/3.2.2/bin/ruby', '/home/deploy/apps/' + app.name + '/shared/log', '/srv/old/var/www']);
        b.link(at, linkName(), t, kind);
        break;
      }
      case 'chain': {
        // a -> b [-> c] -> dir
        const dirT = pickNotAncestor(rng, dirs, at.rel).rel;
        const hop1 = rng.pick(dirs);
        const style = rng.int(3);
        const tgt1 = style === 0 ? relTarget(hop1.rel, dirT) : style === 1 ? host(dirT) : chroot(dirT);
        let last = b.link(hop1, linkName(), tgt1, kind);
        if (rng.chance(0.3)) {
          const hop2 = rng.pick(dirs);
          last = b.link(hop2, linkName(), relTarget(hop2.rel, last), kind);
        }
        b.link(at, linkName(), rng.chance(0.7) ? relTarget(at.rel, last) : chroot(last), kind);
        break;
      }
      case 'loop': {
        const r = rng.int(4);
        if (r === 0) {
          // x -> x
          const name = b.unique(at, 'loop');
          b.link(at, name, name, kind, true);
        } else if (r === 1 || r === 2) {
          // a -> b -> a, same dir or across dirs
          const other = r === 1 ? at : rng.pick(dirs);
          const na = b.unique(at, linkName());
          const nb = b.unique(other, linkName());
          const ra = at.rel + '/' + na;
          const rb = other.rel + '/' + nb;
          b.link(at, na, relTarget(at.rel, rb), kind, true);
          b.link(other, nb, rng.chance(0.5) ? relTarget(other.rel, ra) : chroot(ra), kind, true);
        } else {
          // a -> b/inner, b -> a: a loop through a path component
          const na = b.unique(at, 'a');
          const nb = b.unique(at, 'b');
          b.link(at, na, nb + '/inner', kind, true);
          b.link(at, nb, na, kind, true);
        }
        break;
      }
      case 'dir-cycle': {
        const r = rng.int(3);
        const t = r === 0 ? '.' : r === 1 ? '..' : chroot(appRel);
        b.link(at, rng.pick(['self', 'up', 'root', 'all']), t, kind);
        break;
      }
    }
  }
}

// ---------------------------------------------------------------- generate

/**
 * Generate a tree. Returns {out, entries, dirs, files, links, kinds, apps, releases, ms}.
 * @param {{out: string, entries: number, seed?: number, linkRatio?: number, force?: boolean}} opts
 */
export function generate({ out, entries, seed = 1, linkRatio = 0.1, force = false }) {
  if (!out) throw new Error('generate: out is required');
  if (!Number.isFinite(entries) || entries < 1) throw new Error('generate: entries must be a positive number');
  if (!(linkRatio >= 0 && linkRatio < 1)) throw new Error('generate: linkRatio must be in [0, 1)');
  const t0 = process.hrtime.bigint();
  const rootAbs = path.resolve(out);
  let stale = null;
  if (fs.existsSync(rootAbs) && fs.readdirSync(rootAbs).length > 0) {
    if (!force) throw new Error(`generate: ${rootAbs} exists and is not empty (use force / --force)`);
    // Move the old tree aside and delete it only after generating: ext4 without
    // a journal crawls when allocating inodes right after freeing many.
    stale = `${rootAbs}.old-${process.pid}`;
    fs.renameSync(rootAbs, stale);
  }
  fs.mkdirSync(rootAbs, { recursive: true });

  const rng = makeRng(seed);
  const b = new Builder(rootAbs, rng);
  const hostDepth = depthOf(rootAbs.slice(1));
  const root = b.node('');

  const nApps = Math.max(2, Math.min(10, Math.ceil(entries / 60000)));
  const RELEASES = 5;
  const nReleases = nApps * RELEASES;

  // --- chroot skeleton
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
  const www = b.mkdir(varD, 'www');

  // --- apps: names, deploy styles, release timestamps
  const styles = ['host', 'relative', 'chroot'];
  const apps = [];
  let clock = Date.UTC(2023, 0, 1) + rng.int(200) * 86400000;
  for (let i = 0; i < nApps; i++) {
    const name = APP_NAMES[i % APP_NAMES.length] + (i >= APP_NAMES.length ? String(i) : '');
    const style = i < styles.length ? styles[i] : rng.weighted([['host', 5], ['relative', 3], ['chroot', 2]]);
    let t = clock + rng.int(30) * 86400000;
    const deleted = tsString(t);
    const ts = [];
    for (let r = 0; r < RELEASES; r++) {
      t += (1 + rng.int(14)) * 86400000 + rng.int(86400) * 1000;
      ts.push(tsString(t));
    }
    apps.push({ name, style, ts, deleted, i18n: rng.chance(0.5), rel: `var/www/${name}` });
  }

  // fixed links: localtime, bin, lib (3) + www/default, www/html (2) + per app current + 5 per release
  const FIXED_PER_RELEASE = 5;
  const fixedLinks = 5 + nApps * (1 + RELEASES * FIXED_PER_RELEASE);
  const linkTarget = Math.round(entries * linkRatio);
  const randomLinks = Math.max(0, linkTarget - fixedLinks);

  // --- per app shared/ and releases/ dirs
  for (const app of apps) {
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
  b.link(www, 'default', apps[0].name, 'fixed');
  b.link(www, 'html', `/var/www/${apps[0].name}/current/public`, 'fixed');

  // --- releases
  const nonLinkLeft = Math.max(0, entries - linkTarget - (b.dirs + b.files));
  const perRelease = Math.floor(nonLinkLeft / nReleases);
  let extra = nonLinkLeft - perRelease * nReleases;
  const linksPer = Math.floor(randomLinks / nReleases);
  let linksExtra = randomLinks - linksPer * nReleases;

  for (const app of apps) {
    for (const ts of app.ts) {
      const budget = perRelease + (extra-- > 0 ? 1 : 0);
      const collect = { dirs: [], files: [] };
      b.collect = collect;
      b.limit = b.dirs + b.files + budget;
      const rel = b.mkdir(app.releasesNode, ts, true);
      const relRel = rel.rel;
      const d = { scopes: Object.create(null), bins: [], binsSeen: new Set() };
      let skeletonDone = false;
      try {
        releaseSkeleton(b, rng, rel, app, d);
        skeletonDone = true;
      } catch (e) {
        if (e !== FULL) throw e;
      }
      if (skeletonDone) {
        try {
          for (;;) {
            const g = rng.weighted([['gem', 40], ['npm', 30], ['resource', 18], ['assets', 6], ['lib', 6]]);
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
      b.limit = Infinity;
      b.collect = null;

      // fixed Capistrano links (linked_dirs / linked_files) in the deploy style of the app
      const sharedRel = `${app.rel}/shared`;
      const fixedTarget = (fromDir, t) =>
        app.style === 'host' ? b.rootAbs + '/' + t : app.style === 'chroot' ? '/' + t : relTarget(fromDir, t);
      b.link(rel, 'log', fixedTarget(relRel, `${sharedRel}/log`), 'fixed');
      b.link(d.public, 'system', fixedTarget(d.public.rel, `${sharedRel}/system`), 'fixed');
      b.link(d.tmp, 'pids', fixedTarget(d.tmp.rel, `${sharedRel}/pids`), 'fixed');
      b.link(d.config, 'database.yml', fixedTarget(d.config.rel, `${sharedRel}/config/database.yml`), 'fixed');
      b.link(d.config, 'master.key', fixedTarget(d.config.rel, `${sharedRel}/config/master.key`), 'fixed');

      const nLinks = linksPer + (linksExtra-- > 0 ? 1 : 0);
      releaseLinks(b, rng, { app, rel: relRel, d, collect, hostDepth }, nLinks);
    }
    // Capistrano: current -> <deploy_to as the host sees it>/releases/<latest>
    b.link(app.node, 'current', `${b.rootAbs}/${app.rel}/releases/${app.ts[app.ts.length - 1]}`, 'fixed');
  }

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

// ---------------------------------------------------------------- CLI

function usage() {
  return 'usage: node bench/gen-tree.js --out DIR --entries N [--seed S] [--link-ratio 0.1] [--force] [--verbose]\n' +
    '  N accepts suffixes: 10k, 300k, 1m';
}

function main(argv) {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        entries: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'link-ratio': { type: 'string', default: '0.1' },
        force: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (e) {
    console.error(`gen-tree: ${e.message}\n${usage()}`);
    return 2;
  }
  if (opts.help) {
    console.log(usage());
    return 0;
  }
  if (!opts.out || !opts.entries) {
    console.error(`gen-tree: --out and --entries are required\n${usage()}`);
    return 2;
  }
  try {
    const s = generate({
      out: opts.out,
      entries: parseCount(opts.entries),
      seed: Number(opts.seed) >>> 0,
      linkRatio: Number(opts['link-ratio']),
      force: opts.force,
    });
    console.log(
      `gen-tree: ${s.entries} entries (dirs ${s.dirs}, files ${s.files}, links ${s.links}) in ${s.out} ` +
        `[${s.apps.length} apps, seed ${s.seed}, ${(s.ms / 1000).toFixed(1)}s]`,
    );
    if (opts.verbose) {
      console.log('links by kind: ' + Object.entries(s.kinds).map(([k, v]) => `${k} ${v}`).join(', '));
      console.log('apps: ' + s.apps.map((a) => `${a.name} (${a.style})`).join(', '));
    }
    return 0;
  } catch (e) {
    console.error(`gen-tree: ${e.message}`);
    return 1;
  }
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
