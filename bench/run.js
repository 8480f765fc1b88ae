#!/usr/bin/env node
// @ts-check
// linkcheck benchmark: linkcheck vs `find` (and `symlinks` when installed) on
// generated Capistrano-shaped trees. See bench/README.md; the parts live in bench/run/.
//
//   node bench/run.js [--sizes 30k,100k,300k,1m] [--runs 5] [--keep] [--smoke]
//                     [--linkcheck "node bin/linkcheck.js"] [--work DIR] [--out FILE]
//                     [--seed 1] [--link-ratio 0.1] [--skip-fix] [--cooldown 90] [--timeout 900]
//                     [--startup-runs 21] [--skip-startup]
//
// Exit status: 0 ok; 1 a linkcheck command crashed or exited with a status
// other than 0/1 (or a run could not be set up); 2 bad usage.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo } from './run/machine.js';
import { parse, usage } from './run/options.js';
import { markdown, table } from './run/report.js';
import { measureSize } from './run/sizes.js';
import { measureStartup, startupTree } from './run/startup.js';
import { detectTime } from './run/timing.js';
import { ensureTree } from './run/trees.js';
import { REPO, errorText, log, onPath, rmrf, sizeLabel } from './run/util.js';

/** @typedef {import('./run/options.js').Options} Options */
/** @typedef {import('./run/sizes.js').Bench} Bench */
/** @typedef {import('./run/sizes.js').SizeTree} SizeTree */

/** @returns {number} the exit status */
function main() {
  let o;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${errorText(e)}\n${usage()}`);
    return 2;
  }
  if (o.help) {
    console.log(usage());
    return 0;
  }
  const problem = setupProblem(o);
  if (problem) {
    console.error(`bench: ${problem}`);
    return 1;
  }
  const timeBin = detectTime();
  const symlinksBin = onPath('symlinks');
  if (!timeBin) log('/usr/bin/time (GNU) not found: peak RSS will be n/a');
  if (!symlinksBin) log('symlinks not on PATH: skipping the symlinks peers (apt-get install symlinks)');
  fs.mkdirSync(o.work, { recursive: true });
  /** @type {Bench} */
  const bench = { o, timer: { timeBin, rssFile: path.join(o.work, `.rss-${process.pid}`), timeoutS: o.timeoutS }, symlinksBin, failures: [], commandLines: new Map() };
  const machine = machineInfo();
  const started = new Date();
  const loadAtStart = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  let trees;
  let clean;
  try {
    ({ trees, clean } = prepareTrees(bench));
  } catch (e) {
    console.error(`bench: ${errorText(e)}`);
    return 1;
  }
  const sections = trees.map((t) => ({ label: t.label, entries: t.entries, stats: t.stats, rows: measureSize(bench, t), tree: t.tree }));
  const startup = clean ? measureStartup(bench, clean.tree) : null;
  cleanUp(bench, trees, clean);
  const tableText = table(sections, startup);
  console.log(tableText);
  const { failures } = bench;
  if (failures.length) console.log(`\n${failures.length} linkcheck run(s) FAILED (exit status not 0/1, or crashed)`);
  const facts = { o, machine, started, loadAtStart, timeBin, symlinksBin, sections, startup, startupTree: clean, commandLines: bench.commandLines, failures };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, markdown(facts, tableText));
  log(`wrote ${path.relative(process.cwd(), o.out) || o.out}`);
  return failures.length ? 1 : 0;
}

/**
 * Why the bench cannot run at all (linkcheck or find missing), or null.
 * @param {Options} o
 */
function setupProblem(o) {
  // linkcheck must be runnable: the default path is checked up front.
  const lcWords = o.linkcheck.trim().split(/\s+/);
  const scriptArg = lcWords[0] === 'node' ? lcWords.slice(1).find((w) => !w.startsWith('-')) : null;
  if (scriptArg && !fs.existsSync(path.resolve(REPO, scriptArg))) return `${scriptArg} not found (build first: npm run bench), or pass --linkcheck "CMD"`;
  if (!onPath('find')) return 'find not on PATH';
  return null;
}

/**
 * Every tree first (deletes deferred), then the measurements.
 * @param {Bench} bench
 */
function prepareTrees(bench) {
  const { o } = bench;
  const stale = path.join(o.work, `stale-${process.pid}`);
  /** @type {SizeTree[]} */
  const trees = [];
  for (const entries of o.sizes) {
    const label = sizeLabel(entries);
    const sizeDir = path.join(o.work, label);
    try {
      trees.push({ entries, label, sizeDir, ...ensureTree(sizeDir, entries, o.seed, o.linkRatio, stale) });
    } catch (e) {
      throw new Error(`could not set up the ${label} tree: ${errorText(e)}`);
    }
  }
  let clean = null;
  if (!o.skipStartup) {
    try {
      clean = startupTree(bench, trees, stale);
    } catch (e) {
      throw new Error(`could not set up the start-up tree: ${errorText(e)}`);
    }
  }
  if (fs.existsSync(stale)) {
    log('removing stale trees');
    rmrf(stale);
  }
  return { trees, clean };
}

/**
 * @param {Bench} bench @param {SizeTree[]} trees @param {import('./run/startup.js').StartupTree | null} clean
 */
function cleanUp({ o, timer }, trees, clean) {
  fs.rmSync(timer.rssFile, { force: true });
  if (clean) rmrf(clean.clean);
  if (o.keep) return;
  log('removing the trees (--keep keeps them for the next run)');
  for (const t of trees) rmrf(t.sizeDir);
  if (clean?.sizeDir) rmrf(clean.sizeDir);
}

process.exitCode = main();
