#!/usr/bin/env node
// @ts-check
// A clean tree for the bench's start-up row: a copy of a generated tree in which every link
// linkcheck has a finding about is replaced by a relative link to a file that exists in the
// tree, so the copy has the same entries and the same number of links, and `linkcheck --quiet`
// on it prints nothing and exits 0 (the pre-restart health check of a healthy deploy).
//
//   node bench/clean-tree.js SRC DST [--linkcheck "node bin/linkcheck.js"]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Copies `src` to `dst` (replacing it) and makes every link in it clean; returns the links replaced.
 * @param {string} src @param {string} dst @param {string} [linkcheck] the command under test
 */
export function cleanTree(src, dst, linkcheck = 'node bin/linkcheck.js') {
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  const cp = spawnSync('cp', ['-a', '--', src, dst], { stdio: 'inherit' });
  if (cp.status !== 0) throw new Error(`cp -a ${src} ${dst} failed`);
  // Any regular file of the skeleton will do as the new target: it sits in the tree, outside any release.
  const good = path.join(dst, 'var/log/lighttpd/access.log');
  if (!fs.lstatSync(good).isFile()) throw new Error(`${good} is not a file`);
  let replaced = 0;
  // Replacing a link can change what links through it see: a few rounds until no finding is left.
  for (let round = 0; round < 5; round++) {
    /** @param {string} s */
    const q = (s) => "'" + s.replace(/'/g, "'\\''") + "'";
    const r = spawnSync('sh', ['-c', `${linkcheck} ${q(dst)} --root ${q(dst)} --format ndjson --fail-on never`], { cwd: REPO, maxBuffer: 1 << 30, encoding: 'latin1' });
    if (r.status !== 0) throw new Error(`linkcheck on ${dst} exited ${r.status}: ${r.stderr}`);
    const bad = [];
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('{"path"')) continue;
      const e = JSON.parse(Buffer.from(line, 'latin1').toString('utf8'));
      if (e.findings.length) bad.push(e.path);
    }
    if (bad.length === 0) return replaced;
    for (const p of bad) {
      const tmp = `${p}.clean-tmp`;
      fs.symlinkSync(path.relative(path.dirname(p), good), tmp);
      fs.renameSync(tmp, p);
      replaced++;
    }
  }
  throw new Error(`${dst} still has findings after 5 rounds`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [src, dst] = process.argv.slice(2);
  const at = process.argv.indexOf('--linkcheck');
  if (!src || !dst) {
    console.error('usage: node bench/clean-tree.js SRC DST [--linkcheck "node bin/linkcheck.js"]');
    process.exit(2);
  }
  console.log(`clean-tree: ${cleanTree(src, dst, at > 0 ? process.argv[at + 1] : undefined)} links replaced in ${dst}`);
}
