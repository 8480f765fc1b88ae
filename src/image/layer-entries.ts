import type { Kind } from '../core/fs-port.js';
import type { EntryMeta } from './merged-tree.js';
import type { ByteSource } from './byte-source.js';
import { toDisplay } from '../core/bytes.js';
import { DamagedData, ImageError, invalidEntry } from './image-error.js';
import { type TarEntry, tarEntries, TarFormatError } from './tar-entries.js';

/** The whiteout prefix and the opaque marker of image-spec layer.md ("Whiteouts"). */
const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** One change a layer makes, its path as clean components ([] is the root). */
export type LayerOp =
  | { op: 'whiteout'; dir: string[]; name: string }
  | { op: 'opaque'; dir: string[] }
  | { op: 'add'; path: string[]; entry: AddedEntry };

export interface AddedEntry extends EntryMeta {
  /** A hard link's target, as clean components from the image root; null for anything else. */
  hardlinkTo: string[] | null;
}

const TYPE_BITS: Record<TarEntry['type'], number> = {
  file: 0o100000,
  link: 0,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  dir: 0o040000,
  fifo: 0o010000,
};

const KIND: Record<TarEntry['type'], Kind> = { file: 'file', link: 'file', symlink: 'link', char: 'other', block: 'other', dir: 'dir', fifo: 'other' };

/**
 * A layer entry's name as components: leading `./` and `/`, doubled and trailing `/` and `.`
 * components dropped. A `..` component makes the layer invalid: the spec's changeset has none,
 * and applying one would write outside the path it names.
 */
export function cleanName(name: string, layer: string, entry = name): string[] {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw invalidEntry(layer, entry, entry === name ? "a '..' component" : `a hard link to '${toDisplay(name)}', a name with a '..' component`);
    out.push(c);
  }
  return out;
}

/** A tar entry as the change it makes. */
function opOf(e: TarEntry, layer: string): LayerOp | null {
  const path = cleanName(e.name, layer);
  const base = path[path.length - 1] ?? '';
  // `.wh..wh.` names other than the opaque marker are aufs's own bookkeeping (`.wh..wh.plnk/`,
  // hard link targets): nothing to apply or show, as docker's unpacker skips them.
  if (path.some((c, i) => c.startsWith(WH + WH) && !(c === OPAQUE && i === path.length - 1))) return null;
  if (base.startsWith(WH)) {
    const dir = path.slice(0, -1);
    if (base === OPAQUE) return { op: 'opaque', dir };
    if (base === WH) throw invalidEntry(layer, e.name, "a whiteout ('.wh.') with no name after it");
    const name = base.slice(WH.length);
    // umoci and containerd cannot apply these either: there is no such child to remove.
    if (name === '.' || name === '..') throw invalidEntry(layer, e.name, `a whiteout of '${name}'`);
    return { op: 'whiteout', dir, name };
  }
  // Linux cannot make a symlink with no text (symlink(2) says ENOENT): no runtime can unpack it.
  if (e.type === 'symlink' && e.linkname === '') throw invalidEntry(layer, e.name, 'a symlink with an empty text, which no runtime can create');
  const hardlinkTo = e.type === 'link' ? cleanName(e.linkname, layer, e.name) : null;
  return {
    op: 'add',
    path,
    entry: {
      kind: KIND[e.type],
      // A symlink's own mode is always 0777 on Linux, whatever the header says.
      mode: TYPE_BITS[e.type] | (e.type === 'symlink' ? 0o777 : e.mode),
      uid: e.uid,
      gid: e.gid,
      mtimeNs: e.mtimeNs,
      atimeNs: e.atimeNs,
      text: e.type === 'symlink' ? e.linkname : '',
      hardlinkTo,
    },
  };
}

/**
 * Every change a layer makes, in archive order, its file contents drained unread. The list is
 * kept whole because the spec applies a layer's whiteouts before its other entries wherever they
 * sit in the archive (see merge.ts); it holds metadata only.
 */
export async function readLayerOps(source: ByteSource, layer: string): Promise<LayerOp[]> {
  const ops: LayerOp[] = [];
  try {
    for await (const e of tarEntries(source)) {
      const op = opOf(e, layer);
      if (op !== null) ops.push(op);
    }
  } catch (err) {
    if (err instanceof TarFormatError) throw new ImageError(`invalid ${layer}: ${err.message}`);
    if (err instanceof DamagedData) throw new ImageError(`invalid ${layer}: damaged compressed data (${err.message})`);
    throw err;
  } finally {
    await source.close();
  }
  return ops;
}
