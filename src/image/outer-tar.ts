import type { FileHandle } from 'node:fs/promises';
import { toDisplay } from '../core/bytes.js';
import { type FileRange, rangeSource } from './byte-source.js';
import { ImageError } from './image-error.js';
import { type TarEntry, tarEntries, TarFormatError } from './tar-entries.js';

/**
 * The index of an uncompressed tar (an OCI archive, a `docker save` file): every member's clean
 * name with its type, content offset and size, read once from the headers alone, so any blob
 * is then a byte range of the file, read in place: nothing is extracted.
 */
export interface OuterTar {
  readonly names: ReadonlyMap<string, TarEntry>;
  /** The bytes of a member, links in the archive followed; undefined when there is none. */
  member(name: string): FileRange | undefined;
}

/** The archive's own links are followed at most this often (Linux's limit for symlinks). */
const MAX_HOPS = 40;

/** A member name as the archive's namespace sees it: no `./`, no leading or doubled or trailing `/`. */
export function memberName(name: string): string {
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out.join('/');
}

export async function indexOuterTar(handle: FileHandle, length: number, what: string): Promise<OuterTar> {
  const names = new Map<string, TarEntry>();
  try {
    for await (const e of tarEntries(rangeSource({ handle, start: 0, length }))) names.set(memberName(e.name), e);
  } catch (err) {
    // No header at the very start: the file is no tar at all; say that, not which field broke.
    if (err instanceof TarFormatError && err.header === 0)
      throw new ImageError(`${what} is not an image: no tar header at its start (give an OCI layout directory, an OCI or docker-save archive, or a root file system tar)`);
    if (err instanceof TarFormatError) throw new ImageError(`${what}: ${err.message}`);
    throw err;
  }
  return {
    names,
    member: (name) => {
      const e = follow(names, memberName(name), what);
      return e === undefined ? undefined : { handle, start: e.offset, length: e.size };
    },
  };
}

/**
 * The regular file `name` leads to, following symlinks (text relative to the link's own
 * directory; `docker save` writes `<id>/layer.tar -> ../<other>/layer.tar` for a repeated layer)
 * and hard links (target named from the archive's top) in any of its components.
 */
function follow(names: ReadonlyMap<string, TarEntry>, name: string, what: string): TarEntry | undefined {
  let comps = name === '' ? [] : name.split('/');
  for (let hops = 0; hops <= MAX_HOPS; hops++) {
    let redirected = false;
    for (let i = 1; i <= comps.length && !redirected; i++) {
      const e = names.get(comps.slice(0, i).join('/'));
      if (e === undefined || (e.type !== 'symlink' && e.type !== 'link')) continue;
      const base = e.type === 'link' || e.linkname.startsWith('/') ? '' : comps.slice(0, i - 1).join('/');
      comps = memberName(base + '/' + e.linkname + '/' + comps.slice(i).join('/')).split('/').filter((c) => c !== '');
      redirected = true;
    }
    if (!redirected) {
      const e = names.get(comps.join('/'));
      return e?.type === 'file' ? e : undefined;
    }
  }
  throw new ImageError(`${what}: the archive's links at '${toDisplay(name)}' loop`);
}
