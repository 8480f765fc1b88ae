/**
 * Shared by the integration tests (systemd units, cron line, Capistrano tasks, Prometheus, the
 * package): which tools are missing (skipped outside CI, failed in it), a `linkcheck` command
 * that runs the built CLI, and what this build accepts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { APP, JAIL, capistrano } from '../../fixtures/capistrano.js';
import { removeDir, sleep, tempDir } from './disk.js';
import { BIN } from './repo.js';
import { materialiseTree } from './tree.js';

/** CI must prove the integrations: there a missing tool fails the test instead of skipping it. */
export const IN_CI = process.env.CI === 'true';

/** Why `cmd args` cannot run here, or null when it can. */
export function missingTool(cmd: string, args: string[] = ['--version']): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${cmd} is not installed (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  return null;
}

/**
 * Whether a suite that needs a tool should be skipped: outside CI it may skip itself (with the
 * reason in its name); under CI=true it runs, and `requireTool` in its beforeAll fails it.
 */
export function toolGate(missing: string | null): { skip: boolean; label: string } {
  return { skip: missing !== null && !IN_CI, label: missing === null ? '' : ` (${IN_CI ? 'FAILS in CI' : 'skipped'}: ${missing})` };
}

/** Fails the suite when its tool is missing (reached only in CI, or when not skipped). */
export function requireTool(missing: string | null): void {
  if (missing !== null) throw new Error(`${missing}; .ci/run installs it`);
}

/** A `bin` directory under `work` with a `linkcheck` that runs this checkout's CLI, for commands copied from docs and units. */
export function shimDir(work: string): string {
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'linkcheck'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return bin;
}

/** The absolute path of `cmd` on PATH, or null. */
export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : null;
}

/** The first missing command of `cmds` as a reason, or null when all are there. */
export function missingCommand(cmds: string[]): string | null {
  for (const c of cmds) if (!(c.startsWith('/') ? fs.existsSync(c) : which(c))) return `no ${c} (.ci/run installs it)`;
  return null;
}

/**
 * Writes an executable `linkcheck` into `dir` that runs the built CLI with this node, as an
 * installed `linkcheck` on a server's PATH would. Returns its path. Unless `lockDir` is null, it
 * locks in `<dir>/locks` (LINKCHECK_LOCK_DIR), not in the machine's /run/linkcheck: tests run as
 * root side by side and must not share or leave locks there.
 */
export function linkcheckCommand(dir: string, lockDir: string | null = `${dir}/locks`): string {
  const file = `${dir}/linkcheck`;
  fs.mkdirSync(dir, { recursive: true });
  let env = '';
  if (lockDir !== null) {
    fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    env = `LINKCHECK_LOCK_DIR='${lockDir}' `;
  }
  fs.writeFileSync(file, `#!/bin/sh\n${env}exec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
  return file;
}

/**
 * Whether this build of the CLI knows `opt` (e.g. `--wait`, which the lock brings). The
 * integrations name it; on a build without it the tests drop it from the command they run and
 * say so in their title, rather than fail on an option another change adds.
 */
export function cliKnows(opt: string): boolean {
  const dir = tempDir('probe');
  try {
    const r = spawnSync(process.execPath, [BIN, dir, '--root', dir, opt, '0'], { encoding: 'utf8' });
    return !/unknown option/.test(r.stderr);
  } finally {
    removeDir(dir);
  }
}

/** Removes `opt` and its value from a command line's words. */
export function dropOption(words: string[], opt: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === opt) i++;
    else out.push(words[i]!);
  }
  return out;
}

/** One change as a --fix journal records it (the fields these tests read). */
export interface JournalChange {
  path: string;
  old: string;
  new: string;
}

/** The change entries of a --fix journal, in order; none when it does not exist yet. */
export function journalChanges(file: string): JournalChange[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Partial<JournalChange>)
    .filter((e): e is JournalChange => typeof e.path === 'string' && typeof e.old === 'string' && typeof e.new === 'string');
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `cmd` (no shell) and returns its outcome; throws only when it could not be started. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, out: `${r.stdout}${r.stderr}` };
}

/**
 * The Capistrano story (fixtures/capistrano.ts) on disk, for running an integration's command on
 * it: `local` maps the production paths the contrib files name (/srv/lighty..., /var/lib/linkcheck)
 * (and /usr/local/bin) to this copy, and `bin` holds a `linkcheck` that runs the built CLI.
 */
export interface StoryCopy {
  base: string;
  /** The deploy tree (<base>/srv/lighty/var/www/rails). */
  tree: string;
  /** Where /var/lib/linkcheck went. */
  state: string;
  /** Directory holding the `linkcheck` command. */
  bin: string;
  local(text: string): string;
  cleanup(): void;
}

export function storyCopy(prefix: string): StoryCopy {
  const base = tempDir(prefix);
  materialiseTree(base, capistrano);
  const state = `${base}/var/lib/linkcheck`;
  fs.mkdirSync(state, { recursive: true, mode: 0o700 });
  const bin = `${base}/usr/local/bin`;
  linkcheckCommand(bin);
  return {
    base,
    tree: `${base}/${JAIL}${APP}`,
    state,
    bin,
    local: (text) =>
      text
        .split('/srv/lighty')
        .join(`${base}/srv/lighty`)
        .split('/var/lib/linkcheck')
        .join(state)
        .split('/usr/local/bin')
        .join(bin),
    cleanup: () => removeDir(base),
  };
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects when `alive()` says the server (`what`) died, or after `ms`. */
export async function waitForPort(port: number, ms: number, alive: () => boolean, what = 'the server'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error(`${what} exited`);
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(50);
  }
}
