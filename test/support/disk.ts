/**
 * Real-disk helpers: temp dirs, jails, a tree's links and temp names, snapshots of everything a
 * write would change, and running as another user.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureBuilt } from './build.js';
import { REPO } from './repo.js';

export const TEMP_RE = /^\.linkcheck-tmp\./;

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** A fresh directory under the real path of os.tmpdir(). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `linkcheck-${prefix}-`));
}

export function removeDir(dir: string): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Every symlink under `dir` (not following links), path -> text. */
export function links(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (e.isSymbolicLink()) out.set(p, fs.readlinkSync(p));
      else if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** Paths of every `.linkcheck-tmp.*` entry under `dir`. */
export function tempLinks(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = `${d}/${e.name}`;
      if (TEMP_RE.test(e.name)) out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Everything about the entries under `dir` (and `dir` itself) that a write would change: kind,
 * inode, mode, owner, size, mtime, ctime, link text or file content. `skip` leaves out subtrees.
 */
export function snapshot(dir: string, skip: (p: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const one = (p: string): void => {
    const s = fs.lstatSync(p, { bigint: true });
    let extra = '';
    if (s.isSymbolicLink()) extra = `-> ${fs.readlinkSync(p)}`;
    else if (s.isFile()) extra = `= ${fs.readFileSync(p, 'utf8')}`;
    out.set(p, `${s.mode.toString(8)} ${s.uid}:${s.gid} ino=${s.ino} size=${s.size} m=${s.mtimeNs} c=${s.ctimeNs} ${extra}`);
    if (s.isDirectory()) for (const name of fs.readdirSync(p).sort()) if (!skip(`${p}/${name}`)) one(`${p}/${name}`);
  };
  one(dir);
  return out;
}

/** Differences between two snapshots, as readable lines (empty when equal). */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, v] of before) {
    const w = after.get(p);
    if (w === undefined) out.push(`gone: ${p} (${v})`);
    else if (w !== v) out.push(`changed: ${p}\n  was ${v}\n  now ${w}`);
  }
  for (const [p, v] of after) if (!before.has(p)) out.push(`new: ${p} (${v})`);
  return out;
}

/** chown -R, not following links. */
export function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

/**
 * Options for a child process run as another (unprivileged) user. The test runner preloads its
 * own modules into children (NODE_OPTIONS, execArgv) from a checkout that user may not be able
 * to enter (a clone under /root or in a 0700 directory), so the child gets neither.
 */
export function asUser(uid: number, gid: number = uid): { uid: number; gid: number; execArgv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  return { uid, gid, execArgv: [], env };
}

let runnable: { dir: string; bin: string } | null = null;

/**
 * A copy of the built CLI (bin/, dist/src, package.json and the runtime dependencies) in a
 * directory every user can enter, for tests that run linkcheck as an unprivileged user: the
 * checkout itself may sit where that user cannot reach (under /root, or in a 0700 directory).
 * Made once per test file, removed at exit.
 */
export function runnableCopy(): { dir: string; bin: string } {
  if (runnable) return runnable;
  ensureBuilt();
  const dir = tempDir('runnable');
  fs.chmodSync(dir, 0o755);
  const copy = (from: string, to: string): void => fs.cpSync(from, to, { recursive: true, dereference: true });
  copy(`${REPO}/bin`, `${dir}/bin`);
  copy(`${REPO}/dist/src`, `${dir}/dist/src`);
  copy(`${REPO}/package.json`, `${dir}/package.json`);
  const pending = Object.keys((JSON.parse(fs.readFileSync(`${REPO}/package.json`, 'utf8')) as { dependencies?: object }).dependencies ?? {});
  const seen = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const from = `${REPO}/node_modules/${name}`;
    copy(from, `${dir}/node_modules/${name}`);
    const pkg = JSON.parse(fs.readFileSync(`${from}/package.json`, 'utf8')) as { dependencies?: object };
    pending.push(...Object.keys(pkg.dependencies ?? {}));
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  process.once('exit', () => removeDir(dir));
  runnable = { dir, bin: `${dir}/bin/linkcheck.js` };
  return runnable;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A jail (`R`) with an empty `R/data` and `R/app` under a fresh temp dir, and a lock directory of the tests' own. */
export function jail(prefix: string): { base: string; R: string; app: string; locks: string } {
  const base = tempDir(prefix);
  const R = `${base}/jail`;
  const locks = `${base}/locks`;
  fs.mkdirSync(locks, { mode: 0o755 });
  fs.mkdirSync(`${R}/data`, { recursive: true });
  fs.mkdirSync(`${R}/app`);
  return { base, R, app: `${R}/app`, locks };
}
