import { toDisplay } from '../core/bytes.js';
import type { LayerConflict } from '../rules/types.js';
import { invalidEntry } from './image-error.js';
import type { AddedEntry, LayerOp } from './layer-entries.js';
import { type Inode, pathOfSteps, type TreeNode, type WalkError, walkTree } from './merged-tree.js';

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

/** Why an entry has no place, by how the walk to its parent failed. */
const NO_PLACE: Record<WalkError, string> = {
  ELOOP: 'its path loops through symlinks',
  ENOENT: 'a symlink on its path is empty',
  ENOTDIR: 'a name on its path is not a directory',
};
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
  /**
   * The current layer's ambiguities, one per link passed (or per place archive order moves), with
   * a count instead of one per entry; their words are asked for once the layer is written.
   */
  private pending = new Map<string, { amb: Ambiguity; count: number; why: () => string }>();
  /** What the current layer's whiteouts removed, by the directory it was in, with the whiteout's place in the layer. */
  private removed = new Map<TreeNode, Map<string, Removed>>();

  constructor() {
    this.root = { inode: this.inode('dir', 0o040755), layer: 0, children: new Map() };
  }

  /** Applies one layer's changes; `label` names it in errors. */
  apply(index: number, label: string, ops: readonly LayerOp[]): void {
    this.pending.clear();
    this.whiteouts(index, ops);
    for (const [at, op] of ops.entries()) if (op.op === 'add') this.add(index, label, op.path, op.entry, at);
    for (const { amb, count, why } of this.pending.values()) {
      amb.detail = why() + (count > 1 ? ` (${count} entries of layer ${index} pass through it)` : '');
      this.ambiguities.push(amb);
    }
  }

  /** Notes an ambiguity of the current layer under `key`, or counts one more entry for it. */
  private note(key: string, amb: Omit<Ambiguity, 'detail'>, why: () => string): void {
    const seen = this.pending.get(key);
    if (seen) seen.count++;
    else this.pending.set(key, { amb: { ...amb, detail: '' }, count: 1, why });
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
    // The layer's own symlinks, by path, with their place in the archive (the first of a name: the earliest a whiteout can follow).
    const ownLinks = new Map<string, OwnLink>();
    for (const [at, op] of ops.entries()) if (op.op === 'add' && op.entry.kind === 'link' && !ownLinks.has(op.path.join('/'))) ownLinks.set(op.path.join('/'), { text: op.entry.text, at });
    for (const [at, op] of ops.entries()) {
      if (op.op === 'add') continue;
      const name = op.op === 'whiteout' ? op.name : null;
      const written = '/' + [...op.dir, ...(name === null ? [] : [name])].join('/');
      this.noteOwnLink(index, written, op.dir, name, at, ownLinks);
      const links: Passed[] = [];
      const steps = walkTree(this.root, op.dir, { followLast: true, lexicalMissing: false, unpacker: true, onLink: (link, at) => links.push({ link, at }) });
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
    const parent = this.parentFor(index, label, path, at);
    if (parent === null) return;
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

  /**
   * The directory an entry goes into: symlinks on the way followed inside the root, missing names
   * made. Null when the spec's order leaves it nowhere to go (a loop, a file on its path) but
   * archive order, in which runtimes apply a layer, does: the entry is left out and noted.
   */
  private parentFor(index: number, label: string, path: string[], at: number): TreeNode | null {
    const written = '/' + path.join('/');
    const links: Passed[] = [];
    // Whether the walk looked up a name that a later whiteout of the layer removed: only then can
    // archive order take the entry elsewhere (see noteArchiveOrder).
    let laterWhiteout = false;
    const child = (dir: TreeNode, name: string): TreeNode | undefined => {
      if (this.removedAfter(dir, name, at) !== undefined) laterWhiteout = true;
      return dir.children?.get(name);
    };
    const steps = walkTree(this.root, path.slice(0, -1), { followLast: true, lexicalMissing: true, unpacker: true, onLink: (link, p) => links.push({ link, at: p }), ...(this.removed.size > 0 ? { child } : {}) });
    const failed = typeof steps === 'string' ? steps : steps[steps.length - 1]!.node?.children === null ? 'ENOTDIR' : null;
    if (failed !== null || typeof steps === 'string') {
      if (laterWhiteout && this.noteArchiveOrder(index, written, path, null, at)) return null;
      throw invalidEntry(label, written, NO_PLACE[failed ?? 'ENOTDIR']);
    }
    const landed = joinPath(pathOfSteps(steps), path[path.length - 1]!);
    this.noteThrough('entry-through-symlink', index, written, landed, links);
    if (laterWhiteout) this.noteArchiveOrder(index, written, path, landed, at);
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
    // Looked up as archive order has it (what a later whiteout of the layer removes is still
    // there), else as the spec's order has it (the layer may have written it since).
    const found = (steps: ReturnType<typeof walkTree>): TreeNode | null => (typeof steps === 'string' ? null : steps[steps.length - 1]!.node);
    const target =
      found(walkTree(this.root, to, { followLast: false, lexicalMissing: false, unpacker: true, child: this.archiveOrder(at) })) ??
      found(walkTree(this.root, to, { followLast: false, lexicalMissing: false, unpacker: true }));
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
  private noteOwnLink(index: number, written: string, dir: readonly string[], name: string | null, at: number, ownLinks: ReadonlyMap<string, OwnLink>): void {
    for (let i = 1; i <= dir.length; i++) {
      const where = dir.slice(0, i).join('/');
      const link = ownLinks.get(where);
      // A link written after the whiteout is not there yet when archive order reaches it.
      if (link === undefined || link.at > at) continue;
      // Where archive order takes the whiteout: through the layer's links, once they are written.
      this.note(`own\0${where}`, { kind: 'whiteout-through-symlink', path: written, upper: index, lower: index }, () => {
        const steps = walkTree(this.root, dir, { followLast: true, lexicalMissing: true, unpacker: true });
        const lands = typeof steps === 'string' ? '' : ` (${name === null ? 'it empties' : 'it removes'} ${show(joinPath(pathOfSteps(steps), name))})`;
        return (
          `${show('/' + where)} is also a symlink (${show(link.text)}) of this layer: the whiteout applies to the lower layers first, as the image spec says ` +
          `and linkcheck does; umoci and containerd apply a layer in archive order, so a whiteout after the link follows it${lands}`
        );
      });
      return;
    }
  }

  /**
   * What a whiteout of this layer that comes after the entry at `at` in the archive removed: the
   * spec applies it before the entry, as linkcheck does; umoci and containerd apply a layer in
   * archive order, so for them it was still there.
   */
  private removedAfter(dir: TreeNode, name: string, at: number): TreeNode | undefined {
    const gone = this.removed.get(dir)?.get(name);
    return gone !== undefined && gone.at > at ? gone.node : undefined;
  }

  /** A walk's lookup as archive order has it at the entry at `at`: what a later whiteout removes is still there. */
  private archiveOrder(at: number): (dir: TreeNode, name: string) => TreeNode | undefined {
    return (dir, name) => this.removedAfter(dir, name, at) ?? dir.children?.get(name);
  }

  /**
   * An entry whose parent path goes elsewhere when the layer's later whiteouts have not happened
   * yet (archive order: umoci, containerd) than when they have (the spec's order, linkcheck's):
   * a lower symlink or directory that a whiteout after the entry removes.
   */
  private noteArchiveOrder(index: number, written: string, path: readonly string[], landed: string | null, at: number): boolean {
    const links: Passed[] = [];
    const steps = walkTree(this.root, path.slice(0, -1), { followLast: true, lexicalMissing: true, unpacker: true, child: this.archiveOrder(at), onLink: (link, p) => links.push({ link, at: p }) });
    const there = typeof steps === 'string' || steps[steps.length - 1]!.node?.children === null ? null : joinPath(pathOfSteps(steps), path[path.length - 1]!);
    if (there === landed) return false;
    const lower = links.find((l) => l.link.layer < index)?.link.layer ?? index;
    this.note(
      `order\0${written}`,
      { kind: 'entry-through-symlink', path: written, upper: index, lower },
      () =>
        `a whiteout later in layer ${index} removes a name on its path: the spec applies the whiteout first, as linkcheck does, and the entry ` +
        `${landed === null ? 'has nowhere to go (linkcheck leaves it out)' : `lands at ${show(landed)}`}; umoci and containerd apply a layer in archive order, ` +
        `and it lands ${there === null ? 'nowhere (they refuse the layer)' : `at ${show(there)}`}`,
    );
    return true;
  }

  /** Notes the first lower layer's symlink passed on the way to an entry or whiteout of layer `index`. */
  private noteThrough(kind: AmbiguityKind, index: number, written: string, landed: string | null, links: Passed[], opaque = false): void {
    const first = links.find((p) => p.link.layer < index);
    if (first === undefined) return;
    const { link, at } = first;
    const whiteout = kind === 'whiteout-through-symlink';
    this.note(`${kind}\0${at}`, { kind, path: written, upper: index, lower: link.layer }, () => {
      const lands = landed === null ? 'finds nothing there' : `${opaque ? 'empties' : whiteout ? 'removes' : 'lands at'} ${show(landed)}`;
      return (
        `${show(at)} is a symlink (${show(link.inode.text)}) from layer ${link.layer}: followed, as tar and umoci do, ` +
        `the ${whiteout ? 'whiteout' : 'entry'} ${lands}; unpacked on overlayfs (docker) it makes ${show(at)} a directory ` +
        `${whiteout ? 'holding only the whiteout' : 'instead'}, which hides the link`
      );
    });
  }
}

/** A symlink a layer writes, and its place in the layer. */
interface OwnLink {
  text: string;
  at: number;
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
