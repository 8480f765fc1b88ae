/**
 * Running the CLI from a test, two ways with two names:
 * - `runCliInProcess`: calls the CLI's `run` in this process (async), against any FsPort (memfs
 *   or the disk), with a fixed environment; nothing is built or spawned.
 * - `spawnCli`: runs the built bin/linkcheck.js as a child process (sync), as a user would; needs
 *   `ensureBuilt()` first. `spawnCliAsync` does the same without blocking the event loop, and
 *   `spawnCliTimed` under a time limit, with the report as bytes (the stress tests).
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { run, type CliIo } from '../../src/cli/program.js';
import type { FsPort } from '../../src/core/fs-port.js';
import { BIN, REPO } from './repo.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process against a sandbox's file system. */
export async function runCliInProcess(argv: string[], opts: { fs?: FsPort; env?: Record<string, string>; isTTY?: boolean; cwd?: string } = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: opts.env ?? {},
    isTTY: opts.isTTY ?? false,
    cwd: opts.cwd ?? '/',
    // A config file the machine happens to have must not change what the tests see.
    defaultConfig: '/nonexistent/linkcheck/config.json',
    ...(opts.fs ? { fs: opts.fs } : {}),
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

export interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI synchronously (args as UTF-8 text; cwd the checkout unless given). `limitKiB`
 * runs it under a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so a file write past it fails
 * with EFBIG, as a full disk fails one.
 */
export function spawnCli(args: string[], options: { cwd?: string; env?: Record<string, string>; limitKiB?: number } = {}): SpawnResult {
  const argv = [process.execPath, BIN, ...args];
  const limited = options.limitKiB !== undefined;
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r: SpawnSyncReturns<string> = spawnSync(limited ? 'bash' : argv[0]!, limited ? ['-c', `trap '' XFSZ; ulimit -f ${options.limitKiB}; exec ${quoted}`] : argv.slice(1), {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 1 << 30,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI without blocking the test's event loop. */
export function spawnCliAsync(args: string[]): Promise<SpawnResult> {
  return spawnNodeAsync([BIN, ...args]);
}

/** Runs node with `args` (a script and its arguments) and collects what it prints. */
export function spawnNodeAsync(args: string[]): Promise<SpawnResult> {
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

export interface TimedRun {
  label: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** Runs the built CLI once, killed after `timeoutMs` (a hang shows as SIGKILL); stdout as bytes. */
export function spawnCliTimed(args: readonly string[], timeoutMs: number, cwd = REPO): TimedRun {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 1 << 30,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { label: `linkcheck ${args.join(' ')}`, status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString('utf8'), ms: Date.now() - t0 };
}
