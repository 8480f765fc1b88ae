/**
 * Shared helpers for the fixer's system tests: temp dirs, the built CLI, tree walks and
 * snapshots. Everything here works on the real disk.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const BIN = `${REPO}/bin/linkcheck.js`;
export const TEMP_RE = /^\.linkcheck-tmp\./;

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** A fresh directory under the real path of os.tmpdir(). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), `linkcheck-${prefix}-`));
}

export function removeDir(dir: string): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** The module the CLI entry imports (dist layout moves: read it from bin/linkcheck.js). */
function cliModule(): string {
  const m = /from\s+'([^']+)'/.exec(fs.readFileSync(BIN, 'utf8'));
  if (!m) throw new Error(`cannot find the import in ${BIN}`);
  return path.resolve(path.dirname(BIN), m[1]!);
}

/** The built library entry (package.json "main"), for child processes that use the library. */
export function libModule(): string {
  const pkg = JSON.parse(fs.readFileSync(`${REPO}/package.json`, 'utf8')) as { main: string };
  return path.resolve(REPO, pkg.main);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * The CLI runs from dist/: build it when it is missing or older than src/. Test files run in
 * parallel processes, so the build is serialised with a lock directory.
 */
export function ensureBuilt(): void {
  const fresh = (): boolean => {
    const mod = cliModule();
    return fs.existsSync(mod) && fs.existsSync(libModule()) && fs.statSync(mod).mtimeMs >= newestMtime(`${REPO}/src`);
  };
  if (fresh()) return;
  const lock = `${os.tmpdir()}/linkcheck-test-build.lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for 2 minutes: remove it if stale`);
      spawnSync('sleep', ['0.2']);
      if (fresh()) return;
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the build (npm run build) failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    fs.rmdirSync(lock);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI synchronously. `limitKiB` runs it under a file-size limit (RLIMIT_FSIZE,
 * SIGXFSZ ignored), so a file write past it fails with EFBIG, as a full disk fails one.
 */
export function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; limitKiB?: number } = {}): CliResult {
  const argv = [process.execPath, BIN, ...args];
  const limited = options.limitKiB !== undefined;
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r: SpawnSyncReturns<string> = spawnSync(limited ? 'bash' : argv[0]!, limited ? ['-c', `trap '' XFSZ; ulimit -f ${options.limitKiB}; exec ${quoted}`] : argv.slice(1), {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI without blocking the test's event loop. */
export function cliAsync(args: string[]): Promise<CliResult> {
  return nodeAsync([BIN, ...args]);
}

/** Runs node with `args` (a script and its arguments) and collects what it prints. */
export function nodeAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
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
