/**
 * Kernel oracle: asks the real Linux kernel how a symlink resolves, both as
 * seen from inside a chroot root (openat2 + RESOLVE_IN_ROOT) and from the host
 * (plain open). Used by tests to compare linkcheck's resolver with the kernel.
 *
 * All paths crossing this API are "byte strings": latin1-decoded strings where
 * each char is one byte of the real path (Buffer.from(s, 'latin1') gives the
 * bytes back), so non-UTF-8 names survive the round trip.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

type Status = 'ok' | 'dangling' | 'loop' | 'notdir' | 'denied' | 'error';
export interface KernelView {
  status: Status;
  errno: string | null;
  resolved: string | null;
}
export interface KernelAnswer {
  chroot: KernelView;
  host: KernelView;
}
/** Whose lookups the oracle makes (needs root): it opens the root first, then takes these for good. */
export interface OracleCredentials {
  uid: number;
  gid: number;
  /** Supplementary groups, exactly (none: an empty list). */
  groups: readonly number[];
}

// Beside this file, or beside its source when compiled elsewhere (the fuzzer: scripts/fuzz.ts).
const SOURCE = upwards(path.dirname(fileURLToPath(import.meta.url)), (d) => [path.join(d, 'oracle.c'), path.join(d, 'test', 'kernel', 'oracle.c')]);

/** The first existing path among those `candidates` names for a directory or one of its ancestors. */
function upwards(dir: string, candidates: (d: string) => string[]): string {
  for (let d = dir; ; d = path.dirname(d)) {
    const hit = candidates(d).find((p) => fs.existsSync(p));
    if (hit !== undefined) return hit;
    if (path.dirname(d) === d) return candidates(dir)[0]!;
  }
}
const STATUSES: ReadonlySet<string> = new Set(['ok', 'dangling', 'loop', 'notdir', 'denied', 'error']);

type Prepared = { binary: string } | { reason: string };
let prepared: Prepared | undefined;

function firstLine(s: string): string {
  return s.trim().split('\n').slice(0, 5).join(' | ');
}

/** Compile (once per process, cached on disk by source hash) and probe openat2. */
function prepare(): Prepared {
  if (prepared) return prepared;
  prepared = doPrepare();
  return prepared;
}

function doPrepare(): Prepared {
  if (process.platform !== 'linux') {
    return { reason: `The kernel oracle needs Linux (openat2), but this is ${process.platform}.` };
  }
  let source: Buffer;
  try {
    source = fs.readFileSync(SOURCE);
  } catch (e) {
    return { reason: `Cannot read the oracle source ${SOURCE}: ${(e as Error).message}.` };
  }
  const hash = createHash('sha256').update(source).update(process.arch).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'linkcheck-kernel-oracle');
  const binary = path.join(dir, `oracle-${hash}`);
  if (!isExecutable(binary)) {
    fs.mkdirSync(dir, { recursive: true });
    // Compile to a private name, then rename: concurrent workers may race here.
    const tmp = `${binary}.${process.pid}.${Date.now()}.tmp`;
    const cc = spawnSync('cc', ['-O2', '-o', tmp, SOURCE], { encoding: 'utf8' });
    if (cc.error) {
      const code = (cc.error as NodeJS.ErrnoException).code;
      return {
        reason:
          code === 'ENOENT'
            ? 'No C compiler (cc) on PATH to build the kernel oracle.'
            : `Could not run cc to build the kernel oracle: ${cc.error.message}.`,
      };
    }
    if (cc.status !== 0) {
      fs.rmSync(tmp, { force: true });
      return { reason: `cc failed to build the kernel oracle: ${firstLine(cc.stderr)}.` };
    }
    fs.renameSync(tmp, binary);
  }
  const probe = spawnSync(binary, ['--probe'], { encoding: 'utf8' });
  if (probe.error) return { reason: `Cannot run the kernel oracle: ${probe.error.message}.` };
  if (probe.status !== 0) {
    const errno = probe.stdout.trim() || `exit status ${String(probe.status)}`;
    return {
      reason:
        errno === 'ENOSYS'
          ? 'openat2 is not available here (ENOSYS): kernel older than 5.6 or blocked by seccomp.'
          : `openat2(RESOLVE_IN_ROOT) does not work here (${errno}${probe.stderr ? `: ${firstLine(probe.stderr)}` : ''}).`,
    };
  }
  return { binary };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** null when the oracle can run here; otherwise a sentence saying why not (no cc, not Linux, openat2 ENOSYS). */
