import { describe, expect, it } from 'vitest';
import type { FsPort } from '../../../src/core/fs-port.js';
import { imageFsPort } from '../../../src/image/image-fs.js';
import { ImageError } from '../../../src/image/image-error.js';
import type { MergedTree } from '../../../src/image/merge.js';
import { mergeLayers, type TarSpec } from './image-builder.js';

/** The layers (lowest first) merged, as a port. */
async function merged(...layers: TarSpec[][]): Promise<{ tree: MergedTree; fs: FsPort }> {
  const tree = await mergeLayers(...layers);
  return { tree, fs: imageFsPort(tree.root) };
}

/** Every path under the root with its kind (and link text), in byte order. */
function list(fs: FsPort, dir = '/'): string[] {
  const out: string[] = [];
  for (const e of fs.readdir(dir)) {
    const p = (dir === '/' ? '' : dir) + '/' + e.name;
    out.push(e.kind === 'link' ? `${p} -> ${fs.readlink(p)}` : e.kind === 'dir' ? p + '/' : p);
    if (e.kind === 'dir') out.push(...list(fs, p));
  }
  return out;
}

const dir = (name: string, more: Partial<TarSpec> = {}): TarSpec => ({ name, type: 'dir', ...more });
const file = (name: string, more: Partial<TarSpec> = {}): TarSpec => ({ name, ...more });
const sym = (name: string, linkname: string): TarSpec => ({ name, type: 'symlink', linkname });
const hard = (name: string, linkname: string): TarSpec => ({ name, type: 'link', linkname });

describe('whiteouts (image-spec layer.md "Whiteouts")', () => {
  it("removes a lower layer's file and directory, and never shows the whiteout itself", async () => {
    // The spec's own example: delete file1, a/file2 and b/, keep c/file3, add file4.
    const { fs } = await merged([file('file1'), dir('a'), file('a/file2'), dir('b'), file('b/x'), dir('c'), file('c/file3')], [file('.wh.file1'), file('a/.wh.file2'), file('.wh.b'), file('file4')]);
    expect(list(fs)).toEqual(['/a/', '/c/', '/c/file3', '/file4']);
  });

  it('leaves what the same layer adds, whichever comes first in the archive', async () => {
    const before = await merged([file('x', { content: 'old' }), dir('d'), file('d/lower')], [file('.wh.x'), file('x', { mode: 0o600 }), file('.wh.d'), dir('d'), file('d/new')]);
    const after = await merged([file('x', { content: 'old' }), dir('d'), file('d/lower')], [file('x', { mode: 0o600 }), file('.wh.x'), dir('d'), file('d/new'), file('.wh.d')]);
    for (const { fs } of [before, after]) {
      expect(list(fs)).toEqual(['/d/', '/d/new', '/x']);
      expect(fs.lstat('/x').mode).toBe(0o100600);
    }
  });

  it('an opaque whiteout hides every lower child, applied first wherever it sits (the spec a/b/c example)', async () => {
    const lower = [dir('a'), dir('a/b'), dir('a/b/c'), file('a/b/c/bar'), file('a/keep-not')];
    const first = await merged(lower, [dir('a'), file('a/.wh..wh..opq'), dir('a/b'), dir('a/b/c'), file('a/b/c/foo')]);
    const last = await merged(lower, [dir('a'), dir('a/b'), dir('a/b/c'), file('a/b/c/foo'), file('a/.wh..wh..opq')]);
    expect(list(first.fs)).toEqual(['/a/', '/a/b/', '/a/b/c/', '/a/b/c/foo']);
    expect(list(last.fs)).toEqual(list(first.fs));
  });

  it('removes nothing for a whiteout of a path that is not there', async () => {
    const { fs } = await merged([file('x')], [file('nope/.wh.y'), file('x/.wh.z'), file('.wh.absent')]);
    expect(list(fs)).toEqual(['/x']);
  });

  it('is hidden in the layer that adds it too (a root file system tar has nothing below it)', async () => {
    const { fs } = await merged([file('.wh.x'), dir('d'), file('d/.wh..wh..opq'), file('d/y')]);
    expect(list(fs)).toEqual(['/d/', '/d/y']);
  });
});

