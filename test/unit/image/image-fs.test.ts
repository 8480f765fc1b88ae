import * as nodeFs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from '../../../src/core/errors.js';
import { type FsPort, nodeFsPort } from '../../../src/core/fs-port.js';
import { imageFsPort } from '../../../src/image/image-fs.js';
import { mergeLayers, type TarSpec, tempDir } from './image-builder.js';

const specs: TarSpec[] = [
  { name: 'etc/', type: 'dir', mode: 0o755 },
  { name: 'etc/passwd', content: 'root:x:0:0', mode: 0o644, uid: 0, mtime: 100 },
  { name: 'usr/', type: 'dir' },
  { name: 'usr/lib/', type: 'dir' },
  { name: 'usr/lib/libc.so.6', content: 'elf', mode: 0o755 },
  { name: 'usr/lib/libc.so', type: 'symlink', linkname: 'libc.so.6' },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'chain1', type: 'symlink', linkname: 'chain2' },
  { name: 'chain2', type: 'symlink', linkname: 'usr/../lib/libc.so' },
  { name: 'dangling', type: 'symlink', linkname: 'nowhere/x' },
  { name: 'loop1', type: 'symlink', linkname: 'loop2' },
  { name: 'loop2', type: 'symlink', linkname: 'loop1' },
  { name: 'tofile', type: 'symlink', linkname: 'etc/passwd' },
  { name: 'z\xe9', content: 'latin1 name' },
  { name: 'Zeta', content: 'upper' },
  { name: 'dev/', type: 'dir' },
  { name: 'dev/null', type: 'char', mode: 0o666 },
  { name: 'hard', type: 'link', linkname: 'etc/passwd' },
];

/** Links only the image can resolve: absolute ones, and ones that climb past the root. */
const rooted: TarSpec[] = [
  { name: 'abs', type: 'symlink', linkname: '/usr/lib/libc.so' },
  { name: 'climb', type: 'symlink', linkname: '../../../../etc' },
  { name: 'usr/lib/up', type: 'symlink', linkname: '/../../usr' },
];

let fs: FsPort;
beforeAll(async () => {
  fs = imageFsPort((await mergeLayers(specs, rooted)).root);
});

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return errnoOf(err);
  }
  return 'no error';
};

