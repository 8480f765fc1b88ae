import { describe, expect, it } from 'vitest';
import { chunkSource } from '../../../src/image/byte-source.js';
import { unzstd } from '../../../src/image/decompress.js';
import { ImageError } from '../../../src/image/image-error.js';
import { cleanName, type LayerOp, readLayerOps } from '../../../src/image/layer-entries.js';
import { header, rawTar, type TarSpec, zstdRaw } from './image-builder.js';

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

const ops = (entries: TarSpec[]): Promise<LayerOp[]> => readLayerOps(chunkSource(once(rawTar(entries))), 'layer 1 (sha256:abc)');

describe('layer entry names', () => {
  it('are cleaned: ./ and leading /, doubled and trailing slashes, . components', () => {
    expect(['./etc/passwd', '/etc//passwd', 'etc/passwd/', 'etc/./passwd', './', '.', '/'].map((n) => cleanName(n, 'layer 0'))).toEqual([
      ['etc', 'passwd'],
      ['etc', 'passwd'],
      ['etc', 'passwd'],
      ['etc', 'passwd'],
      [],
      [],
      [],
    ]);
  });

  it('make the layer invalid with a .. component, named in one line with the layer', () => {
    expect(() => cleanName('a/../../etc/shadow', 'layer 1 (sha256:abc)')).toThrow(ImageError);
    expect(() => cleanName('..', 'layer 1')).toThrow("invalid layer 1: entry '..': a '..' component");
    expect(() => cleanName('a/..b/c..', 'layer 1')).not.toThrow();
  });
});

describe("a layer's changes", () => {
  it('are whiteouts, opaque whiteouts and additions, in archive order; aufs metadata is dropped', async () => {
    const got = await ops([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/.wh.passwd' },
      { name: 'bin/.wh..wh..opq' },
      { name: '.wh.top' },
      { name: '.wh..wh.plnk/', type: 'dir' },
      { name: '.wh..wh.plnk/123.456' },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
    ]);
    expect(got.map((o) => (o.op === 'add' ? `add /${o.path.join('/')}` : o.op === 'whiteout' ? `wh /${o.dir.join('/')} ${o.name}` : `opq /${o.dir.join('/')}`))).toEqual([
      'add /etc',
      'wh /etc passwd',
      'opq /bin',
      'wh / top',
      'add /bin/sh',
    ]);
  });

  it('carry st_mode type bits, a symlink as 0777 whatever its header says, owners, times, link texts and hard link targets', async () => {
    const got = await ops([
      { name: 'd/', type: 'dir', mode: 0o750, uid: 3, gid: 4, mtime: 10 },
      { name: 'd/f', mode: 0o4755 },
      { name: 'd/l', type: 'symlink', linkname: '../x', mode: 0o644 },
      { name: 'd/h', type: 'link', linkname: './d/f' },
      { name: 'd/c', type: 'char' },
      { name: 'd/p', type: 'fifo' },
    ]);
    const adds = got.flatMap((o) => (o.op === 'add' ? [o.entry] : []));
    expect(adds.map((e) => [e.kind, e.mode.toString(8)])).toEqual([
      ['dir', '40750'],
      ['file', '104755'],
      ['link', '120777'],
      ['file', '644'],
      ['other', '20644'],
      ['other', '10644'],
    ]);
    expect(adds[0]).toMatchObject({ uid: 3, gid: 4, mtimeNs: 10_000_000_000n, hardlinkTo: null });
    expect(adds[2]!.text).toBe('../x');
    expect(adds[3]!.hardlinkTo).toEqual(['d', 'f']);
  });

  it("reject a bare '.wh.' and a '..' in a name or a hard link's target", async () => {
    await expect(ops([{ name: 'etc/.wh.' }])).rejects.toThrow("invalid layer 1 (sha256:abc): entry 'etc/.wh.': a whiteout ('.wh.') with no name after it");
    await expect(ops([{ name: 'a/../../x' }])).rejects.toThrow(/entry 'a\/..\/..\/x': a '..' component/);
    await expect(ops([{ name: 'h', type: 'link', linkname: '../etc/shadow' }])).rejects.toThrow(ImageError);
  });

  it("reject what no runtime can apply: a whiteout of '.' or '..', a symlink with an empty text", async () => {
    await expect(ops([{ name: 'etc/.wh..' }])).rejects.toThrow("entry 'etc/.wh..': a whiteout of '.'");
    await expect(ops([{ name: 'etc/.wh...' }])).rejects.toThrow("entry 'etc/.wh...': a whiteout of '..'");
    await expect(ops([{ name: 'e/s', type: 'symlink', linkname: '' }])).rejects.toThrow("entry 'e/s': a symlink with an empty text, which no runtime can create");
  });

  it('make bad tar data and damaged compressed data an ImageError naming the layer', async () => {
    const bad = rawTar([{ name: 'a' }]);
    bad[0] = 0x7a;
    await expect(readLayerOps(chunkSource(once(bad)), 'layer 2')).rejects.toThrow(/^invalid layer 2: bad header checksum/);
    const cut = zstdRaw(rawTar([{ name: 'a', content: 'x'.repeat(3000) }])).subarray(0, 1000);
    await expect(readLayerOps(chunkSource(unzstd(once(cut))), 'layer 3')).rejects.toThrow(/^invalid layer 3: damaged compressed data/);
    await expect(readLayerOps(chunkSource(once(Buffer.concat([header({ name: 's', flag: 'S' }), Buffer.alloc(1024)]))), 'layer 4')).rejects.toThrow(/^invalid layer 4: entry type 'S'/);
  });
});
