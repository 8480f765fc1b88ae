import { toDisplay } from '../core/bytes.js';
import type { DirEntry, FsPort, Kind, LinkStat } from '../core/fs-port.js';
import { pathComponents, pathOfSteps, type TreeNode, walkTree, type WalkError } from './merged-tree.js';

/** Every entry of the image is on this one (synthetic) device. */
const DEV = 1n;

const WORDS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many symbolic links encountered',
  EINVAL: 'invalid argument',
  EROFS: 'read-only file system',
};

/** An error shaped like node:fs's (`code`, `syscall`, `path`), so callers treat both ports alike. */
function fsError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${WORDS[code] ?? code}, ${syscall} '${toDisplay(path)}'`), { code, syscall, path });
}

/**
 * The merged image as a read-only FsPort. Paths are '/'-based byte strings inside the image; a
 * symlink on the way is followed inside the image (absolute text starts at its root, `..` stops
 * there), as for a process chrooted at the image's root, so lstat and readdir answer what they
 * would on the unpacked root file system. Every write fails with EROFS: the image is never changed.
 */
export function imageFsPort(root: TreeNode): FsPort {
  const find = (path: string, followLast: boolean, syscall: string): TreeNode => {
    const steps = walkTree(root, pathComponents(path), { followLast, lexicalMissing: false });
    if (typeof steps === 'string') throw fsError(steps, syscall, path);
    return steps[steps.length - 1]!.node!;
  };
  const readOnly = (syscall: string) => (path: string): never => {
    throw fsError('EROFS', syscall, path);
  };
  return {
    real: false,
    readdir(dir) {
      const node = find(dir, true, 'scandir');
      if (node.children === null) throw fsError('ENOTDIR', 'scandir', dir);
      const out: DirEntry[] = [];
      for (const [name, child] of node.children) out.push({ name, kind: child.inode.kind });
      // Byte order, the same on every run and for every input format of one image.
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    kind(path) {
      const steps = walkTree(root, pathComponents(path), { followLast: false, lexicalMissing: false });
      if (steps === 'ENOENT') return undefined;
      if (typeof steps === 'string') throw fsError(steps, 'lstat', path);
      return steps[steps.length - 1]!.node!.inode.kind;
    },
    lstat(path) {
      return statOf(find(path, false, 'lstat'));
    },
    readlink(path) {
      const node = find(path, false, 'readlink');
      if (node.inode.kind !== 'link') throw fsError('EINVAL', 'readlink', path);
      return node.inode.text;
    },
    realpath(path) {
      const steps = walkTree(root, pathComponents(path), { followLast: true, lexicalMissing: false });
      if (typeof steps === 'string') throw fsError(steps satisfies WalkError, 'realpath', path);
      return pathOfSteps(steps);
    },
    symlink: (_target, path) => readOnly('symlink')(path),
    rename: (from) => readOnly('rename')(from),
    unlink: readOnly('unlink'),
    lchown: (path) => readOnly('lchown')(path),
    lutimes: (path) => readOnly('lutime')(path),
  };
}

function statOf(node: TreeNode): LinkStat {
  const i = node.inode;
  return { kind: i.kind as Kind, dev: DEV, ino: i.ino, uid: i.uid, gid: i.gid, mode: i.mode, mtimeNs: i.mtimeNs, atimeNs: i.atimeNs };
}
