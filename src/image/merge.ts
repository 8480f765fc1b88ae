import { toDisplay } from '../core/bytes.js';
import type { LayerConflict } from '../rules/types.js';
import { invalidEntry } from './image-error.js';
import type { AddedEntry, LayerOp } from './layer-entries.js';
import { type Inode, pathOfSteps, type TreeNode, walkTree } from './merged-tree.js';

/**
 * Where container runtimes disagree on what a layer means, so the merged view below is one
 * answer among several (reported by the `layer-ambiguity` rule):
 * - `entry-through-symlink`: a layer writes under a path whose ancestor is a symlink from a lower
 *   layer. tar, umoci and containerd's unpacker follow it (the entry lands at the link's target,
 *   inside the root); unpacking the layer into its own overlayfs directory (docker's overlay2)
 *   makes a real directory there, which hides the link.
 * - `whiteout-through-symlink`: the same for a whiteout: followed, it removes the target's child;
 *   on overlayfs the link is hidden by a directory holding only the whiteout.
 * - `cross-layer-hardlink`: a hard link to a file a lower layer created (image-spec #1204).
 *   Here it is that file; unpacking the layer on its own cannot link to it (docker fails), and on
 *   overlayfs the two names stop sharing an inode once either is copied up.
 */
export type Ambiguity = LayerConflict;
type AmbiguityKind = LayerConflict['kind'];

const NO_TIME = 0n;
const show = (p: string): string => `'${toDisplay(p)}'`;

/**
 * The image's root file system, built layer by layer as image-spec layer.md "Applying
 * Changesets" says: whiteouts first (they apply to the lower layers only, wherever they sit in
 * the layer), then every other entry in archive order; a directory over a directory keeps its
 * children and takes the new metadata, anything else replaces what was there, subtree and all;
 * missing parents are made as root-owned 0755 directories. Parent paths are resolved inside the
 * root following symlinks, as umoci does (see Ambiguity); hard links are bound to the file they
 * name when their layer is read, never looked up again.
 */
export class MergedTree {
  readonly root: TreeNode;
  readonly ambiguities: Ambiguity[] = [];
  private nextIno = 1n;
  /** entry- and whiteout-through-symlink, one per link per layer: a count instead of one per entry. */
  private throughLink = new Map<string, { amb: Ambiguity; count: number; why: string }>();
  /** What the current layer's whiteouts removed, by the directory it was in, with the whiteout's place in the layer. */
  private removed = new Map<TreeNode, Map<string, Removed>>();

  constructor() {
    this.root = { inode: this.inode('dir', 0o040755), layer: 0, children: new Map() };
  }

  /** Applies one layer's changes; `label` names it in errors. */
  apply(index: number, label: string, ops: readonly LayerOp[]): void {
    this.throughLink.clear();
    this.whiteouts(index, ops);
    for (const [at, op] of ops.entries()) if (op.op === 'add') this.add(index, label, op.path, op.entry, at);
    for (const { amb, count, why } of this.throughLink.values()) {
      amb.detail = why + (count > 1 ? ` (${count} entries of layer ${index} pass through it)` : '');
      this.ambiguities.push(amb);
    }
  }

  private inode(kind: Inode['kind'], mode: number, from?: AddedEntry): Inode {
    const t = { uid: 0, gid: 0, mtimeNs: NO_TIME, atimeNs: NO_TIME, text: '', ...from };
    return { ino: this.nextIno++, kind, mode, uid: t.uid, gid: t.gid, mtimeNs: t.mtimeNs, atimeNs: t.atimeNs, text: t.text };
  }

