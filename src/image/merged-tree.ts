import type { Kind } from '../core/fs-port.js';

/**
 * The merged root file system, metadata only: one node per name, a Map of children per
 * directory. Hard links share an Inode (as on a disk: one inode, many names), so lstat gives
 * them one inode number; each name keeps the layer that last wrote it.
 */
/** What an entry is, as a layer writes it and as the merged root keeps it. */
export interface EntryMeta {
  kind: Kind;
  /** st_mode: type bits and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  /** A symlink's text (a byte string); '' for anything else. */
  text: string;
}

export interface Inode extends EntryMeta {
  ino: bigint;
}

export interface TreeNode {
  inode: Inode;
  /** The layer that last wrote this name (a created parent: the layer that needed it). */
  layer: number;
  /** Children by name (byte strings) for a directory; null for anything else. */
  children: Map<string, TreeNode> | null;
}

/** Linux's limit on symlinks followed in one lookup. */
const MAX_HOPS = 40;
/** filepath-securejoin's (umoci's, through it): an unpacker's walk may follow more. */
const UNPACKER_HOPS = 255;

export type WalkError = 'ENOENT' | 'ENOTDIR' | 'ELOOP';

/** One name on a resolved path; `node` null for a name that does not exist yet (see `lexicalMissing`). */
export interface Step {
  name: string;
  node: TreeNode | null;
}

export interface WalkOptions {
  /** Follow a symlink in the last component too (stat, realpath) or not (lstat, readlink). */
  followLast: boolean;
  /**
   * Missing names are carried on as plain names (and `..` after one undoes it) instead of ending
   * the walk with ENOENT: how an unpacker that creates parent directories (umoci, through
   * filepath-securejoin) finds where an entry goes.
   */
  lexicalMissing: boolean;
  /**
   * Walk as filepath-securejoin does (umoci finds where an entry goes with it): `..` is applied
   * lexically, whatever the name before it is; a name under a file is carried on as missing
   * (a path that keeps a file before its end is then ENOTDIR: nothing can be made under it);
   * 255 symlinks. Without it the walk is the kernel's.
   */
  unpacker?: boolean;
  /** Looks a name up in a directory (default: its children); the merge uses it to see what a later whiteout of the layer removed. */
  child?: (dir: TreeNode, name: string) => TreeNode | undefined;
  /** Called for each symlink followed, with its path ('/'-based). */
  onLink?: (link: TreeNode, path: string) => void;
}

/** The '/'-based path a list of steps names. */
export function pathOfSteps(steps: readonly Step[]): string {
  let p = '';
  for (let i = 1; i < steps.length; i++) p += '/' + steps[i]!.name;
  return p === '' ? '/' : p;
}

const notDir = (s: Step): boolean => s.node !== null && s.node.children === null;

/**
 * Resolves `comps` from the root of the image as a process chrooted there would (openat2
 * RESOLVE_IN_ROOT): absolute link text starts again at the root, `..` stops there, 40 links at
 * most. Answers the steps from the root (the root itself first) or why it failed.
 */
export function walkTree(root: TreeNode, comps: readonly string[], opts: WalkOptions): Step[] | WalkError {
  const stack: Step[] = [{ name: '', node: root }];
  const todo = [...comps].reverse();
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.pop()!;
    const top = stack[stack.length - 1]!;
    if (c === '' || c === '.' || c === '..') {
      // `x/.` and `x/..` demand that x be a directory, as the kernel does.
      if (c !== '' && !opts.unpacker && notDir(top)) return 'ENOTDIR';
      if (c === '..' && stack.length > 1) stack.pop();
      continue;
    }
    if (top.node === null) {
      stack.push({ name: c, node: null });
      continue;
    }
    if (top.node.children === null) {
      if (!opts.unpacker) return 'ENOTDIR';
      stack.push({ name: c, node: null });
      continue;
    }
    const child = opts.child ? opts.child(top.node, c) : top.node.children.get(c);
    if (child === undefined) {
      // securejoin carries a missing name on (a later `..` may undo it); what it ends on must exist.
      if (!opts.lexicalMissing && !opts.unpacker) return 'ENOENT';
      stack.push({ name: c, node: null });
      continue;
    }
    if (child.inode.kind === 'link' && (todo.length > 0 || opts.followLast)) {
      if (++hops > (opts.unpacker ? UNPACKER_HOPS : MAX_HOPS)) return 'ELOOP';
      if (child.inode.text === '') return 'ENOENT';
      opts.onLink?.(child, pathOfSteps([...stack, { name: c, node: child }]));
      if (child.inode.text.startsWith('/')) stack.length = 1;
      const parts = child.inode.text.split('/');
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]!);
      continue;
    }
    stack.push({ name: c, node: child });
  }
  if (opts.unpacker && stack.slice(0, -1).some(notDir)) return 'ENOTDIR';
  if (opts.unpacker && !opts.lexicalMissing && stack.some((st) => st.node === null)) return 'ENOENT';
  return stack;
}

/** Components of a '/'-based path (or one relative to the root), `.` and empty ones kept for walkTree. */
export function pathComponents(path: string): string[] {
  const comps = path.split('/');
  // A leading '/' gives an empty first component: walkTree skips empty ones, but a trailing '/'
  // must still demand a directory, so it becomes '.'.
  if (path.length > 1 && path.endsWith('/')) comps[comps.length - 1] = '.';
  return comps;
}
