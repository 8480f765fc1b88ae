// @ts-check
// Times one command: wall time by hrtime around spawnSync, peak RSS by GNU time, a time limit
// by coreutils `timeout`, and whether the run crashed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, onPath } from './util.js';

const TIMEOUT_BIN = onPath('timeout');

/**
 * One timed run.
 * @typedef {object} Run
 * @property {number} ms @property {number | null} rssKB
 * @property {number | null} status @property {string | null} signal
 * @property {boolean} timedOut @property {string} stderr its last 2000 characters
 * @property {boolean} crashed
 */
/** Where timeCmd measures: GNU time (or null), its output file, the per-command limit. */
/** @typedef {{ timeBin: string | null, rssFile: string, timeoutS: number }} Timer */

/** GNU time, if present and it understands -f/-o. @returns {string | null} */
export function detectTime() {
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

/** @param {string} text @returns {number | null} */
function parseRss(text) {
  const lines = String(text).trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  return /^\d+$/.test(last) ? Number(last) : null;
}

/**
 * Runs `cmd` through `sh -c`, timed with hrtime around spawnSync, peak RSS via
 * /usr/bin/time -f %M when available.
 * @param {string} cmd @param {Timer} timer
 * @returns {Run}
 */
export function timeCmd(cmd, { timeBin, rssFile, timeoutS }) {
  // coreutils `timeout` kills the whole process group (sh and what it started)
  let argv = ['sh', '-c', cmd];
  if (timeoutS > 0 && TIMEOUT_BIN) argv = [TIMEOUT_BIN, '-k', '10', String(timeoutS), ...argv];
  if (timeBin) {
    fs.rmSync(rssFile, { force: true });
    argv = [timeBin, '-f', '%M', '-o', rssFile, ...argv];
  }
  const [file, ...args] = /** @type {[string, ...string[]]} */ (argv);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
    // last resort when `timeout` is missing (can leave grandchildren behind)
    ...(timeoutS > 0 && !TIMEOUT_BIN ? { timeout: timeoutS * 1000 } : {}),
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const timedOut = timeoutS > 0 && ms >= timeoutS * 1000 && (r.status === 124 || r.status === 137 || r.signal != null);
  const { rssKB, signal } = readTime(timeBin ? rssFile : null, r.signal);
  let sig = signal;
  const error = /** @type {NodeJS.ErrnoException | undefined} */ (r.error);
  if (error) sig = error.code === 'ETIMEDOUT' ? 'timed out' : error.message;
  if (timedOut) sig = `timed out after ${timeoutS}s`;
  // a shell reports a child killed by signal N as 128+N
  if (r.status != null && r.status > 128 && !sig) sig = `signal ${r.status - 128}`;
  const stderr = String(r.stderr || '');
  return { ms, rssKB, status: r.status, signal: sig, timedOut, stderr: stderr.slice(-2000), crashed: looksLikeCrash(r.status, sig, stderr) };
}

/**
 * Peak RSS and a death by signal from GNU time's output file (none without one).
 * @param {string | null} rssFile @param {string | null} signal
 */
function readTime(rssFile, signal) {
  if (rssFile === null) return { rssKB: null, signal };
  let txt = '';
  try {
    txt = fs.readFileSync(rssFile, 'utf8');
  } catch {
    /* time itself died */
  }
  const m = /terminated by signal (\d+)/.exec(txt);
  return { rssKB: parseRss(txt), signal: m ? `signal ${m[1]}` : signal };
}

/**
 * Node exits 1 on an uncaught exception, the same status as "findings", so a
 * status-1 run counts as a crash when stderr carries Node's crash footer or a
 * stack trace.
 * @param {number | null} status @param {string | null} signal @param {string} stderr
 */
function looksLikeCrash(status, signal, stderr) {
  if (signal) return true;
  if (status === 1) return /^Node\.js v\d+/m.test(stderr) || /^\s+at .+:\d+:\d+\)?$/m.test(stderr);
  return false;
}

/** A linkcheck run that did not go as it should: crashed, or exit status other than 0/1. @param {Run} r */
export const isBad = (r) => r.crashed || (r.status !== 0 && r.status !== 1);