  /**
   * Every whiteout of the layer, resolved against the lower layers first, then removed. What it
   * removed stays findable for this layer's hard links (see hardlinkTarget).
   */
  private whiteouts(index: number, ops: readonly LayerOp[]): void {
    const removals: Array<{ dir: TreeNode; name: string | null; at: number }> = [];
    const ownLinks = new Map<string, string>();
    for (const op of ops) if (op.op === 'add' && op.entry.kind === 'link') ownLinks.set(op.path.join('/'), op.entry.text);
    for (const [at, op] of ops.entries()) {
      if (op.op === 'add') continue;
      const name = op.op === 'whiteout' ? op.name : null;
      const written = '/' + [...op.dir, ...(name === null ? [] : [name])].join('/');
      this.noteOwnLink(index, written, op.dir, ownLinks);
      const links: Passed[] = [];
      const steps = walkTree(this.root, op.dir, { followLast: true, lexicalMissing: false, onLink: (link, at) => links.push({ link, at }) });
      // A whiteout under a missing or non-directory parent removes nothing (but a link on its way is still noted).
      const dir = typeof steps === 'string' ? null : steps[steps.length - 1]!.node;
      const landed = typeof steps === 'string' ? null : joinPath(pathOfSteps(steps), name);
      this.noteThrough('whiteout-through-symlink', index, written, landed, links, name === null);
      if (dir?.children) removals.push({ dir, name, at });
    }
    this.removed = new Map();
    for (const r of removals) {
      const gone = this.removed.get(r.dir) ?? new Map<string, Removed>();
      this.removed.set(r.dir, gone);
      if (r.name === null) {
        for (const [n, node] of r.dir.children!) gone.set(n, { node, at: r.at });
        r.dir.children!.clear();
      } else {
        const node = r.dir.children!.get(r.name);
        if (node) gone.set(r.name, { node, at: r.at });
        r.dir.children!.delete(r.name);
      }
    }
  }

  /** Adds one entry; `at` is its place in the layer's archive order. */
  private add(index: number, label: string, path: string[], e: AddedEntry, at: number): void {
    const written = '/' + path.join('/');
    if (path.length === 0) {
      if (e.kind !== 'dir') throw invalidEntry(label, written, 'the root can only be a directory');
      return this.updateDir(this.root, index, e);
    }
    const parent = this.parentFor(index, label, path);
    const name = path[path.length - 1]!;
    const existing = parent.children!.get(name);
    if (e.hardlinkTo !== null) {
      parent.children!.set(name, { inode: this.hardlinkTarget(index, label, written, e.hardlinkTo, at), layer: index, children: null });
    } else if (e.kind === 'dir' && existing?.children) {
      this.updateDir(existing, index, e);
    } else {
      parent.children!.set(name, { inode: this.inode(e.kind, e.mode, e), layer: index, children: e.kind === 'dir' ? new Map() : null });
    }
  }

  /** The spec's "both directories" case: the directory stays, with the new entry's attributes. */
  private updateDir(node: TreeNode, index: number, e: AddedEntry): void {
    Object.assign(node.inode, { mode: e.mode, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs, atimeNs: e.atimeNs });
    node.layer = index;
  }

  /** The directory an entry goes into: symlinks on the way followed inside the root, missing names made. */
  private parentFor(index: number, label: string, path: string[]): TreeNode {
    const written = '/' + path.join('/');
    const links: Passed[] = [];
    const steps = walkTree(this.root, path.slice(0, -1), { followLast: true, lexicalMissing: true, onLink: (link, at) => links.push({ link, at }) });
    if (steps === 'ELOOP') throw invalidEntry(label, written, 'its path loops through symlinks');
    if (steps === 'ENOENT') throw invalidEntry(label, written, 'a symlink on its path is empty');
    if (steps === 'ENOTDIR' || steps[steps.length - 1]!.node?.children === null) throw invalidEntry(label, written, 'a name on its path is not a directory');
    this.noteThrough('entry-through-symlink', index, written, joinPath(pathOfSteps(steps), path[path.length - 1]!), links);
    let dir = this.root;
    for (let i = 1; i < steps.length; i++) {
      let node = steps[i]!.node;
      if (node === null) {
        node = { inode: this.inode('dir', 0o040755), layer: index, children: new Map() };
        dir.children!.set(steps[i]!.name, node);
      }
      dir = node;
    }
    return dir;
  }