describe('changesets over existing files (layer.md "Changeset over existing files")', () => {
  it('a non-directory over a directory drops the whole subtree', async () => {
    const { fs } = await merged([dir('d'), dir('d/e'), file('d/e/f')], [file('d', { content: 'now a file' })]);
    expect(list(fs)).toEqual(['/d']);
    expect(fs.kind('/d')).toBe('file');
  });

  it("a directory over a directory keeps the children and takes the new entry's attributes", async () => {
    const { fs, tree } = await merged([dir('d', { mode: 0o700, uid: 1, mtime: 5 }), file('d/kept')], [dir('d', { mode: 0o755, uid: 2, gid: 3, mtime: 6 })]);
    expect(list(fs)).toEqual(['/d/', '/d/kept']);
    expect(fs.lstat('/d')).toMatchObject({ mode: 0o040755, uid: 2, gid: 3, mtimeNs: 6_000_000_000n });
    expect(tree.root.children!.get('d')!.layer).toBe(1);
    expect(tree.root.children!.get('d')!.children!.get('kept')!.layer).toBe(0);
  });

  it('a directory over a symlink replaces the link (the last name is never followed)', async () => {
    const { fs } = await merged([dir('real'), file('real/x'), sym('d', 'real')], [dir('d')]);
    expect(list(fs)).toEqual(['/d/', '/real/', '/real/x']);
  });

  it('a symlink over a file, a file over a symlink: replaced', async () => {
    const { fs } = await merged([file('a'), sym('b', 'x')], [sym('a', 'target'), file('b')]);
    expect(list(fs)).toEqual(['/a -> target', '/b']);
  });

  it('makes missing parents as root-owned 0755 directories of the layer that needed them', async () => {
    const { fs, tree } = await merged([file('x')], [file('deep/er/file', { uid: 9 })]);
    expect(list(fs)).toEqual(['/deep/', '/deep/er/', '/deep/er/file', '/x']);
    expect(fs.lstat('/deep/er')).toMatchObject({ mode: 0o040755, uid: 0, gid: 0, mtimeNs: 0n });
    expect(tree.root.children!.get('deep')!.layer).toBe(1);
  });

  it('updates the root from a ./ entry, and refuses a root that is not a directory', async () => {
    const { fs } = await merged([dir('./', { mode: 0o700, uid: 5 })]);
    expect(fs.lstat('/')).toMatchObject({ mode: 0o040700, uid: 5 });
    await expect(merged([file('.')])).rejects.toThrow(/the root can only be a directory/);
  });

  it('refuses an entry under a file (no unpacker can write it)', async () => {
    await expect(merged([file('f')], [file('f/x')])).rejects.toThrow("invalid layer 1: entry '/f/x': a name on its path is not a directory");
  });
});

describe('hard links, bound when their layer is read', () => {
  it('to a regular file: that file, one inode, whatever happens to the first name later', async () => {
    const { fs } = await merged([file('bin/a', { mode: 0o755, uid: 3 }), hard('bin/b', 'bin/a')], [file('bin/a', { mode: 0o600 })]);
    expect(fs.lstat('/bin/b')).toMatchObject({ kind: 'file', mode: 0o100755, uid: 3 });
    expect(fs.lstat('/bin/b').ino).not.toBe(fs.lstat('/bin/a').ino);
    const same = await merged([file('a'), hard('b', 'a'), hard('c', './b')]);
    expect(new Set(['/a', '/b', '/c'].map((p) => same.fs.lstat(p).ino)).size).toBe(1);
  });

  it("to a symlink: a symlink with the same text, read from the hard link's own directory", async () => {
    const { fs } = await merged([dir('a'), dir('a/t'), dir('b'), dir('b/t'), sym('a/l', 't'), hard('b/l2', 'a/l')]);
    expect(fs.readlink('/b/l2')).toBe('t');
    expect(fs.lstat('/b/l2').ino).toBe(fs.lstat('/a/l').ino);
    expect(fs.realpath('/b/l2')).toBe('/b/t');
    expect(fs.realpath('/a/l')).toBe('/a/t');
  });

  it('through a symlinked directory on the way to the target', async () => {
    const { fs } = await merged([dir('real'), file('real/f'), sym('via', 'real'), hard('h', 'via/f')]);
    expect(fs.lstat('/h').ino).toBe(fs.lstat('/real/f').ino);
  });

  it('to nothing, or to a directory, make the layer invalid', async () => {
    await expect(merged([file('x')], [hard('h', 'missing')])).rejects.toThrow("invalid layer 1: entry '/h': a hard link to '/missing', which does not exist at that point");
    await expect(merged([hard('h', 'later'), file('later')])).rejects.toThrow(ImageError);
    await expect(merged([dir('d'), hard('h', 'd')])).rejects.toThrow(/a hard link to '\/d', a directory/);
    await expect(merged([file('x')], [file('.wh.x'), hard('h', 'x')])).rejects.toThrow(/which does not exist/);
  });

  it('to a lower file this layer whites out after the link (`ln a b && rm a`): that file, as umoci and containerd apply the layer in archive order', async () => {
    const { fs, tree } = await merged([dir('e'), sym('e/s', 'target')], [hard('e/b', 'e/s'), file('e/.wh.s')]);
    expect(list(fs)).toEqual(['/e/', '/e/b -> target']);
    expect(tree.ambiguities.map((a) => a.kind)).toEqual(['cross-layer-hardlink']);
  });

  it('names the entry, not its target, when the target has a .. component', async () => {
    await expect(merged([dir('etc'), file('etc/passwd'), hard('etc/g', 'etc/../etc/passwd')])).rejects.toThrow(
      "invalid layer 0: entry 'etc/g': a hard link to 'etc/../etc/passwd', a name with a '..' component",
    );
  });
});

