// @ts-check
// One tree size: the audit commands and the fix commands, interleaved over --runs rounds, then
// one table row per command.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isBad, timeCmd } from './timing.js';
import { TARGETS } from './targets.js';
import { roomFor, treeBytes } from './trees.js';
import { HERE, coolDown, fmtMB, fmtRatio, fmtS, log, median, minOf, rmrf, sh, sq } from './util.js';

/**
 * A command the bench times, with its runs.
 * @typedef {object} Command
 * @property {string} id @property {string} name @property {string} cmd
 * @property {boolean} [baseline] the audit rows' reference (find)
 * @property {boolean} [fixBaseline] the fix rows' reference (symlinks -rc)
 * @property {boolean} [lc] a linkcheck run (its failures count)
 * @property {boolean} [skip] timed out once: not run again
 * @property {import('./timing.js').Run[]} runs
 */
/**
 * A linkcheck run that failed.
 * @typedef {{ size: string, round: number, id: string, status: number | null, signal: string | null, crashed: boolean, timedOut: boolean, stderr: string }} Failure
 */
/**
 * What every measurement shares: the options, how to time, where failures and commands go.
 * @typedef {object} Bench
 * @property {import('./options.js').Options} o
 * @property {import('./timing.js').Timer} timer
 * @property {string | null} symlinksBin
 * @property {Failure[]} failures
 * @property {Map<string, string>} commandLines id -> command with TREE for the tree
 */
/** @typedef {{ size: string, cmd: string, median: string, min: string, rss: string, find: string, floor: string, peer: string, target: string }} Row */
/** @typedef {{ entries: number, label: string, sizeDir: string, tree: string, stats: import('./trees.js').TreeStats }} SizeTree */

/**
 * @param {string} id @param {string} name @param {string} cmd @param {Partial<Command>} [more]
 * @returns {Command}
 */
const command = (id, name, cmd, more = {}) => ({ id, name, cmd, runs: [], ...more });

/** @param {Bench} bench @param {string} tree */
function commandsFor({ o, symlinksBin }, tree) {
  const T = sq(tree);
  const lc = o.linkcheck;
  const audit = [
    command('find', 'find -type l -printf', `find ${T} -type l -printf '%p -> %l\\n' > /dev/null`, { baseline: true }),
    // Node's floor: the same listing and readlinks as find, the fastest way Node has, nothing else.
    command('node-floor', 'node walk floor (bench/walk-floor.js)', `node ${sq(path.join(HERE, 'walk-floor.js'))} ${T} > /dev/null`),
    command('ndjson', 'linkcheck --format ndjson', `${lc} ${T} --root ${T} --format ndjson --fail-on never > /dev/null`, { lc: true }),
    command('json', 'linkcheck --format json', `${lc} ${T} --root ${T} --format json --fail-on never > /dev/null`, { lc: true }),
  ];
  if (symlinksBin) audit.push(command('symlinks-rv', 'symlinks -rv', `symlinks -rv ${T} > /dev/null`));
  // fix commands run on a fresh `cp -a` copy that sits at the tree's own path
  // (the original is renamed aside meanwhile), so host-prefixed absolute links
  // in the copy point into the copy, as they would on the real host.
  const fix = [];
  if (!o.skipFix) {
    fix.push(command('fix', 'linkcheck --fix', `${lc} ${T} --root ${T} --fix --quiet --fail-on never > /dev/null`, { lc: true }));
    if (symlinksBin) fix.push(command('symlinks-rc', 'symlinks -rc', `symlinks -rc ${T} > /dev/null`, { fixBaseline: true }));
  }
  return { audit, fix };
}

/**
 * Measures one size: returns its table rows.
 * @param {Bench} bench @param {SizeTree} t
 * @returns {Row[]}
 */
export function measureSize(bench, { entries, label, sizeDir, tree, stats }) {
  const { o } = bench;
  const { audit, fix } = commandsFor(bench, tree);
  for (const c of [...audit, ...fix]) bench.commandLines.set(c.id, c.cmd.split(tree).join('TREE').split(HERE + '/').join('bench/'));
  log(`${label}: warming the cache`);
  spawnSync('sh', ['-c', `find ${sq(tree)} > /dev/null`], { stdio: 'ignore' });
  const copies = new Copies(sizeDir, tree, o.runs * fix.length, stats.entries, label);
  for (let round = 0; round < o.runs; round++) {
    // rotate the order each round so drift hits every command alike
    for (const c of rotate(audit, round)) if (!c.skip) record(bench, label, c, timeCmd(c.cmd, bench.timer), round);
    if (fix.length) fixRound(bench, label, rotate(fix, round), copies, round);
  }
  copies.removeAll();
  return summarize(entries, label, audit, fix);
}

/** @template T @param {T[]} xs @param {number} round @returns {T[]} */
const rotate = (xs, round) => xs.map((_, i) => /** @type {T} */ (xs[(i + round) % xs.length]));

/**
 * Keeps one timed run of `c`, logs it, and counts a failed linkcheck run.
 * @param {Bench} bench @param {string} label @param {Command} c @param {import('./timing.js').Run} r @param {number} round
 */
