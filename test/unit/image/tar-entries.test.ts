import * as nodeFs from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { extract } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { chunkSource, rangeSource } from '../../../src/image/byte-source.js';
import { type TarEntry, tarEntries, TarFormatError } from '../../../src/image/tar-entries.js';
import { header, packTar, rawTar, type TarSpec, tempDir } from './image-builder.js';

async function* slices(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(buf: Buffer, chunk = 4096): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of tarEntries(chunkSource(slices(buf, chunk)))) out.push(e);
  return out;
}

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The same archive read from a file by positioned reads (contents skipped by seeking). */
async function collectFromFile(buf: Buffer): Promise<TarEntry[]> {
  const file = path.join(tmp.dir, `t${Math.random()}.tar`);
  nodeFs.writeFileSync(file, buf);
  const handle = await open(file, 'r');
  try {
    const out: TarEntry[] = [];
    for await (const e of tarEntries(rangeSource({ handle, start: 0, length: buf.length }))) out.push(e);
    return out;
  } finally {
    await handle.close();
  }
}

const long = 'd'.repeat(60) + '/' + 'e'.repeat(60) + '/' + 'f'.repeat(30);
const longLink = '../' + 'g'.repeat(120);

describe('the tar reader', () => {
  it('reads long names and link texts from PAX records, GNU L/K entries and the ustar prefix', async () => {
    const entries = await collect(
      rawTar([
        { name: long, long: 'pax', content: 'x' },
        { name: long + '2', long: 'gnu', content: 'y' },
        { name: long + '3', long: 'prefix' },
        { name: 'l1', type: 'symlink', linkname: longLink, long: 'pax' },
        { name: 'l2', type: 'symlink', linkname: longLink, long: 'gnu' },
        { name: 'short', content: 'z' },
      ]),
    );
    expect(entries.map((e) => [e.name, e.linkname])).toEqual([
      [long, ''],
      [long + '2', ''],
      [long + '3', ''],
      ['l1', longLink],
      ['l2', longLink],
      ['short', ''],
    ]);
    expect(long.length).toBeGreaterThan(100);
  });

  it('keeps non-UTF-8 name bytes exactly, in the header, in a GNU long name and in a PAX path (as Go writes them)', async () => {
    const bad = 'caf\xe9-\xff\xfe';
    const entries = await collect(
      rawTar([
        { name: bad, content: '1' },
        { name: bad + '/' + 'x'.repeat(100), long: 'gnu' },
        { name: 'p', pax: { path: bad + '-pax', linkpath: '\x80' }, type: 'symlink', linkname: 'ignored' },
      ]),
    );
    expect(entries.map((e) => e.name)).toEqual([bad, bad + '/' + 'x'.repeat(100), bad + '-pax']);
    expect(entries[2]!.linkname).toBe('\x80');
  });

  it('reads PAX times to the nanosecond, PAX ids and sizes; global records amend nothing (docker and containerd ignore them)', async () => {
    const entries = await collect(
      rawTar([
        { name: 'a', pax: { mtime: '1700000000.123456789', atime: '1600000000.5', uid: '70000', gid: '80000' } },
        { name: 'b', mtime: 42 },
      ]),
    );
    expect(entries[0]).toMatchObject({ mtimeNs: 1_700_000_000_123_456_789n, atimeNs: 1_600_000_000_500_000_000n, uid: 70000, gid: 80000 });
    // No atime in a ustar header: it is the mtime.
    expect(entries[1]).toMatchObject({ mtimeNs: 42_000_000_000n, atimeNs: 42_000_000_000n });
    const global = Buffer.from('13 uid=12345\n', 'latin1');
    const withGlobal = Buffer.concat([header({ name: 'pax_global_header', flag: 'g', size: global.length }), global, Buffer.alloc(512 - global.length), rawTar([{ name: 'c', uid: 1 }, { name: 'd', pax: { uid: '7' } }])]);
    expect((await collect(withGlobal)).map((e) => e.uid)).toEqual([1, 7]);
  });

  it('skips contents, and reads no content after header-only types whatever their size field says (as Go does)', async () => {
    const big = Buffer.alloc(100_000, 0x61);
    const entries = await collect(rawTar([{ name: 'big', content: big }, { name: 'd/', type: 'dir', sizeField: 0 }, { name: 'after', content: 'x' }]), 777);
    expect(entries.map((e) => [e.name, e.size])).toEqual([['big', 100_000], ['d/', 0], ['after', 1]]);
    // A hard link header that claims a size but carries no data: the next header follows at once.
    const link = Buffer.concat([header({ name: 'h', flag: '1', linkname: 'after', size: 5000 }), rawTar([{ name: 'next' }])]);
    expect((await collect(link)).map((e) => e.name)).toEqual(['h', 'next']);
  });

  it('gives offsets at which the contents are', async () => {
    const tar = rawTar([{ name: 'a', content: 'hello' }, { name: long, long: 'pax', content: 'world!' }]);
    const entries = await collect(tar);
    expect(entries.map((e) => tar.toString('latin1', e.offset, e.offset + e.size))).toEqual(['hello', 'world!']);
  });

  it('stops at two zero blocks, goes on after one, and ends quietly at the end of the data', async () => {
    const one = Buffer.concat([rawTar([{ name: 'a' }]).subarray(0, 512), Buffer.alloc(512), rawTar([{ name: 'b' }])]);
    expect((await collect(one)).map((e) => e.name)).toEqual(['a', 'b']);
    const two = Buffer.concat([rawTar([{ name: 'a' }]), rawTar([{ name: 'hidden' }])]);
    expect((await collect(two)).map((e) => e.name)).toEqual(['a']);
    expect((await collect(rawTar([{ name: 'a' }]).subarray(0, 512))).map((e) => e.name)).toEqual(['a']);
  });

  it('throws TarFormatError on a bad checksum, a cut header, a cut record and an unsupported type', async () => {
    const bad = rawTar([{ name: 'a' }]);
    bad[10] = 0x41;
    await expect(collect(bad)).rejects.toThrow(TarFormatError);
    await expect(collect(rawTar([{ name: 'a' }]).subarray(0, 300))).rejects.toThrow(/ends inside a header/);
    await expect(collect(rawTar([{ name: long, long: 'gnu' }]).subarray(0, 600))).rejects.toThrow(/ends inside a header record/);
    await expect(collect(Buffer.concat([header({ name: 's', flag: 'S' }), Buffer.alloc(1024)]))).rejects.toThrow(/'S' is not supported/);
  });

  it('reads what Go reads (the runtimes unpack with it): empty PAX values keep the header, GNU long names win over PAX, GNU.sparse.name only in a sparse entry', async () => {
    const linkWith = (pax: Record<string, string>, extra: Buffer[] = []): Buffer => {
      const rec = Buffer.concat(Object.entries(pax).map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 1;
        while (String(len).length + body.length !== len) len = String(len).length + body.length;
        return Buffer.from(`${len}${body}`, 'latin1');
      }));
      return Buffer.concat([...extra, header({ name: 'x', flag: 'x', size: rec.length }), rec, Buffer.alloc((512 - (rec.length % 512)) % 512), header({ name: 'e/s', flag: '2', linkname: 'a' }), Buffer.alloc(1024)]);
    };
    const gnu = (flag: 'L' | 'K', text: string): Buffer[] => [header({ name: '././@LongLink', flag, size: text.length + 1, magic: 'gnu' }), Buffer.from(text + '\0'.repeat(512 - text.length), 'latin1')];
    const one = async (b: Buffer): Promise<[string, string]> => {
      const [e] = await collect(b);
      return [e!.name, e!.linkname];
    };
    expect(await one(linkWith({ linkpath: '', path: '' }))).toEqual(['e/s', 'a']);
    expect(await one(linkWith({ path: 'e/pax-name', linkpath: 'pax-text' }, [...gnu('L', 'e/gnu-name'), ...gnu('K', 'gnu-text')]))).toEqual(['e/gnu-name', 'gnu-text']);
    expect(await one(linkWith({ 'GNU.sparse.name': 'e/other' }))).toEqual(['e/s', 'a']);
    expect(await one(linkWith({ 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'e/other' }))).toEqual(['e/other', 'a']);
  });

  it('makes a directory of a trailing slash only for type \\0, and after long names apply (a type 0 entry "d/" is a file, as in Go)', async () => {
    const entries = await collect(Buffer.concat([header({ name: 'f/', flag: '0' }), header({ name: 'v7/', flag: '\0', magic: 'v7' }), rawTar([{ name: 'p', pax: { path: 'paxdir/' }, type: 'file' }])]));
    expect(entries.map((e) => [e.name, e.type])).toEqual([['f/', 'file'], ['v7/', 'dir'], ['paxdir/', 'file']]);
    const nulFlag = Buffer.concat([header({ name: 'x', flag: 'x', size: 16 }), Buffer.from('16 path=paxdir/\n', 'latin1'), Buffer.alloc(512 - 16), header({ name: 'p', flag: '\0' }), Buffer.alloc(1024)]);
    expect((await collect(nulFlag)).map((e) => [e.name, e.type])).toEqual([['paxdir/', 'dir']]);
  });

  it('reads a size hidden behind leading NULs as Go does, so a file cannot hide the headers after it', async () => {
    // A file whose size field is 8 NULs then "1000" (512 bytes): its contents are one block that
    // looks like a header. Go skips it; read as size 0, that block would pass for an entry.
    const sizeField = Buffer.from('\0\0\0\0\0\0\0\0' + '1000', 'latin1');
    const pad = header({ name: 'e/pad', flag: '0' });
    sizeField.copy(pad, 124);
    pad.fill(0x20, 148, 156);
    let sum = 0;
    for (const v of pad) sum += v;
    pad.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    const archive = Buffer.concat([pad, header({ name: 'e/cover', flag: '0' }), rawTar([{ name: 'e/evil', type: 'symlink', linkname: '/nonexistent' }])]);
    expect((await collect(archive)).map((e) => e.name)).toEqual(['e/pad', 'e/evil']);
  });

  it('refuses what Go refuses: a negative size, a PAX size or id that is not a number in range, and contents cut short', async () => {
    const neg = header({ name: 'n', flag: '0' });
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00]).copy(neg, 124);
    neg.fill(0x20, 148, 156);
    let sum = 0;
    for (const v of neg) sum += v;
    neg.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    await expect(collect(Buffer.concat([neg, Buffer.alloc(1024)]))).rejects.toThrow(/a negative size/);
    await expect(collect(rawTar([{ name: 'a', pax: { size: '-1024' } }]))).rejects.toThrow(/a negative size/);
    await expect(collect(rawTar([{ name: 'a', pax: { size: '100000000000000000000' } }]))).rejects.toThrow(/size=100000000000000000000 is not a number/);
    await expect(collect(rawTar([{ name: 'a', pax: { uid: 'x' } }]))).rejects.toThrow(/uid=x is not a number/);
    await expect(collect(rawTar([{ name: 'a', pax: { mtime: 'soon' } }]))).rejects.toThrow(/mtime=soon is not a time/);
    const cut = rawTar([{ name: 'big', content: Buffer.alloc(5000, 0x61) }, { name: 'after' }]).subarray(0, 512 + 3000);
    for (const read of [collect, collectFromFile]) await expect(read(cut)).rejects.toThrow(/ends inside the contents of 'big'/);
  });

  it('reads the same entries from a file (seeking past contents) as from a stream in any chunk size', async () => {
    const tar = rawTar([
      { name: 'a', content: Buffer.alloc(20_000, 1) },
      { name: long, long: 'pax', content: 'x'.repeat(513) },
      { name: long + 'g', long: 'gnu', content: 'y'.repeat(511) },
      { name: 'l', type: 'link', linkname: 'a' },
      ...Array.from({ length: 200 }, (_, i): TarSpec => ({ name: `many/${i}`, content: 'z'.repeat(i * 7) })),
    ]);
    const fromFile = await collectFromFile(tar);
    expect(fromFile).toHaveLength(204);
    for (const chunk of [3, 7, 511, 512, 4096, 1 << 20]) expect(await collect(tar, chunk)).toEqual(fromFile);
  });

  it('agrees with tar-stream (an independent reader) on an archive tar-stream wrote', async () => {
    const specs: TarSpec[] = [
      { name: 'dir/', type: 'dir', mode: 0o700, uid: 5, gid: 6 },
      { name: 'dir/file', content: 'content', mode: 0o640 },
      { name: 'dir/' + 'n'.repeat(150), content: 'long' },
      { name: 'dir/link', type: 'symlink', linkname: '../' + 't'.repeat(120) },
      { name: 'dir/hard', type: 'link', linkname: 'dir/file' },
      { name: 'dir/ü', content: 'utf8 name' },
    ];
    const tar = await packTar(specs);
    const ours = (await collect(tar)).map((e) => ({ name: Buffer.from(e.name, 'latin1').toString('utf8'), type: e.type, size: e.size, mode: e.mode, uid: e.uid, linkname: Buffer.from(e.linkname, 'latin1').toString('utf8') }));
    const theirs: typeof ours = [];
    const ex = extract();
    ex.end(tar);
    const TYPES: Record<string, string> = { directory: 'dir', file: 'file', symlink: 'symlink', link: 'link' };
    for await (const s of ex) {
      const h = s.header;
      theirs.push({ name: h.name, type: TYPES[h.type] as TarEntry['type'], size: h.type === 'file' ? h.size : 0, mode: h.mode, uid: h.uid, linkname: h.linkname ?? '' });
      s.resume();
    }
    expect(ours).toEqual(theirs);
    expect(ours).toHaveLength(specs.length);
  });
});
