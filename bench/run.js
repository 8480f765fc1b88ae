#!/usr/bin/env node
// linkcheck benchmark: linkcheck vs `find` (and `symlinks` when installed) on
// generated Capistrano-shaped trees. See bench/README.md.
//
//   node bench/run.js [--sizes 30k,100k,300k,1m] [--runs 5] [--keep] [--smoke]
//                     [--linkcheck "node bin/linkcheck.js"] [--work DIR] [--out FILE]
//                     [--seed 1] [--link-ratio 0.1] [--skip-fix] [--cooldown 90] [--timeout 900]
//                     [--startup-runs 21] [--skip-startup]
//
// Exit status: 0 ok; 1 a linkcheck command crashed or exited with a status
// other than 0/1 (or a run could not be set up); 2 bad usage.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanTree } from './clean-tree.js';
import { generate, parseCount, GENERATOR_VERSION } from './gen-tree.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');

// Targets from bench/README.md, keyed by tree size (entries).
const TARGETS = {
  // ndjson audit wall time against `symlinks -rv` (the strongest peer) and against `find`
  ndjsonVsSymlinks: { 30000: 1.3, 100000: 1.3, 300000: 0.85, 1000000: 0.85 },
  ndjsonVsFind: { 1000000: 1.5 },
  ndjsonRssMB: { 300000: 100, 1000000: 150 },
  fixRatio: { 30000: 2, 100000: 2, 300000: 2, 1000000: 2 },
  // start-up: `linkcheck --version` against `node -e 0`, and a clean 30k tree's --quiet check
  versionRatio: 1.5,
  quietCleanS: 0.25,
};
/** The start-up row's clean tree: this many entries, whatever --sizes says. */
const STARTUP_ENTRIES = 30000;

// ---------------------------------------------------------------- small utils

const sq = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
const log = (...a) => console.error('[bench]', ...a);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function median(xs) {
  const a = xs.filter((x) => x != null && Number.isFinite(x)).sort((p, q) => p - q);
  if (a.length === 0) return null;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

function minOf(xs) {
  const a = xs.filter((x) => x != null && Number.isFinite(x));
  return a.length ? Math.min(...a) : null;
}

function sizeLabel(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}m`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function onPath(bin) {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

// ext4 without a journal (as on these machines) skips inodes freed in the last
// ~60-90 s when it allocates new ones, which makes file creation crawl right
// after a big `rm -rf`. Fix runs create inodes, so they wait --cooldown seconds
// after our own deletes.
let lastDeleteAt = 0;

function rmrf(p, { cool = true } = {}) {
  // `rm -rf` is much faster than fs.rmSync on big trees.
  if (!fs.existsSync(p)) return;
  const r = spawnSync('rm', ['-rf', '--', p], { stdio: 'inherit' });
  if (cool) lastDeleteAt = Date.now();
  if (r.status !== 0) throw new Error(`rm -rf ${p} failed`);
}

function sh(cmd) {
  const r = spawnSync('sh', ['-c', cmd], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-500)}`);
}

const TIMEOUT_BIN = onPath('timeout');