describe('the image as a port', () => {
  it('lists a directory by byte order with kinds, through a symlinked directory too', () => {
    expect(fs.readdir('/').map((e) => `${e.name}:${e.kind}`)).toEqual([
      'Zeta:file',
      'abs:link',
      'chain1:link',
      'chain2:link',
      'climb:link',
      'dangling:link',
      'dev:dir',
      'etc:dir',
      'hard:file',
      'lib:link',
      'loop1:link',
      'loop2:link',
      'tofile:link',
      'usr:dir',
      'z\xe9:file',
    ]);
    expect(fs.readdir('/lib').map((e) => e.name)).toEqual(['libc.so', 'libc.so.6', 'up']);
    expect(fs.readdir('/dev')).toEqual([{ name: 'null', kind: 'other' }]);
  });

  it('lstats like lstat(2): type bits in the mode, one device, an inode per file shared by hard links, tar times', () => {
    const p = fs.lstat('/etc/passwd');
    expect(p).toEqual({ kind: 'file', dev: 1n, ino: p.ino, uid: 0, gid: 0, mode: 0o100644, mtimeNs: 100_000_000_000n, atimeNs: 100_000_000_000n });
    expect(fs.lstat('/hard').ino).toBe(p.ino);
    expect(fs.lstat('/lib')).toMatchObject({ kind: 'link', mode: 0o120777 });
    expect(fs.lstat('/dev/null')).toMatchObject({ kind: 'other', mode: 0o020666 });
    expect(fs.lstat('/etc').mode).toBe(0o040755);
    // A symlink on the way is followed; a trailing slash follows the last one too.
    expect(fs.lstat('/lib/libc.so.6').ino).toBe(fs.lstat('/usr/lib/libc.so.6').ino);
    expect(fs.lstat('/lib/').kind).toBe('dir');
    const inos = fs.readdir('/').map((e) => fs.lstat('/' + e.name).ino);
    expect(new Set(inos).size).toBe(inos.length);
  });

  it('kind follows nothing and answers undefined for a missing name only', () => {
    expect(fs.kind('/lib')).toBe('link');
    expect(fs.kind('/lib/libc.so')).toBe('link');
    expect(fs.kind('/nope')).toBeUndefined();
    expect(fs.kind('/dangling')).toBe('link');
    expect(codeOf(() => fs.kind('/etc/passwd/x'))).toBe('ENOTDIR');
    expect(codeOf(() => fs.kind('/loop1/x'))).toBe('ELOOP');
  });

  it('readlink gives the text; EINVAL for what is not a link', () => {
    expect(fs.readlink('/chain2')).toBe('usr/../lib/libc.so');
    expect(fs.readlink('/lib/libc.so')).toBe('libc.so.6');
    expect(codeOf(() => fs.readlink('/etc'))).toBe('EINVAL');
    expect(codeOf(() => fs.readlink('/nope'))).toBe('ENOENT');
  });

  it('realpath resolves inside the image: absolute text from its root, .. stopping there', () => {
    expect(fs.realpath('/abs')).toBe('/usr/lib/libc.so.6');
    expect(fs.realpath('/climb')).toBe('/etc');
    expect(fs.realpath('/lib/up/lib')).toBe('/usr/lib');
    expect(fs.realpath('/')).toBe('/');
    expect(fs.realpath('/../..')).toBe('/');
    expect(codeOf(() => fs.realpath('/loop1'))).toBe('ELOOP');
    expect(codeOf(() => fs.realpath('/dangling'))).toBe('ENOENT');
    expect(codeOf(() => fs.realpath('/etc/passwd/..'))).toBe('ENOTDIR');
  });

  it('throws errors shaped like node:fs ones', () => {
    let err: (Error & { code?: string; syscall?: string; path?: string }) | undefined;
    try {
      fs.lstat('/etc/nope');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toMatchObject({ code: 'ENOENT', syscall: 'lstat', path: '/etc/nope', message: "ENOENT: no such file or directory, lstat '/etc/nope'" });
    expect(codeOf(() => fs.readdir('/etc/passwd'))).toBe('ENOTDIR');
  });

  it('is read-only: every write is EROFS and the tree is unchanged', () => {
    const before = fs.readdir('/');
    expect(fs.real).toBe(false);
    expect(codeOf(() => fs.symlink('x', '/new'))).toBe('EROFS');
    expect(codeOf(() => fs.rename('/lib', '/lib2'))).toBe('EROFS');
    expect(codeOf(() => fs.unlink('/lib'))).toBe('EROFS');
    expect(codeOf(() => fs.lchown('/lib', 1, 1))).toBe('EROFS');
    expect(codeOf(() => fs.lutimes('/lib', 0n, 0n))).toBe('EROFS');
    expect(fs.readdir('/')).toEqual(before);
  });
});

describe('against the kernel, on the same tree unpacked to a real disk', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const base = tmp.dir;
  const b = (p: string): Buffer => Buffer.from(base + p, 'latin1');
  for (const s of specs) {
    const p = '/' + s.name.replace(/\/$/, '');
    if (s.type === 'dir') nodeFs.mkdirSync(b(p), { recursive: true });
    else if (s.type === 'symlink') nodeFs.symlinkSync(s.linkname!, b(p));
    else if (s.type === 'link') nodeFs.linkSync(b('/' + s.linkname!), b(p));
    else if (s.type !== 'char') nodeFs.writeFileSync(b(p), s.content ?? '');
  }
  const disk = nodeFsPort();
  const queries = ['/', '/lib', '/lib/', '/lib/libc.so', '/chain1', '/chain2', '/dangling', '/loop1', '/loop1/x', '/tofile', '/tofile/', '/etc/passwd/..', '/lib/../etc', '/usr/lib/../../lib', '/z\xe9', '/nope', '/hard'];
  const ask = (port: FsPort, strip: string) => (q: string) => {
    const one = (f: () => unknown): unknown => {
      try {
        const v = f();
        return typeof v === 'string' && v.startsWith(strip) ? v.slice(strip.length) || '/' : v;
      } catch (err) {
        return errnoOf(err);
      }
    };
    return { q, realpath: one(() => port.realpath(strip === '' ? q : base + q)), kind: one(() => port.kind(strip === '' ? q : base + q)) };
  };

  it('realpath and kind agree for relative links that stay inside (positive control: a difference is seen)', async () => {
    const ours = queries.map(ask(fs, ''));
    const kernel = queries.map(ask(disk, base));
    expect(ours).toEqual(kernel);
    expect(ours.find((r) => r.q === '/chain1')!.realpath).toBe('/usr/lib/libc.so.6');
    // An absolute link, read inside the image, is read from the host by the kernel: they differ.
    nodeFs.symlinkSync('/usr', b('/hostabs'));
    const imageOnly = imageFsPort((await mergeLayers([...specs, { name: 'hostabs', type: 'symlink', linkname: '/usr' }])).root);
    expect(imageOnly.realpath('/hostabs')).toBe('/usr');
    expect(disk.realpath(base + '/hostabs')).not.toBe(base + '/usr');
  });

  it('readdir agrees (names and kinds, in byte order)', () => {
    for (const d of ['/', '/usr/lib', '/lib']) {
      const kernel = disk.readdir(base + d).filter((e) => !['hostabs', 'dev'].includes(e.name)).sort((x, y) => (x.name < y.name ? -1 : 1));
      const ours = fs.readdir(d).filter((e) => !['abs', 'climb', 'up', 'dev'].includes(e.name));
      expect(ours, d).toEqual(kernel);
    }
  });
});
