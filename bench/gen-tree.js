#!/usr/bin/env node
// @ts-check
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
// link-ratio of them symlinks of many kinds (see LINK_KINDS in gen/links.js).
//
// Same (entries, seed, linkRatio, out path) => same tree, byte for byte.
// Only Node builtins and sync fs calls. The generator lives in bench/gen/.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate } from './gen/generate.js';

export { GENERATOR_VERSION, generate } from './gen/generate.js';

/**
 * Parses "300k", "1m", "1.5M", "12345".
 * @param {string | number} s
 */
export function parseCount(s) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$/.exec(String(s));
  if (!m) throw new Error(`not a count: ${s}`);
  const mult = m[2] === '' ? 1 : m[2]?.toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

// ---------------------------------------------------------------- CLI

function usage() {
  return 'usage: node bench/gen-tree.js --out DIR --entries N [--seed S] [--link-ratio 0.1] [--force] [--verbose]\n' +
    '  N accepts suffixes: 10k, 300k, 1m';
}

/** @param {string[]} argv @returns {number} the exit status */
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
    console.error(`gen-tree: ${e instanceof Error ? e.message : String(e)}\n${usage()}`);
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
    console.error(`gen-tree: ${e instanceof Error ? e.message : String(e)}`);
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