describe('ambiguities: what runtimes disagree on', () => {
  it('a: an entry under a lower symlink lands at its target, noted once per link and layer with a count', async () => {
    const { fs, tree } = await merged([dir('usr'), dir('usr/lib'), sym('lib', 'usr/lib')], [file('lib/libc.so'), file('lib/libm.so')], [file('lib/libz.so')]);
    expect(list(fs)).toEqual(['/lib -> usr/lib', '/usr/', '/usr/lib/', '/usr/lib/libc.so', '/usr/lib/libm.so', '/usr/lib/libz.so']);
    expect(tree.ambiguities.map(({ kind, path, upper, lower }) => ({ kind, path, upper, lower }))).toEqual([
      { kind: 'entry-through-symlink', path: '/lib/libc.so', upper: 1, lower: 0 },
      { kind: 'entry-through-symlink', path: '/lib/libz.so', upper: 2, lower: 0 },
    ]);
    expect(tree.ambiguities[0]!.detail).toBe(
      "'/lib' is a symlink ('usr/lib') from layer 0: followed, as tar and umoci do, the entry lands at '/usr/lib/libc.so'; unpacked on overlayfs (docker) it makes '/lib' a directory instead, which hides the link (2 entries of layer 1 pass through it)",
    );
  });

  it('a: an absolute or dangling lower link is followed inside the root, missing names made', async () => {
    const { fs, tree } = await merged([sym('abs', '/srv/data'), sym('up', '../../../etc')], [file('abs/x'), file('up/y')]);
    expect(list(fs)).toEqual(['/abs -> /srv/data', '/etc/', '/etc/y', '/srv/', '/srv/data/', '/srv/data/x', '/up -> ../../../etc']);
    expect(tree.ambiguities.map((a) => a.path)).toEqual(['/abs/x', '/up/y']);
  });

  it('a: not ambiguous when the link comes from the same layer', async () => {
    const { fs, tree } = await merged([dir('real'), sym('l', 'real'), file('l/x')]);
    expect(list(fs)).toEqual(['/l -> real', '/real/', '/real/x']);
    expect(tree.ambiguities).toEqual([]);
  });

  it('b: a whiteout under a lower symlink removes the target, and is noted', async () => {
    const { fs, tree } = await merged([dir('data'), file('data/old'), file('data/keep'), sym('link', 'data')], [file('link/.wh.old')], [file('link/.wh..wh..opq')]);
    expect(list(fs)).toEqual(['/data/', '/link -> data']);
    expect(tree.ambiguities.map(({ kind, path, upper, lower }) => ({ kind, path, upper, lower }))).toEqual([
      { kind: 'whiteout-through-symlink', path: '/link/old', upper: 1, lower: 0 },
      { kind: 'whiteout-through-symlink', path: '/link', upper: 2, lower: 0 },
    ]);
    expect(tree.ambiguities[0]!.detail).toContain("the whiteout removes '/data/old'");
    expect(tree.ambiguities[0]!.detail).toContain('a directory holding only the whiteout');
    // The opaque whiteout empties the directory the link points to; it does not remove it.
    expect(tree.ambiguities[1]!.detail).toContain("the whiteout empties '/data'");
  });

  it('b: a whiteout under a symlink its own layer writes is noted: runtimes apply the layer in archive order and follow the link', async () => {
    // umoci: l -> d first, then l/.wh.x follows it and removes /d/x; the spec (and linkcheck) apply
    // the whiteout to the lower /l/x first. Either way /tox and /tolx differ: noted.
    const lower = [dir('d'), file('d/x'), dir('l'), file('l/x'), sym('tox', '/d/x')];
    const { fs, tree } = await merged(lower, [sym('l', 'd'), file('l/.wh.x')]);
    expect(list(fs)).toEqual(['/d/', '/d/x', '/l -> d', '/tox -> /d/x']);
    expect(tree.ambiguities.map(({ kind, path, upper, lower: low }) => ({ kind, path, upper, lower: low }))).toEqual([{ kind: 'whiteout-through-symlink', path: '/l/x', upper: 1, lower: 1 }]);
    expect(tree.ambiguities[0]!.detail).toContain("'/l' is also a symlink ('d') of this layer");
    // A whiteout elsewhere in that layer is not noted.
    expect((await merged(lower, [sym('l', 'd'), file('.wh.tox')])).tree.ambiguities).toEqual([]);
  });

  it('c: a hard link to a file a lower layer made is that file, and is noted; one to its own layer is not', async () => {
    const { fs, tree } = await merged([file('a'), hard('same-layer', 'a')], [hard('b', 'a')]);
    expect(fs.lstat('/b').ino).toBe(fs.lstat('/a').ino);
    expect(tree.ambiguities).toEqual([
      {
        kind: 'cross-layer-hardlink',
        path: '/b',
        upper: 1,
        lower: 0,
        detail: expect.stringContaining("a hard link to '/a', which layer 0 created: here it is that file"),
      },
    ]);
  });

  it('names paths in details safely (a control byte is escaped)', async () => {
    const { tree } = await merged([file('a\x1b[31m')], [hard('b', 'a\x1b[31m')]);
    expect(tree.ambiguities[0]!.path).toBe('/b');
    expect(tree.ambiguities[0]!.detail).toContain("'/a\\x1b[31m'");
  });
});