/** GNU time, if present and it understands -f/-o. */
function detectTime() {
  // LINKCHECK_BENCH_TIME overrides the path; set it empty to measure without it.
  const bin = process.env.LINKCHECK_BENCH_TIME ?? '/usr/bin/time';
  if (!bin || !fs.existsSync(bin)) return null;
  const tmp = path.join(os.tmpdir(), `linkcheck-bench-time-${process.pid}`);
  try {
    const r = spawnSync(bin, ['-f', '%M', '-o', tmp, 'true'], { stdio: 'ignore' });
    const kb = r.status === 0 ? parseRss(fs.readFileSync(tmp, 'utf8')) : null;
    return kb ? bin : null;
  } catch {
    return null;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function parseRss(text) {
  const lines = String(text).trim().split('\n');
  const last = lines[lines.length - 1];
  return /^\d+$/.test(last) ? Number(last) : null;
}

// ---------------------------------------------------------------- timing

/**
 * Run `cmd` through `sh -c`, timed with hrtime around spawnSync, peak RSS via
 * /usr/bin/time -f %M when available. Returns {ms, rssKB, status, signal, stderr}.
 */
function timeCmd(cmd, timeBin, rssFile, timeoutS) {
  // coreutils `timeout` kills the whole process group (sh and what it started)
  let argv = ['sh', '-c', cmd];
  if (timeoutS > 0 && TIMEOUT_BIN) argv = [TIMEOUT_BIN, '-k', '10', String(timeoutS), ...argv];
  if (timeBin) {
    fs.rmSync(rssFile, { force: true });
    argv = [timeBin, '-f', '%M', '-o', rssFile, ...argv];
  }
  const [file, ...args] = argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
    // last resort when `timeout` is missing (can leave grandchildren behind)
    timeout: timeoutS > 0 && !TIMEOUT_BIN ? timeoutS * 1000 : undefined,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const timedOut = timeoutS > 0 && ms >= timeoutS * 1000 && (r.status === 124 || r.status === 137 || r.signal != null);
  let rssKB = null;
  let status = r.status;
  let signal = r.signal;
  if (timeBin) {
    let txt = '';
    try {
      txt = fs.readFileSync(rssFile, 'utf8');
    } catch {
      /* time itself died */
    }
    rssKB = parseRss(txt);
    const m = /terminated by signal (\d+)/.exec(txt);
    if (m) signal = `signal ${m[1]}`;
  }
  if (r.error) signal = r.error.code === 'ETIMEDOUT' ? 'timed out' : r.error.message;
  if (timedOut) signal = `timed out after ${timeoutS}s`;
  // a shell reports a child killed by signal N as 128+N
  if (status != null && status > 128 && !signal) signal = `signal ${status - 128}`;
  const stderr = String(r.stderr || '');
  return { ms, rssKB, status, signal, timedOut, stderr: stderr.slice(-2000), crashed: looksLikeCrash(status, signal, stderr) };
}

/**
 * Node exits 1 on an uncaught exception, the same status as "findings", so a
 * status-1 run counts as a crash when stderr carries Node's crash footer or a
 * stack trace.
 */
function looksLikeCrash(status, signal, stderr) {
  if (signal) return true;
  if (status === 1) return /^Node\.js v\d+/m.test(stderr) || /^\s+at .+:\d+:\d+\)?$/m.test(stderr);
  return false;
}

/** A linkcheck run that did not go as it should: crashed, or exit status other than 0/1. */
const isBad = (r) => r.crashed || (r.status !== 0 && r.status !== 1);

// ---------------------------------------------------------------- trees

/**
 * Make sure sizeDir/tree holds a tree generated with these parameters (reuse
 * one left by --keep). Anything to delete is moved into `stale` (a dir the
 * caller removes once every tree is generated) so that no generation runs
 * right after a big delete.
 */
function ensureTree(sizeDir, entries, seed, linkRatio, stale) {
  const tree = path.join(sizeDir, 'tree');
  const pristine = path.join(sizeDir, 'tree.pristine');
  const paramsFile = path.join(sizeDir, 'params.json');
  const want = { generatorVersion: GENERATOR_VERSION, entries, seed, linkRatio, tree };
  let staleN = 0;
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

  if (fs.existsSync(paramsFile) && fs.existsSync(tree)) {
    try {
      const have = JSON.parse(fs.readFileSync(paramsFile, 'utf8'));
      if (Object.keys(want).every((k) => have[k] === want[k]) && have.stats) {
        log(`reusing ${tree} (${have.stats.entries} entries)`);
        return { tree, stats: have.stats, reused: true };
      }
    } catch {
      /* regenerate */
    }
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

/** Room for `copies` more copies of a tree of `entries` entries and `bytes` bytes under dir? */
function roomFor(dir, copies, entries, bytes) {
  try {
    const st = fs.statfsSync(dir);
    const needInodes = copies * entries * 1.05 + 100000;
    const needBytes = copies * bytes * 1.1 + 2 ** 30;
    return st.ffree >= needInodes && st.bavail * st.bsize >= needBytes;
  } catch {
    return false;
  }
}

/** Disk usage of a tree in bytes (du -sb), or a guess of 4.5 KiB per entry. */
function treeBytes(tree, entries) {
  const r = spawnSync('du', ['-sb', tree], { encoding: 'utf8' });
  const n = r.status === 0 ? Number(r.stdout.split(/\s/)[0]) : NaN;
  return Number.isFinite(n) ? n : entries * 4608;
}

// ---------------------------------------------------------------- main

function usage() {
  return `usage: node bench/run.js [--sizes 30k,100k,300k,1m] [--runs 5] [--keep] [--smoke]
        [--linkcheck "node bin/linkcheck.js"] [--work DIR] [--out FILE]
        [--seed 1] [--link-ratio 0.1] [--skip-fix] [--cooldown 90] [--timeout 900]
        [--startup-runs 21] [--skip-startup]`;
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string' },
      runs: { type: 'string' },
      keep: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      linkcheck: { type: 'string', default: 'node bin/linkcheck.js' },
      work: { type: 'string', default: path.join(os.tmpdir(), 'linkcheck-bench') },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'link-ratio': { type: 'string', default: '0.1' },
      'skip-fix': { type: 'boolean', default: false },
      cooldown: { type: 'string' },
      timeout: { type: 'string' },
      'startup-runs': { type: 'string' },
      'skip-startup': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const smoke = values.smoke;
  const o = {
    smoke,
    help: values.help,
    sizes: (values.sizes ?? (smoke ? '10k' : '30k,100k,300k,1m')).split(',').map((s) => parseCount(s.trim())),
    runs: Number(values.runs ?? (smoke ? 1 : 5)),
    keep: values.keep,
    linkcheck: values.linkcheck,
    work: path.resolve(values.work),
    out: path.resolve(values.out ?? path.join(HERE, 'out', smoke ? 'results-smoke.md' : 'results.md')),
    seed: Number(values.seed) >>> 0,
    linkRatio: Number(values['link-ratio']),
    skipFix: values['skip-fix'],
    cooldownMs: Number(values.cooldown ?? (smoke ? 0 : 90)) * 1000,
    // seconds one command may run before it is killed and counted as failed
    timeoutS: Number(values.timeout ?? (smoke ? 120 : 900)),
    startupRuns: Number(values['startup-runs'] ?? (smoke ? 3 : 21)),
    skipStartup: values['skip-startup'],
  };
  if (!(o.startupRuns >= 1) || !Number.isInteger(o.startupRuns)) throw new Error('--startup-runs must be a positive integer');
  if (!(o.runs >= 1) || !Number.isInteger(o.runs)) throw new Error('--runs must be a positive integer');
  if (!(o.linkRatio >= 0 && o.linkRatio < 1)) throw new Error('--link-ratio must be in [0, 1)');
  return o;
}

function machineInfo() {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not linux */
  }
  const nproc = (() => {
    const r = spawnSync('nproc', [], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : String(os.availableParallelism?.() ?? os.cpus().length);
  })();
  const kernel = (() => {
    const r = spawnSync('uname', ['-srm'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : `${os.type()} ${os.release()}`;
  })();
  const fsType = (dir) => {
    const r = spawnSync('df', ['-T', dir], { encoding: 'utf8' });
    return r.status === 0 ? (r.stdout.trim().split('\n').pop() || '').split(/\s+/)[1] : 'unknown';
  };
  const memGB = (os.totalmem() / 2 ** 30).toFixed(1);
  return { cpu, nproc, kernel, node: process.version, memGB, fsType };
}

function fmtS(ms) {
  return ms == null ? 'n/a' : (ms / 1000).toFixed(3);
}
function fmtMB(kb) {
  return kb == null ? 'n/a' : (kb / 1024).toFixed(1);
}
function fmtRatio(r) {
  return r == null ? 'n/a' : `${r.toFixed(2)}x`;
}

function main() {
  let o;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${e.message}\n${usage()}`);
    return 2;
  }
  if (o.help) {
    console.log(usage());
    return 0;
  }

  // linkcheck must be runnable: the default path is checked up front.
  const lcWords = o.linkcheck.trim().split(/\s+/);
  const scriptArg = lcWords[0] === 'node' ? lcWords.slice(1).find((w) => !w.startsWith('-')) : null;
  if (scriptArg && !fs.existsSync(path.resolve(REPO, scriptArg))) {
    console.error(`bench: ${scriptArg} not found (build first: npm run bench), or pass --linkcheck "CMD"`);
    return 1;
  }

  const timeBin = detectTime();
  const symlinksBin = onPath('symlinks');
  const findBin = onPath('find');
  if (!findBin) {
    console.error('bench: find not on PATH');
    return 1;
  }
  if (!timeBin) log('/usr/bin/time (GNU) not found: peak RSS will be n/a');
  if (!symlinksBin) log('symlinks not on PATH: skipping the symlinks peers (apt-get install symlinks)');

  fs.mkdirSync(o.work, { recursive: true });
  const rssFile = path.join(o.work, `.rss-${process.pid}`);
  const machine = machineInfo();
  const started = new Date();
  const loadAtStart = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const lc = o.linkcheck;
  const failures = [];
  const sections = [];
  const commandLines = new Map(); // id -> template
  const coolDown = () => {
    const wait = lastDeleteAt + o.cooldownMs - Date.now();
    if (wait > 0) {
      log(`waiting ${(wait / 1000).toFixed(0)}s for recently freed inodes to age (see --cooldown)`);
      sleep(wait);
    }
  };

  // Phase 1: every tree first (deletes deferred), then the measurements.
  const stale = path.join(o.work, `stale-${process.pid}`);
  const trees = [];
  for (const entries of o.sizes) {
    const label = sizeLabel(entries);
    const sizeDir = path.join(o.work, label);
    try {
      trees.push({ entries, label, sizeDir, ...ensureTree(sizeDir, entries, o.seed, o.linkRatio, stale) });
    } catch (e) {
      console.error(`bench: could not set up the ${label} tree: ${e.message}`);
      return 1;
    }
  }
  // The start-up row's tree: the 30k tree (generated here when --sizes leaves it out), copied
  // and made clean, so --quiet checks a healthy deploy.
  let startupTree = null;
  if (!o.skipStartup) {
    const sizeDir = path.join(o.work, sizeLabel(STARTUP_ENTRIES));
    try {
      const t = trees.find((x) => x.sizeDir === sizeDir) ?? ensureTree(sizeDir, STARTUP_ENTRIES, o.seed, o.linkRatio, stale);
      if (!trees.some((x) => x.sizeDir === sizeDir)) startupTree = { sizeDir };
      const clean = path.join(o.work, 'startup-clean');
      log(`making a clean copy of the ${sizeLabel(STARTUP_ENTRIES)} tree in ${clean}`);
      const replaced = cleanTree(t.tree, path.join(clean, 'tree'), lc);
      startupTree = { ...startupTree, clean, tree: path.join(clean, 'tree'), replaced, stats: t.stats };
    } catch (e) {
      console.error(`bench: could not set up the start-up tree: ${e.message}`);
      return 1;
    }
  }
  if (fs.existsSync(stale)) {
    log('removing stale trees');
    rmrf(stale);
  }

  for (const { entries, label, sizeDir, tree, stats } of trees) {
    const T = sq(tree);
    const audit = [
      { id: 'find', name: 'find -type l -printf', cmd: `find ${T} -type l -printf '%p -> %l\\n' > /dev/null`, baseline: true },
      // Node's floor: the same listing and readlinks as find, the fastest way Node has, nothing else.
      { id: 'node-floor', name: 'node walk floor (bench/walk-floor.js)', cmd: `node ${sq(path.join(HERE, 'walk-floor.js'))} ${T} > /dev/null` },
      { id: 'ndjson', name: 'linkcheck --format ndjson', cmd: `${lc} ${T} --root ${T} --format ndjson --fail-on never > /dev/null`, lc: true },
      { id: 'json', name: 'linkcheck --format json', cmd: `${lc} ${T} --root ${T} --format json --fail-on never > /dev/null`, lc: true },
    ];
    if (symlinksBin) audit.push({ id: 'symlinks-rv', name: 'symlinks -rv', cmd: `symlinks -rv ${T} > /dev/null` });
    // fix commands run on a fresh `cp -a` copy that sits at the tree's own path
    // (the original is renamed aside meanwhile), so host-prefixed absolute links
    // in the copy point into the copy, as they would on the real host.
    const fix = [];
    if (!o.skipFix) {
      fix.push({ id: 'fix', name: 'linkcheck --fix', cmd: `${lc} ${T} --root ${T} --fix --quiet --fail-on never > /dev/null`, lc: true });
      if (symlinksBin) fix.push({ id: 'symlinks-rc', name: 'symlinks -rc', cmd: `symlinks -rc ${T} > /dev/null`, fixBaseline: true });
    }
    const all = [...audit, ...fix];
    for (const c of all) {
      c.runs = [];
      commandLines.set(c.id, c.cmd.split(tree).join('TREE').split(HERE + '/').join('bench/'));
    }

    log(`${label}: warming the cache`);
    spawnSync('sh', ['-c', `find ${T} > /dev/null`], { stdio: 'ignore' });

    const pristine = path.join(sizeDir, 'tree.pristine');
    const trash = path.join(sizeDir, 'trash');
    let trashN = 0;
    // Park used fix copies until the end of the size when the disk has room for
    // all of them; otherwise delete each one (fix timings get noisier then).
    const nCopies = o.runs * fix.length;
    const parkCopies = nCopies > 0 && roomFor(sizeDir, nCopies, stats.entries, treeBytes(tree, stats.entries));
    if (nCopies > 0 && !parkCopies) log(`${label}: not enough free inodes/space to keep ${nCopies} copies; deleting each after use`);
    const record = (c, r, round) => {
      c.runs.push(r);
      if (r.timedOut) {
        c.skip = true; // don't sit through the same hang every round
        log(`${label} ${c.id}: timed out after ${o.timeoutS}s; skipping it for the remaining rounds`);
      }
      const bad = c.lc && isBad(r);
      if (bad) {
        failures.push({ size: label, round, id: c.id, status: r.status, signal: r.signal, crashed: r.crashed, timedOut: r.timedOut, stderr: r.stderr });
        log(`FAIL ${label} ${c.id}: exit ${r.status ?? '-'} ${r.signal ?? ''}${r.crashed && !r.timedOut ? ' (crashed)' : ''}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
      } else if (c.lc && r.status === 1) {
        log(`note: ${c.id} exited 1 despite --fail-on never`);
      }
      log(`${label} round ${round + 1}/${o.runs} ${c.id.padEnd(11)} ${fmtS(r.ms)}s  rss ${fmtMB(r.rssKB)} MB  exit ${r.status ?? r.signal}`);
    };

    for (let round = 0; round < o.runs; round++) {
      // rotate the order each round so drift hits every command alike
      const order = audit.map((_, i) => audit[(i + round) % audit.length]);
      for (const c of order) if (!c.skip) record(c, timeCmd(c.cmd, timeBin, rssFile, o.timeoutS), round);

      if (fix.length) {
        const forder = fix.map((_, i) => fix[(i + round) % fix.length]);
        fs.renameSync(tree, pristine);
        try {
          for (const c of forder) {
            if (c.skip) continue;
            sh(`cp -a ${sq(pristine)} ${T}`);
            coolDown();
            record(c, timeCmd(c.cmd, timeBin, rssFile, o.timeoutS), round);
            if (parkCopies) {
              // deleting now would slow the next copy's inode allocations; park it
              fs.mkdirSync(trash, { recursive: true });
              fs.renameSync(tree, path.join(trash, String(trashN++)));
            } else {
              rmrf(tree, { cool: false });
            }
          }
        } finally {
          if (fs.existsSync(tree)) {
            fs.mkdirSync(trash, { recursive: true });
            fs.renameSync(tree, path.join(trash, String(trashN++)));
          }
          fs.renameSync(pristine, tree);
        }
      }
    }

    if (fs.existsSync(trash)) {
      log(`${label}: removing fix copies`);
      rmrf(trash);
    }

    // --- summarize
    const base = audit.find((c) => c.baseline);
    const floor = audit.find((c) => c.id === 'node-floor');
    const peer = audit.find((c) => c.id === 'symlinks-rv');
    const fixBase = fix.find((c) => c.fixBaseline);
    const med = (c) => median(c.runs.map((r) => r.ms));
    const over = (m, ref) => (ref && m != null && med(ref) ? m / med(ref) : null);
    const rows = [];
    for (const c of all) {
      const m = med(c);
      const rss = median(c.runs.map((r) => r.rssKB));
      const isFix = fix.includes(c);
      const ratio = over(m, isFix ? fixBase : base);
      const toPeer = over(m, isFix ? fixBase : peer);
      const failed = c.runs.filter((r) => c.lc && isBad(r)).length;
      const targets = [];
      const check = (what, r, t) => targets.push(`${what}<=${t}x ${r == null ? 'n/a' : r <= t ? 'ok' : 'MISS'}`);
      if (c.id === 'ndjson' && TARGETS.ndjsonVsSymlinks[entries] != null) check('symlinks ', toPeer, TARGETS.ndjsonVsSymlinks[entries]);
      if (c.id === 'ndjson' && TARGETS.ndjsonVsFind[entries] != null) check('find ', ratio, TARGETS.ndjsonVsFind[entries]);
      if (c.id === 'ndjson' && TARGETS.ndjsonRssMB[entries] != null) {
        const t = TARGETS.ndjsonRssMB[entries];
        targets.push(`<=${t} MB ${rss == null ? 'n/a' : rss / 1024 <= t ? 'ok' : 'MISS'}`);
      }
      if (c.id === 'fix' && TARGETS.fixRatio[entries] != null) check('symlinks -rc ', toPeer, TARGETS.fixRatio[entries]);
      if (failed) targets.push(`${failed} FAILED`);
      rows.push({
        size: label,
        cmd: c.name,
        median: fmtS(m),
        min: fmtS(minOf(c.runs.map((r) => r.ms))),
        rss: fmtMB(rss),
        // audit rows against find, Node's floor and symlinks -rv; fix rows against symlinks -rc only
        find: isFix ? '' : fmtRatio(ratio),
        floor: isFix ? '' : fmtRatio(over(m, floor)),
        peer: fmtRatio(toPeer),
        target: targets.join(', '),
      });
    }
    sections.push({ label, entries, stats, rows, tree });
  }
  const startup = startupTree ? measureStartup(o, startupTree.tree, timeBin, rssFile, failures) : null;
  fs.rmSync(rssFile, { force: true });
  if (startupTree) rmrf(startupTree.clean);
  if (!o.keep) {
    log('removing the trees (--keep keeps them for the next run)');
    for (const t of trees) rmrf(t.sizeDir);
    if (startupTree?.sizeDir) rmrf(startupTree.sizeDir);
  }

  // ---------------------------------------------------------------- report
  const header = '| size | command | median s | min s | peak RSS MB (median) | / find | / node floor | / symlinks | target |';
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---|';
  const table = [header, sep];
  for (const s of sections) for (const r of s.rows) {
    table.push(`| ${r.size} | ${r.cmd} | ${r.median} | ${r.min} | ${r.rss} | ${r.find} | ${r.floor} | ${r.peer} | ${r.target} |`);
  }
  if (startup) {
    table.push('', '| start-up | command | median s | min s | peak RSS MB (median) | ratio | vs | target |', '|---|---|---:|---:|---:|---:|---|---|');
    for (const r of startup.rows) table.push(`| ${r.size} | ${r.cmd} | ${r.median} | ${r.min} | ${r.rss} | ${r.ratio} | ${r.vs} | ${r.target} |`);
  }
  const tableText = table.join('\n');
  console.log(tableText);
  if (failures.length) console.log(`\n${failures.length} linkcheck run(s) FAILED (exit status not 0/1, or crashed)`);

  const md = [];
  md.push('# linkcheck benchmark results', '');
  md.push(`- date: ${started.toISOString()}`);
  md.push(`- machine: ${machine.nproc} CPUs (nproc), ${machine.cpu}, ${machine.memGB} GiB RAM, ${machine.kernel}`);
  md.push(`- node: ${machine.node}; load average at start: ${loadAtStart}`);
  md.push(`- work dir: ${o.work} (${machine.fsType(o.work)})`);
  md.push(`- runs: ${o.runs} per command, interleaved per round (order rotated each round); warm cache (one untimed \`find\` first)`);
  md.push(`- wall time: hrtime around spawnSync of \`sh -c CMD\`; peak RSS: ${timeBin ? '`/usr/bin/time -f %M` (max RSS of the command)' : 'n/a (/usr/bin/time not found)'}`);
  md.push(`- trees: bench/gen-tree.js v${GENERATOR_VERSION}, seed ${o.seed}, link ratio ${o.linkRatio}`);
  for (const s of sections) {
    md.push(`  - ${s.label}: ${s.stats.entries} entries (dirs ${s.stats.dirs}, files ${s.stats.files}, links ${s.stats.links}) at ${s.tree}`);
  }
  md.push(`- peers: symlinks ${symlinksBin ? 'yes' : 'not installed'}; fix runs ${o.skipFix ? 'skipped' : 'on a fresh `cp -a` copy per run (copy not timed)'}`);
  if (startup) md.push(`- start-up: ${o.startupRuns} interleaved rounds (order rotated); the clean tree is the ${sizeLabel(STARTUP_ENTRIES)} tree with its ${startupTree.replaced} problem links replaced by clean relative ones (bench/clean-tree.js)`);
  md.push('', tableText, '');
  md.push('Ratios are of medians: audit commands against `find`, Node\'s floor (bench/walk-floor.js) and `symlinks -rv`; `linkcheck --fix` against `symlinks -rc`; start-up rows against `node -e 0`.', '');
  md.push('## Commands', '', 'TREE is the generated tree (for fix runs: a fresh `cp -a` copy at the same path).', '', '```sh');
  for (const [id, cmd] of commandLines) md.push(`# ${id}`, cmd);
  if (startup) for (const c of startup.commands) md.push(`# ${c.id}`, c.cmd.split(startupTree.tree).join('CLEAN30K'));
  md.push('```', '');
  if (failures.length) {
    md.push('## Failures', '');
    for (const f of failures) {
      md.push(`- ${f.size} round ${f.round + 1} ${f.id}: exit ${f.status ?? '-'} ${f.signal ?? ''}${f.crashed && !f.timedOut ? ' (crashed)' : ''}`, '', '```', f.stderr.trim().slice(-1500), '```', '');
    }
  }
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, md.join('\n'));
  log(`wrote ${path.relative(process.cwd(), o.out) || o.out}`);

  return failures.length ? 1 : 0;
}

/**
 * Start-up: `node -e 0`, `linkcheck --version` and a clean tree's `--quiet` check, interleaved
 * (order rotated each round) so the load of a shared machine falls on all three alike. These
 * runs are short, so they take more rounds than the audits.
 */
function measureStartup(o, cleanTreePath, timeBin, rssFile, failures) {
  const T = sq(cleanTreePath);
  const commands = [
    { id: 'node-e-0', name: 'node -e 0', cmd: 'node -e 0' },
    { id: 'version', name: 'linkcheck --version', cmd: `${o.linkcheck} --version`, lc: true },
    { id: 'quiet-clean', name: `linkcheck --quiet (clean ${sizeLabel(STARTUP_ENTRIES)} tree)`, cmd: `${o.linkcheck} ${T} --root ${T} --quiet`, lc: true },
  ];
  for (const c of commands) c.runs = [];
  spawnSync('sh', ['-c', `find ${T} > /dev/null`], { stdio: 'ignore' });
  for (let round = 0; round < o.startupRuns; round++) {
    for (let i = 0; i < commands.length; i++) {
      const c = commands[(i + round) % commands.length];
      const r = timeCmd(c.cmd, timeBin, rssFile, o.timeoutS);
      c.runs.push(r);
      // a clean tree must pass: anything but 0 is a failure here
      if (c.lc && (r.crashed || r.status !== 0)) {
        failures.push({ size: 'start-up', round, id: c.id, status: r.status, signal: r.signal, crashed: r.crashed, timedOut: r.timedOut, stderr: r.stderr });
        log(`FAIL start-up ${c.id}: exit ${r.status ?? '-'} ${r.signal ?? ''}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}`);
      }
    }
  }
  const med = (c) => median(c.runs.map((r) => r.ms));
  const node = commands[0];
  const rows = commands.map((c) => {
    const m = med(c);
    const ratio = c === node ? 1 : m / med(node);
    const target =
      c.id === 'version' ? `<=${TARGETS.versionRatio}x ${ratio <= TARGETS.versionRatio ? 'ok' : 'MISS'}` : c.id === 'quiet-clean' ? `<=${TARGETS.quietCleanS} s ${m / 1000 <= TARGETS.quietCleanS ? 'ok' : 'MISS'}` : '';
    log(`start-up ${c.id.padEnd(11)} median ${fmtS(m)}s`);
    return { size: sizeLabel(STARTUP_ENTRIES), cmd: c.name, median: fmtS(m), min: fmtS(minOf(c.runs.map((r) => r.ms))), rss: fmtMB(median(c.runs.map((r) => r.rssKB))), ratio: fmtRatio(ratio), vs: 'node -e 0', target };
  });
  return { rows, commands };
}

process.exitCode = main();
