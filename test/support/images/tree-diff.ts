/**
 * Where two merged root file systems differ: presence, kind, symlink text, file content. The walk
 * never follows a link. Paths are '/'-based inside the trees (byte strings: latin1, one char a
 * byte, as the kernel oracle takes them).
 *
 * An overlayfs quirk is taken care of: a directory that exists only in an upper layer (one that
 * hides a lower symlink, say) is read straight from that layer, so a whiteout in it (a 0/0
 * character device) is listed by readdir although lstat says ENOENT. Such a ghost is no entry.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

type EntryKind = 'dir' | 'file' | 'symlink' | 'other';

export interface EntryDesc {
  kind: EntryKind;
  /** symlink text, or sha256 and size of a file's content; '' for the others. */
  detail: string;
}

export interface TreeDifference {
  /** '/'-based path inside the trees. */
  path: string;
  what: 'presence' | 'kind' | 'target' | 'content';
  a: EntryDesc | null;
  b: EntryDesc | null;
}

/** Every entry under `root` (not `root` itself): inside path -> description. */
export function treeEntries(root: string): Map<string, EntryDesc> {
  const out = new Map<string, EntryDesc>();
  const walk = (dir: Buffer, inside: string): void => {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' }) as Buffer[]) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const at = `${inside}/${name.toString('latin1')}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (st.isSymbolicLink()) out.set(at, { kind: 'symlink', detail: fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1') });
      else if (st.isFile()) out.set(at, { kind: 'file', detail: `${st.size}:${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}` });
      else if (st.isDirectory()) {
        out.set(at, { kind: 'dir', detail: '' });
        walk(p, at);
      } else out.set(at, { kind: 'other', detail: '' });
    }
  };
  walk(Buffer.from(root, 'latin1'), '');
  return out;
}

/** Where the trees at `a` and `b` differ, sorted by path. */
export function treeDiff(a: string, b: string): TreeDifference[] {
  const ea = treeEntries(a);
  const eb = treeEntries(b);
  const out: TreeDifference[] = [];
  for (const p of new Set([...ea.keys(), ...eb.keys()])) {
    const x = ea.get(p) ?? null;
    const y = eb.get(p) ?? null;
    if (x === null || y === null) out.push({ path: p, what: 'presence', a: x, b: y });
    else if (x.kind !== y.kind) out.push({ path: p, what: 'kind', a: x, b: y });
    else if (x.detail !== y.detail) out.push({ path: p, what: x.kind === 'symlink' ? 'target' : 'content', a: x, b: y });
  }
  return out.sort((m, n) => (m.path < n.path ? -1 : m.path > n.path ? 1 : 0));
}

/** One line per difference, for messages. */
export function showDiff(d: readonly TreeDifference[]): string {
  const desc = (e: EntryDesc | null): string => (e === null ? 'absent' : e.kind === 'symlink' ? `symlink -> ${e.detail}` : e.kind);
  return d.map((x) => `${x.path}: ${x.what} (${desc(x.a)} | ${desc(x.b)})`).join('\n');
}
