import * as nodeFs from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageError } from '../../../src/image/image-error.js';
import { indexOuterTar, memberName, type OuterTar } from '../../../src/image/outer-tar.js';
import { rawTar, type TarSpec, tempDir } from './image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The index of `entries` written as a tar, and a reader of a member's bytes. */
async function indexed(entries: TarSpec[], body: (outer: OuterTar, read: (name: string) => Promise<string | undefined>) => Promise<void>): Promise<void> {
  const tar = rawTar(entries);
  const file = path.join(tmp.dir, `o${Math.random()}.tar`);
  nodeFs.writeFileSync(file, tar);
  const handle = await open(file, 'r');
  try {
    const outer = await indexOuterTar(handle, tar.length, file);
    const read = async (name: string): Promise<string | undefined> => {
      const r = outer.member(name);
      if (r === undefined) return undefined;
      const buf = Buffer.alloc(r.length);
      await r.handle.read(buf, 0, r.length, r.start);
      return buf.toString('latin1');
    };
    await body(outer, read);
  } finally {
    await handle.close();
  }
}

describe('member names', () => {
  it('drop ./, leading, doubled and trailing slashes', () => {
    expect(['./a/b', '/a//b/', 'a/./b', './', 'a/x/../b'].map(memberName)).toEqual(['a/b', 'a/b', 'a/b', '', 'a/b']);
  });
});

describe('the outer tar index', () => {
  it('finds members by clean name, long names included, and reads their bytes in place', async () => {
    const long = 'blobs/sha256/' + 'f'.repeat(120);
    await indexed([{ name: './index.json', content: '{}' }, { name: long, long: 'pax', content: 'blob' }, { name: 'g/' + 'h'.repeat(110), long: 'gnu', content: 'gnu' }], async (outer, read) => {
      expect([...outer.names.keys()]).toEqual(['index.json', long, 'g/' + 'h'.repeat(110)]);
      expect(await read('index.json')).toBe('{}');
      expect(await read('./' + long)).toBe('blob');
      expect(await read('g/' + 'h'.repeat(110))).toBe('gnu');
      expect(await read('missing')).toBeUndefined();
    });
  });

  it("follows the archive's symlinks (relative to their directory, or from its top) and hard links (from its top)", async () => {
    await indexed(
      [
        { name: 'aaa/layer.tar', content: 'layer A' },
        { name: 'bbb/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' },
        { name: 'ccc/layer.tar', type: 'link', linkname: 'aaa/layer.tar' },
        { name: 'ddd/layer.tar', type: 'symlink', linkname: '/bbb/layer.tar' },
        { name: 'eee', type: 'symlink', linkname: 'aaa' },
        { name: 'fff/layer.tar', type: 'link', linkname: './ccc/layer.tar' },
      ],
      async (_outer, read) => {
        for (const n of ['bbb/layer.tar', 'ccc/layer.tar', 'ddd/layer.tar', 'eee/layer.tar', 'fff/layer.tar']) expect(await read(n), n).toBe('layer A');
      },
    );
  });

  it('has no member where a link dangles or names a directory', async () => {
    await indexed([{ name: 'd/', type: 'dir' }, { name: 'x', type: 'symlink', linkname: 'nowhere' }, { name: 'y', type: 'symlink', linkname: 'd' }], async (_outer, read) => {
      expect(await read('x')).toBeUndefined();
      expect(await read('y')).toBeUndefined();
      expect(await read('d')).toBeUndefined();
    });
  });

  it('refuses links that loop', async () => {
    await indexed([{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }], async (outer) => {
      expect(() => outer.member('a')).toThrow(ImageError);
      expect(() => outer.member('a')).toThrow(/loop/);
    });
  });

  it('is an ImageError when the file is not a tar', async () => {
    const file = path.join(tmp.dir, 'not.tar');
    nodeFs.writeFileSync(file, Buffer.alloc(2048, 0x41));
    const handle = await open(file, 'r');
    try {
      await expect(indexOuterTar(handle, 2048, file)).rejects.toThrow(ImageError);
    } finally {
      await handle.close();
    }
  });
});