  /**
   * The inode a hard link names: it must exist now, in a lower layer or earlier in this one. A
   * lower file this layer's whiteouts removed still counts when the whiteout comes after the link
   * in the archive: the spec applies whiteouts first, but umoci and containerd apply a layer in
   * archive order, so `ln a b && rm a` in one RUN unpacks, and b is that file.
   */
  private hardlinkTarget(index: number, label: string, written: string, to: string[], at: number): Inode {
    const steps = walkTree(this.root, to, { followLast: false, lexicalMissing: false });
    let target = typeof steps === 'string' ? null : steps[steps.length - 1]!.node;
    if (target === null && to.length > 0) {
      const up = walkTree(this.root, to.slice(0, -1), { followLast: true, lexicalMissing: false });
      const dir = typeof up === 'string' ? null : up[up.length - 1]!.node;
      const gone = dir ? this.removed.get(dir)?.get(to[to.length - 1]!) : undefined;
      if (gone !== undefined && gone.at > at) target = gone.node;
    }
    const named = show('/' + to.join('/'));
    if (target === null) throw invalidEntry(label, written, `a hard link to ${named}, which does not exist at that point`);
    if (target.children !== null) throw invalidEntry(label, written, `a hard link to ${named}, a directory`);
    if (target.layer < index)
      this.ambiguities.push({
        kind: 'cross-layer-hardlink',
        path: written,
        upper: index,
        lower: target.layer,
        detail:
          `a hard link to ${named}, which layer ${target.layer} created: here it is that file (one inode); unpacking ` +
          `layer ${index} on its own into an overlayfs directory (docker) cannot link to it, and on overlayfs the names part once either is copied up`,
      });
    return target.inode;
  }

  /**
   * A whiteout under a path this same layer writes as a symlink. The spec applies the layer's
   * whiteouts to the lower layers before its entries, as linkcheck does; umoci and containerd
   * apply the layer in archive order, so a whiteout after the link follows it and removes the
   * link target's child instead.
   */
  private noteOwnLink(index: number, written: string, dir: readonly string[], ownLinks: ReadonlyMap<string, string>): void {
    for (let i = 1; i <= dir.length; i++) {
      const at = dir.slice(0, i).join('/');
      const text = ownLinks.get(at);
      if (text === undefined) continue;
      const key = `own\0${at}`;
      const seen = this.throughLink.get(key);
      if (seen) {
        seen.count++;
        return;
      }
      const why =
        `${show('/' + at)} is also a symlink (${show(text)}) of this layer: the whiteout applies to the lower layers first, as the image spec says ` +
        `and linkcheck does; umoci and containerd apply a layer in archive order, so a whiteout after the link follows it and removes the link target's child`;
      this.throughLink.set(key, { amb: { kind: 'whiteout-through-symlink', path: written, upper: index, lower: index, detail: '' }, count: 1, why });
      return;
    }
  }

  /** Notes the first lower layer's symlink passed on the way to an entry or whiteout of layer `index`. */
  private noteThrough(kind: AmbiguityKind, index: number, written: string, landed: string | null, links: Passed[], opaque = false): void {
    const first = links.find((p) => p.link.layer < index);
    if (first === undefined) return;
    const key = `${kind}\0${first.at}`;
    const seen = this.throughLink.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    const { link, at } = first;
    const whiteout = kind === 'whiteout-through-symlink';
    const lands = landed === null ? 'finds nothing there' : `${opaque ? 'empties' : whiteout ? 'removes' : 'lands at'} ${show(landed)}`;
    const why =
      `${show(at)} is a symlink (${show(link.inode.text)}) from layer ${link.layer}: followed, as tar and umoci do, ` +
      `the ${whiteout ? 'whiteout' : 'entry'} ${lands}; unpacked on overlayfs (docker) it makes ${show(at)} a directory ` +
      `${whiteout ? 'holding only the whiteout' : 'instead'}, which hides the link`;
    this.throughLink.set(key, { amb: { kind, path: written, upper: index, lower: link.layer, detail: '' }, count: 1, why });
  }
}

/** A node a whiteout removed, and the whiteout's place in its layer. */
interface Removed {
  node: TreeNode;
  at: number;
}

/** A symlink met on a walk, and its path. */
interface Passed {
  link: TreeNode;
  at: string;
}

/** `dir` + '/' + `name` for a '/'-based dir; the dir itself when there is no name. */
const joinPath = (dir: string, name: string | null): string => (name === null ? dir : dir === '/' ? '/' + name : dir + '/' + name);