function record({ o, failures }, label, c, r, round) {
  c.runs.push(r);
  if (r.timedOut) {
    c.skip = true; // don't sit through the same hang every round
    log(`${label} ${c.id}: timed out after ${o.timeoutS}s; skipping it for the remaining rounds`);
  }
  if (c.lc && isBad(r)) {
    failures.push({ size: label, round, id: c.id, status: r.status, signal: r.signal, crashed: r.crashed, timedOut: r.timedOut, stderr: r.stderr });
    log(`FAIL ${label} ${c.id}: exit ${r.status ?? '-'} ${r.signal ?? ''}${r.crashed && !r.timedOut ? ' (crashed)' : ''}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
  } else if (c.lc && r.status === 1) {
    log(`note: ${c.id} exited 1 despite --fail-on never`);
  }
  log(`${label} round ${round + 1}/${o.runs} ${c.id.padEnd(11)} ${fmtS(r.ms)}s  rss ${fmtMB(r.rssKB)} MB  exit ${r.status ?? r.signal}`);
}

/**
 * The fix copies of one size: each at the tree's own path while the original is aside; used
 * ones parked until the size is done when the disk has room for all of them (deleting now would
 * slow the next copy's inode allocations), otherwise deleted at once (fix timings get noisier).
 */
class Copies {
  /** @param {string} sizeDir @param {string} tree @param {number} n @param {number} entries @param {string} label */
  constructor(sizeDir, tree, n, entries, label) {
    this.tree = tree;
    this.pristine = path.join(sizeDir, 'tree.pristine');
    this.trash = path.join(sizeDir, 'trash');
    this.trashN = 0;
    this.label = label;
    this.park = n > 0 && roomFor(sizeDir, n, entries, treeBytes(tree, entries));
    if (n > 0 && !this.park) log(`${label}: not enough free inodes/space to keep ${n} copies; deleting each after use`);
  }

  /** Moves the tree aside. */
  begin() {
    fs.renameSync(this.tree, this.pristine);
  }

  fresh() {
    sh(`cp -a ${sq(this.pristine)} ${sq(this.tree)}`);
  }

  /** @param {boolean} park */
  done(park) {
    if (park) {
      fs.mkdirSync(this.trash, { recursive: true });
      fs.renameSync(this.tree, path.join(this.trash, String(this.trashN++)));
    } else {
      rmrf(this.tree, { cool: false });
    }
  }

  /** Puts the tree back (a copy left by a failure goes to the trash). */
  end() {
    if (fs.existsSync(this.tree)) this.done(true);
    fs.renameSync(this.pristine, this.tree);
  }

  removeAll() {
    if (!fs.existsSync(this.trash)) return;
    log(`${this.label}: removing fix copies`);
    rmrf(this.trash);
  }
}

/** @param {Bench} bench @param {string} label @param {Command[]} order @param {Copies} copies @param {number} round */
function fixRound(bench, label, order, copies, round) {
  copies.begin();
  try {
    for (const c of order) {
      if (c.skip) continue;
      copies.fresh();
      coolDown(bench.o.cooldownMs);
      record(bench, label, c, timeCmd(c.cmd, bench.timer), round);
      copies.done(copies.park);
    }
  } finally {
    copies.end();
  }
}

/** @param {Command} c */
const med = (c) => median(c.runs.map((r) => r.ms));

/**
 * One row per command: medians, minimum, peak RSS, ratios and targets.
 * @param {number} entries @param {string} label @param {Command[]} audit @param {Command[]} fix
 * @returns {Row[]}
 */
function summarize(entries, label, audit, fix) {
  const base = audit.find((c) => c.baseline);
  const floor = audit.find((c) => c.id === 'node-floor');
  const peer = audit.find((c) => c.id === 'symlinks-rv');
  const fixBase = fix.find((c) => c.fixBaseline);
  /** @param {number | null} m @param {Command | undefined} ref */
  const over = (m, ref) => {
    const r = ref ? med(ref) : null;
    return r && m != null ? m / r : null;
  };
  return [...audit, ...fix].map((c) => {
    const m = med(c);
    const rss = median(c.runs.map((r) => r.rssKB));
    const isFix = fix.includes(c);
    const ratio = over(m, isFix ? fixBase : base);
    const toPeer = over(m, isFix ? fixBase : peer);
    return {
      size: label,
      cmd: c.name,
      median: fmtS(m),
      min: fmtS(minOf(c.runs.map((r) => r.ms))),
      rss: fmtMB(rss),
      // audit rows against find, Node's floor and symlinks -rv; fix rows against symlinks -rc only
      find: isFix ? '' : fmtRatio(ratio),
      floor: isFix ? '' : fmtRatio(over(m, floor)),
      peer: fmtRatio(toPeer),
      target: targetsOf(c, entries, { ratio, toPeer, rss }).join(', '),
    };
  });
}

/**
 * The target column: each target of the row's command, ok or MISS, and its failed runs.
 * @param {Command} c @param {number} entries
 * @param {{ ratio: number | null, toPeer: number | null, rss: number | null }} got
 */
function targetsOf(c, entries, { ratio, toPeer, rss }) {
  /** @type {string[]} */
  const targets = [];
  /** @param {string} what @param {number | null} r @param {number} t */
  const check = (what, r, t) => targets.push(`${what}<=${t}x ${r == null ? 'n/a' : r <= t ? 'ok' : 'MISS'}`);
  const vsSymlinks = TARGETS.ndjsonVsSymlinks[entries];
  const vsFind = TARGETS.ndjsonVsFind[entries];
  const rssMB = TARGETS.ndjsonRssMB[entries];
  const fixRatio = TARGETS.fixRatio[entries];
  if (c.id === 'ndjson' && vsSymlinks != null) check('symlinks ', toPeer, vsSymlinks);
  if (c.id === 'ndjson' && vsFind != null) check('find ', ratio, vsFind);
  if (c.id === 'ndjson' && rssMB != null) targets.push(`<=${rssMB} MB ${rss == null ? 'n/a' : rss / 1024 <= rssMB ? 'ok' : 'MISS'}`);
  if (c.id === 'fix' && fixRatio != null) check('symlinks -rc ', toPeer, fixRatio);
  const failed = c.runs.filter((r) => c.lc && isBad(r)).length;
  if (failed) targets.push(`${failed} FAILED`);
  return targets;
}
