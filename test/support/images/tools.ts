/**
 * The container tools the image tests drive (Debian 12: umoci, skopeo, podman, debootstrap, GNU
 * tar), what is missing here, their versions, and running them. A missing tool skips a suite
 * outside CI and fails it under CI=true (test/support/integration.ts: toolGate, requireTool).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { oracleUnavailableReason } from '../../kernel/oracle.js';
import { isRoot } from '../disk.js';
import { missingCommand } from '../integration.js';

/** What a suite needs; each maps to one sentence when missing. */
export type Need = 'umoci' | 'skopeo' | 'podman' | 'podman-overlay' | 'tar' | 'debootstrap' | 'oracle' | 'root';

/** Why `needs` cannot all be met here (the first reason), or null. */
export function imageToolsMissing(needs: readonly Need[]): string | null {
  if (process.platform !== 'linux') return `container image tools need Linux, this is ${process.platform}`;
  for (const n of needs) {
    const why = missingOne(n);
    if (why !== null) return why;
  }
  return null;
}

function missingOne(n: Need): string | null {
  switch (n) {
    case 'root':
      return isRoot() ? null : 'not root: podman storage of its own, overlay mounts and debootstrap need root';
    case 'oracle':
      return oracleUnavailableReason();
    case 'podman':
      return missingCommand(['podman']);
    case 'podman-overlay':
      return missingCommand(['podman']) ?? (fs.readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => /\toverlay$/.test(l)) ? null : 'the kernel has no overlay file system (/proc/filesystems)');
    default:
      return missingCommand([n]);
  }
}

/** The first line `cmd --version` prints ('' when it does not run): recorded in cache keys and logs. */
export function toolVersion(cmd: string): string {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  return r.error ? '' : `${r.stdout}${r.stderr}`.trim().split('\n')[0]!.trim();
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  line: string;
}

/** Runs `cmd args` (no shell); throws only when it could not be started. */
export function tool(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: opts.timeout ?? 600_000, ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}) });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, line: [cmd, ...args].join(' ') };
}

/** Runs `cmd args` and throws with its output unless it exits 0. */
export function mustRun(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): ToolRun {
  const r = tool(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${r.line} exited ${String(r.code)}:\n${r.stdout}${r.stderr}`.slice(0, 4000));
  return r;
}
