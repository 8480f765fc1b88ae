// @ts-check
// The generated trees the bench measures: made once per parameters and reused (--keep), with
// deletes deferred so no generation runs right after a big delete.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GENERATOR_VERSION, generate } from '../gen-tree.js';
import { log } from './util.js';

/**
 * What a tree holds, as kept in its params.json.
 * @typedef {{ entries: number, dirs: number, files: number, links: number, kinds: Record<string, number>, genMs: number }} TreeStats
 */

/**
 * Makes sure sizeDir/tree holds a tree generated with these parameters (reusing one left by
 * --keep). Anything to delete is moved into `stale` (a dir the caller removes once every tree is
 * generated) so that no generation runs right after a big delete.
 * @param {string} sizeDir @param {number} entries @param {number} seed @param {number} linkRatio @param {string} stale
 * @returns {{ tree: string, stats: TreeStats, reused: boolean }}
 */
export function ensureTree(sizeDir, entries, seed, linkRatio, stale) {
  const tree = path.join(sizeDir, 'tree');
  const pristine = path.join(sizeDir, 'tree.pristine');
  const paramsFile = path.join(sizeDir, 'params.json');
  const want = { generatorVersion: GENERATOR_VERSION, entries, seed, linkRatio, tree };
  let staleN = 0;
  /** @param {string} p */
  const discard = (p) => {
    if (!fs.existsSync(p)) return;
    fs.mkdirSync(stale, { recursive: true });
    fs.renameSync(p, path.join(stale, `${path.basename(sizeDir)}-${path.basename(p)}-${staleN++}`));
  };

  // recover from an interrupted fix phase
  if (fs.existsSync(pristine)) {
    log(`recovering ${pristine} from an interrupted run`);
    discard(tree);
    fs.renameSync(pristine, tree);
  }
  discard(path.join(sizeDir, 'trash'));

  const have = reusable(paramsFile, tree, want);
  if (have) {
    log(`reusing ${tree} (${have.entries} entries)`);
    return { tree, stats: have, reused: true };
  }
  fs.rmSync(paramsFile, { force: true });
  discard(tree);
  fs.mkdirSync(sizeDir, { recursive: true });
  log(`generating ${entries} entries in ${tree} ...`);
  const s = generate({ out: tree, entries, seed, linkRatio });
  const stats = { entries: s.entries, dirs: s.dirs, files: s.files, links: s.links, kinds: s.kinds, genMs: Math.round(s.ms) };
  fs.writeFileSync(paramsFile, JSON.stringify({ ...want, stats }, null, 2) + '\n');
  log(`generated ${s.entries} entries (dirs ${s.dirs}, files ${s.files}, links ${s.links}) in ${(s.ms / 1000).toFixed(1)}s`);
  return { tree, stats, reused: false };
}

/**
 * The stats of a kept tree made with the parameters `want`, or null.
 * @param {string} paramsFile @param {string} tree @param {Record<string, unknown>} want
 * @returns {TreeStats | null}
 */
function reusable(paramsFile, tree, want) {
  if (!fs.existsSync(paramsFile) || !fs.existsSync(tree)) return null;
  try {
    const have = JSON.parse(fs.readFileSync(paramsFile, 'utf8'));
    if (Object.keys(want).every((k) => have[k] === want[k]) && have.stats) return have.stats;
  } catch {
    /* regenerate */
  }
  return null;
}

/**
 * Room for `copies` more copies of a tree of `entries` entries and `bytes` bytes under dir?
 * @param {string} dir @param {number} copies @param {number} entries @param {number} bytes
 */
export function roomFor(dir, copies, entries, bytes) {
  try {
    const st = fs.statfsSync(dir);
    const needInodes = copies * entries * 1.05 + 100000;
    const needBytes = copies * bytes * 1.1 + 2 ** 30;
    return st.ffree >= needInodes && st.bavail * st.bsize >= needBytes;
  } catch {
    return false;
  }
}

/**
 * Disk usage of a tree in bytes (du -sb), or a guess of 4.5 KiB per entry.
 * @param {string} tree @param {number} entries
 */
export function treeBytes(tree, entries) {
  const r = spawnSync('du', ['-sb', tree], { encoding: 'utf8' });
  const n = r.status === 0 ? Number(r.stdout.split(/\s/)[0]) : NaN;
  return Number.isFinite(n) ? n : entries * 4608;
}