export function oracleUnavailableReason(): string | null {
  const p = prepare();
  return 'reason' in p ? p.reason : null;
}

function parseView(status: string, errno: string, hex: string, line: string): KernelView {
  if (!STATUSES.has(status)) throw new Error(`kernel oracle: bad status in line ${JSON.stringify(line)}`);
  return {
    status: status as Status,
    errno: errno === '-' ? null : errno,
    resolved: hex === '-' ? null : Buffer.from(hex, 'hex').toString('latin1'),
  };
}

/**
 * Resolve each symlink (a host absolute byte-string path under `root`) with the
 * kernel, following it and all nested links like open() does.
 * `root` is the absolute real path of the chroot directory (may be "/").
 * Returned chroot-view paths are "/"-based inside the root; host-view paths are host paths.
 * With `as`, both views are that user's: the root is opened first (as a chrooted server holds
 * its root), then the oracle takes the user's groups, gid and uid, and resolves every path.
 */
export function kernelResolve(root: string, linkPaths: string[], as?: OracleCredentials): KernelAnswer[] {
  const p = prepare();
  if ('reason' in p) throw new Error(`kernel oracle unavailable: ${p.reason}`);
  if (root.includes('\0')) throw new Error('kernel oracle: root contains NUL');
  if (!root.startsWith('/')) throw new Error(`kernel oracle: root must be absolute, got ${JSON.stringify(root)}`);
  if (linkPaths.length === 0) return [];
  const parts: Buffer[] = [];
  for (const lp of linkPaths) {
    if (lp.includes('\0')) throw new Error(`kernel oracle: path contains NUL: ${JSON.stringify(lp)}`);
    parts.push(Buffer.from(lp, 'latin1'), Buffer.from([0]));
  }
  const input = Buffer.concat(parts);
  // Each record: two views, each at most ~2*PATH_MAX hex chars plus small fields.
  const maxBuffer = Math.max(64 * 1024 * 1024, linkPaths.length * (4 * 8192 + 128));
  // spawn encodes argv strings as UTF-8, so pass the root's raw bytes as hex.
  const rootHex = Buffer.from(root, 'latin1').toString('hex');
  const who = as === undefined ? [] : ['--as', `${as.uid}:${as.gid}:${as.groups.join(',')}`];
  const r = spawnSync(p.binary, [...who, '--root-hex', rootHex], { input, maxBuffer });
  if (r.error) throw new Error(`kernel oracle failed to run: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`kernel oracle exited with ${String(r.status ?? r.signal)}: ${r.stderr.toString('utf8').trim()}`);
  }
  const out = r.stdout.toString('latin1');
  const lines = out.split('\n');
  if (lines.pop() !== '') throw new Error('kernel oracle: output not newline-terminated');
  if (lines.length !== linkPaths.length) {
    throw new Error(`kernel oracle: expected ${linkPaths.length} records, got ${lines.length}`);
  }
  return lines.map((line) => {
    const f = line.split('\t');
    if (f.length !== 6) throw new Error(`kernel oracle: malformed line ${JSON.stringify(line)}`);
    const [cs, ce, ch, hs, he, hh] = f as [string, string, string, string, string, string];
    return { chroot: parseView(cs, ce, ch, line), host: parseView(hs, he, hh, line) };
  });
}
