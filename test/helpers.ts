import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFsFromVolume, Volume } from 'memfs';
import { materialise, type Tree } from '../fixtures/tree.js';
import { type FsPort, memFsPort, nodeFsPort, type NodeLikeFs } from '../src/fs-port.js';
import { run, type CliIo } from '../src/cli.js';

/** A file system with `tree` under `base`: memfs, or a real temp dir (realpath'd: it may sit under a link). */
export interface Sandbox {
  fs: FsPort;
  base: string;
  kind: 'memfs' | 'disk';
  cleanup(): void;
}

export function memfsSandbox(tree: Tree, base = '/base'): Sandbox {
  const vfs = createFsFromVolume(new Volume());
  vfs.mkdirSync(base, { recursive: true });
  materialise(vfs as unknown as Parameters<typeof materialise>[0], base, tree);
  return { fs: memFsPort(vfs as unknown as NodeLikeFs), base, kind: 'memfs', cleanup() {} };
}

export function diskSandbox(tree: Tree): Sandbox {
  const base = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-test-')));
  materialise(nodeFs, base, tree);
  return { fs: nodeFsPort(), base, kind: 'disk', cleanup: () => nodeFs.rmSync(base, { recursive: true, force: true }) };
}

/** Both sandboxes, for tests that must agree on memfs and the real disk. */
export const sandboxes: Array<[string, (tree: Tree) => Sandbox]> = [
  ['memfs', (t) => memfsSandbox(t)],
  ['disk', (t) => diskSandbox(t)],
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process against a sandbox's file system. */
export async function cli(argv: string[], opts: { fs?: FsPort; env?: Record<string, string>; isTTY?: boolean; cwd?: string } = {}): Promise<CliResult> {
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
