/**
 * A tree on a file system a test can hand to linkcheck: memfs, or a real temp dir (realpath'd:
 * it may sit under a link). Tests that must agree on both run over `sandboxes`.
 */
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFsFromVolume, Volume } from 'memfs';
import { type FsPort, memFsPort, nodeFsPort, type NodeLikeFs } from '../../src/core/fs-port.js';
import { materialiseTree, type Tree, type TreeFs } from './tree.js';

export interface Sandbox {
  fs: FsPort;
  base: string;
  kind: 'memfs' | 'disk';
  cleanup(): void;
}

export function memfsSandbox(tree: Tree, base = '/base'): Sandbox {
  const vfs = createFsFromVolume(new Volume());
  vfs.mkdirSync(base, { recursive: true });
  materialiseTree(base, tree, vfs as unknown as TreeFs);
  return { fs: memFsPort(vfs as unknown as NodeLikeFs), base, kind: 'memfs', cleanup() {} };
}

export function diskSandbox(tree: Tree): Sandbox {
  const base = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-test-')));
  materialiseTree(base, tree);
  return { fs: nodeFsPort(), base, kind: 'disk', cleanup: () => nodeFs.rmSync(base, { recursive: true, force: true }) };
}

/** Both sandboxes, for tests that must agree on memfs and the real disk. */
export const sandboxes: Array<[string, (tree: Tree) => Sandbox]> = [
  ['memfs', (t) => memfsSandbox(t)],
  ['disk', (t) => diskSandbox(t)],
];