describe('the layer of each name', () => {
  it('is the last layer that wrote it', async () => {
    const { tree } = await merged([dir('d'), file('d/a'), file('d/b')], [file('d/b'), file('d/c')]);
    const d = tree.root.children!.get('d')!;
    expect(['a', 'b', 'c'].map((n) => d.children!.get(n)!.layer)).toEqual([0, 1, 1]);
    expect(d.layer).toBe(0);
  });

  it('loops through symlinks on an entry path make the layer invalid', async () => {
    await expect(merged([sym('a', 'b'), sym('b', 'a')], [file('a/x')])).rejects.toThrow(/its path loops through symlinks/);
  });

  it("finds an entry's place as umoci's filepath-securejoin does: 255 links, and '..' read lexically even after a file", async () => {
    // A chain of 45 links: more than the kernel's 40, which umoci follows.
    const chain = Array.from({ length: 45 }, (_, i) => sym(`c${i}`, i === 44 ? 'd' : `c${i + 1}`));
    const long = await merged([dir('d'), ...chain], [file('c0/x')]);
    expect(long.fs.lstat('/d/x').mode & 0o170000).toBe(0o100000);
    // l -> f/../d with f a file: the kernel says ENOTDIR, securejoin takes f/.. as /.
    const lexical = await merged([file('f'), dir('d'), sym('l', 'f/../d')], [file('l/x')]);
    expect(list(lexical.fs)).toContain('/d/x');
    // A name on the path that stays a file is still no place for an entry.
    await expect(merged([file('f'), sym('l', 'f/d')], [file('l/x')])).rejects.toThrow(/a name on its path is not a directory/);
  });

  it('notes an entry that a later whiteout of its own layer moves: archive order (umoci) writes it through the lower link the whiteout removes', async () => {
    const { tree, fs } = await merged([dir('real'), sym('l', 'real')], [file('l/x'), file('.wh.l')]);
    // The spec's order: the whiteout first, then /l is a new directory holding x.
    expect(list(fs)).toEqual(['/l/', '/l/x', '/real/']);
    expect(tree.ambiguities).toHaveLength(1);
    expect(tree.ambiguities[0]!.detail).toContain("lands at '/l/x'; umoci and containerd apply a layer in archive order, and it lands at '/real/x'");
  });
});
