// @ts-check
// Small helpers of the bench runner: quoting, logging, statistics, formatting, deleting trees.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/ */
export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(HERE, '..');

/** @param {unknown} s a word quoted for sh */
export const sq = (s) => "'" + String(s).replace(/'/g, "'\\''") + "'";
/** @param {unknown[]} a */
export const log = (...a) => console.error('[bench]', ...a);
/** @param {number} ms */
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** @param {unknown} e */
export const errorText = (e) => (e instanceof Error ? e.message : String(e));

/** @param {Array<number | null | undefined>} xs @returns {number[]} */
const finite = (xs) => /** @type {number[]} */ (xs.filter((x) => x != null && Number.isFinite(x)));

/** @param {Array<number | null | undefined>} xs @returns {number | null} */
export function median(xs) {
  const a = finite(xs).sort((p, q) => p - q);
  if (a.length === 0) return null;
  const m = a.length >> 1;
  return a.length % 2 ? /** @type {number} */ (a[m]) : (/** @type {number} */ (a[m - 1]) + /** @type {number} */ (a[m])) / 2;
}

/** @param {Array<number | null | undefined>} xs @returns {number | null} */
export function minOf(xs) {
  const a = finite(xs);
  return a.length ? Math.min(...a) : null;
}

/** @param {number} n */
export function sizeLabel(n) {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}m`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** @param {number | null} ms */
export const fmtS = (ms) => (ms == null ? 'n/a' : (ms / 1000).toFixed(3));
/** @param {number | null} kb */
export const fmtMB = (kb) => (kb == null ? 'n/a' : (kb / 1024).toFixed(1));
/** @param {number | null} r */
export const fmtRatio = (r) => (r == null ? 'n/a' : `${r.toFixed(2)}x`);

/** @param {string} bin @returns {string | null} */
export function onPath(bin) {
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

/**
 * `rm -rf` (much faster than fs.rmSync on big trees).
 * @param {string} p @param {{ cool?: boolean }} [opts] cool: later fix runs wait for the freed inodes to age
 */
export function rmrf(p, { cool = true } = {}) {
  if (!fs.existsSync(p)) return;
  const r = spawnSync('rm', ['-rf', '--', p], { stdio: 'inherit' });
  if (cool) lastDeleteAt = Date.now();
  if (r.status !== 0) throw new Error(`rm -rf ${p} failed`);
}

/** Waits until our last delete is `cooldownMs` old. @param {number} cooldownMs */
export function coolDown(cooldownMs) {
  const wait = lastDeleteAt + cooldownMs - Date.now();
  if (wait > 0) {
    log(`waiting ${(wait / 1000).toFixed(0)}s for recently freed inodes to age (see --cooldown)`);
    sleep(wait);
  }
}

/** @param {string} cmd */
export function sh(cmd) {
  const r = spawnSync('sh', ['-c', cmd], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-500)}`);
}
