// @ts-check
// Start-up: `node -e 0`, `linkcheck --version` and a clean tree's `--quiet` check.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cleanTree } from '../clean-tree.js';
import { STARTUP_ENTRIES, TARGETS } from './targets.js';
import { timeCmd } from './timing.js';
import { ensureTree } from './trees.js';
import { fmtMB, fmtRatio, fmtS, log, median, minOf, sizeLabel, sq } from './util.js';

/** @typedef {import('./sizes.js').Bench} Bench */
/** @typedef {import('./sizes.js').Command} Command */
/**
 * The clean copy of the 30k tree; sizeDir is set when the 30k tree was made for it alone.
 * @typedef {{ sizeDir?: string, clean: string, tree: string, replaced: number }} StartupTree
 */
/** @typedef {{ size: string, cmd: string, median: string, min: string, rss: string, ratio: string, vs: string, target: string }} StartupRow */

/**
 * The start-up row's tree: the 30k tree (generated here when --sizes leaves it out), copied and
 * made clean, so --quiet checks a healthy deploy.
 * @param {Bench} bench @param {import('./sizes.js').SizeTree[]} trees @param {string} stale
 * @returns {StartupTree}
 */
export function startupTree({ o }, trees, stale) {
  const sizeDir = path.join(o.work, sizeLabel(STARTUP_ENTRIES));
  const t = trees.find((x) => x.sizeDir === sizeDir) ?? ensureTree(sizeDir, STARTUP_ENTRIES, o.seed, o.linkRatio, stale);
  const own = trees.some((x) => x.sizeDir === sizeDir) ? {} : { sizeDir };
  const clean = path.join(o.work, 'startup-clean');
  log(`making a clean copy of the ${sizeLabel(STARTUP_ENTRIES)} tree in ${clean}`);
  const replaced = cleanTree(t.tree, path.join(clean, 'tree'), o.linkcheck);
  return { ...own, clean, tree: path.join(clean, 'tree'), replaced };
}

/**
 * The three commands, interleaved (order rotated each round) so the load of a shared machine
 * falls on all three alike. These runs are short, so they take more rounds than the audits.
 * @param {Bench} bench @param {string} cleanTreePath
 * @returns {{ rows: StartupRow[], commands: Command[] }}
 */
export function measureStartup({ o, timer, failures }, cleanTreePath) {
  const T = sq(cleanTreePath);
  /** @type {Command[]} */
  const commands = [
    { id: 'node-e-0', name: 'node -e 0', cmd: 'node -e 0', runs: [] },
    { id: 'version', name: 'linkcheck --version', cmd: `${o.linkcheck} --version`, lc: true, runs: [] },
    { id: 'quiet-clean', name: `linkcheck --quiet (clean ${sizeLabel(STARTUP_ENTRIES)} tree)`, cmd: `${o.linkcheck} ${T} --root ${T} --quiet`, lc: true, runs: [] },
  ];
  spawnSync('sh', ['-c', `find ${T} > /dev/null`], { stdio: 'ignore' });
  for (let round = 0; round < o.startupRuns; round++) {
    for (let i = 0; i < commands.length; i++) {
      const c = /** @type {Command} */ (commands[(i + round) % commands.length]);
      const r = timeCmd(c.cmd, timer);
      c.runs.push(r);
      // a clean tree must pass: anything but 0 is a failure here
      if (c.lc && (r.crashed || r.status !== 0)) {
        failures.push({ size: 'start-up', round, id: c.id, status: r.status, signal: r.signal, crashed: r.crashed, timedOut: r.timedOut, stderr: r.stderr });
        log(`FAIL start-up ${c.id}: exit ${r.status ?? '-'} ${r.signal ?? ''}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
      }
    }
  }
  return { rows: startupRows(commands), commands };
}

/** @param {Command[]} commands @returns {StartupRow[]} */
function startupRows(commands) {
  /** @param {Command} c */
  const med = (c) => median(c.runs.map((r) => r.ms));
  const node = /** @type {Command} */ (commands[0]);
  const nodeMs = /** @type {number} */ (med(node));
  return commands.map((c) => {
    const m = /** @type {number} */ (med(c));
    const ratio = c === node ? 1 : m / nodeMs;
    const target =
      c.id === 'version' ? `<=${TARGETS.versionRatio}x ${ratio <= TARGETS.versionRatio ? 'ok' : 'MISS'}` : c.id === 'quiet-clean' ? `<=${TARGETS.quietCleanS} s ${m / 1000 <= TARGETS.quietCleanS ? 'ok' : 'MISS'}` : '';
    log(`start-up ${c.id.padEnd(11)} median ${fmtS(m)}s`);
    return { size: sizeLabel(STARTUP_ENTRIES), cmd: c.name, median: fmtS(m), min: fmtS(minOf(c.runs.map((r) => r.ms))), rss: fmtMB(median(c.runs.map((r) => r.rssKB))), ratio: fmtRatio(ratio), vs: 'node -e 0', target };
  });
}
