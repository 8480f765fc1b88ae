import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import type { FsPort } from '../../../src/core/fs-port.js';
import { ImageError } from '../../../src/image/image-error.js';
import { type ImageTree, openImage } from '../../../src/image/open-image.js';
import {
  compress,
  dockerLegacyTar,
  dockerOciFiles,
  dumpTree,
  filesTar,
  ociLayoutFiles,
  rawTar,
  sha256,
  type TarSpec,
  tempDir,
  writeFiles,
  zstdRaw,
} from './image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const place = (name: string, bytes?: Buffer): string => {
  const p = path.join(tmp.dir, `${n++}-${name}`);
  if (bytes) nodeFs.writeFileSync(p, bytes);
  return p;
};

const LONG_PAX = 'usr/share/' + 'p'.repeat(120);
const LONG_GNU = 'usr/share/' + 'g'.repeat(120);
const NON_UTF8 = 'var/caf\xe9';
const NON_UTF8_PAX = 'var/' + '\xff'.repeat(110);

/** One image exercising every rule of layer.md, plus every ambiguity kind. */
const LAYERS: TarSpec[][] = [
  [
    { name: './', type: 'dir', mode: 0o755 },
    { name: './etc/', type: 'dir' },
    { name: './etc/passwd', content: 'root:x:0:0', mtime: 1000 },
    { name: './etc/old.conf', content: 'old' },
    { name: './etc/app/', type: 'dir' },
    { name: './etc/app/a.conf', content: 'a' },
    { name: './etc/app/b.conf', content: 'b' },
    { name: './usr/', type: 'dir' },
    { name: './usr/lib/', type: 'dir' },
    { name: './usr/lib/libc.so.6', content: 'elf', mode: 0o755 },
    { name: './lib', type: 'symlink', linkname: 'usr/lib' },
    { name: './bin/', type: 'dir' },
    { name: './bin/busybox', content: 'bb', mode: 0o4755, uid: 0 },
    { name: './bin/sh', type: 'link', linkname: './bin/busybox' },
    { name: './bin/ls', type: 'symlink', linkname: 'busybox' },
    { name: './usr/share/', type: 'dir' },
    { name: LONG_PAX, long: 'pax', content: 'pax long', pax: { mtime: '1700000000.123456789', atime: '1700000001.5' } },
    { name: LONG_GNU, long: 'gnu', content: 'gnu long' },
    { name: './var/', type: 'dir', mode: 0o700 },
    { name: NON_UTF8, content: 'latin1 name' },
    { name: NON_UTF8_PAX, long: 'pax', content: 'raw bytes in a PAX path' },
    { name: './opt/tree/deep/', type: 'dir' },
    { name: './opt/tree/deep/x', content: 'x' },
  ],
  [
    { name: 'etc/.wh.old.conf' },
    { name: 'etc/app/.wh..wh..opq' },
    { name: 'etc/app/c.conf', content: 'c' },
    { name: 'lib/libextra.so', content: 'through the lib link' },
    { name: 'bin/ash', type: 'link', linkname: 'bin/busybox' },
    { name: 'var/', type: 'dir', mode: 0o755, uid: 1, gid: 2 },
    { name: 'opt/tree', content: 'a file where a directory was' },
    { name: 'dev/null', type: 'char', mode: 0o666 },
  ],
  [
    { name: 'lib/.wh.libextra.so' },
    { name: 'bin/sh2', type: 'link', linkname: 'bin/ls' },
    { name: 'new/deep/file', content: 'missing parents' },
    { name: 'etc/passwd', content: 'root:x:0:0:changed', mtime: 2000 },
  ],
];
const TARS = LAYERS.map(rawTar);

const withLayers = (tree: ImageTree): string[] => dumpTree(tree.fs, { layerOf: tree.layerOf });
const ambiguities = (tree: ImageTree): string[] => tree.ambiguities.map((a) => `${a.kind} ${a.path} ${a.lower}->${a.upper}`);

/** Every path of the merged tree, walked through the port. */
function paths(fs: FsPort, dir = '/'): string[] {
  return fs.readdir(dir).flatMap((e) => {
    const p = (dir === '/' ? '' : dir) + '/' + e.name;
    return e.kind === 'dir' ? [p, ...paths(fs, p)] : [p];
  });
}

/** The merged tree written back out as one root file system tar (hard links as links to the first name). */
function exportRootfs(fs: FsPort): Buffer {
  const first = new Map<bigint, string>();
  const entries: TarSpec[] = [{ name: './', type: 'dir', mode: fs.lstat('/').mode & 0o7777 }];
  for (const p of paths(fs)) {
    const s = fs.lstat(p);
    const base = { name: p.slice(1), mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: Number(s.mtimeNs / 1_000_000_000n), long: 'pax' as const };
    const pax = s.mtimeNs % 1_000_000_000n !== 0n || s.atimeNs !== s.mtimeNs ? { pax: { mtime: fmt(s.mtimeNs), atime: fmt(s.atimeNs) } } : {};
    const seen = s.kind !== 'dir' ? first.get(s.ino) : undefined;
    if (seen !== undefined) entries.push({ ...base, type: 'link', linkname: seen.slice(1) });
    else if (s.kind === 'dir') entries.push({ ...base, type: 'dir', ...pax });
    else if (s.kind === 'link') entries.push({ ...base, type: 'symlink', linkname: fs.readlink(p), ...pax });
    else entries.push({ ...base, type: s.kind === 'other' ? 'char' : 'file', ...pax });
    if (s.kind !== 'dir' && seen === undefined) first.set(s.ino, p);
  }
  return rawTar(entries);
}
const fmt = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;

describe('one image in every input format', () => {
  const oci = ociLayoutFiles([{ layers: [compress(TARS[0]!, 'gzip'), compress(TARS[1]!, 'zstd'), TARS[2]!], refName: 'v1' }]);
  const layoutDir = writeFiles(place('layout'), oci.files);

  it('an OCI layout directory: the merged tree, as the spec applies the layers', async () => {
    const tree = await openImage(layoutDir);
    expect(tree).toMatchObject({ kind: 'oci-layout', manifest: oci.manifests[0], ref: 'v1' });
    expect(tree.layers).toEqual([
      // The builder's config lists no diff IDs: the layers have none.
      { index: 0, digest: sha256(compress(TARS[0]!, 'gzip')), diffId: null, compression: 'gzip' },
      { index: 1, digest: sha256(compress(TARS[1]!, 'zstd')), diffId: null, compression: 'zstd' },
      { index: 2, digest: sha256(TARS[2]!), diffId: null, compression: 'none' },
    ]);
    const fs = tree.fs;
    expect(paths(fs)).toEqual([
      '/bin',
      '/bin/ash',
      '/bin/busybox',
      '/bin/ls',
      '/bin/sh',
      '/bin/sh2',
      '/dev',
      '/dev/null',
      '/etc',
      '/etc/app',
      '/etc/app/c.conf',
      '/etc/passwd',
      '/lib',
      '/new',
      '/new/deep',
      '/new/deep/file',
      '/opt',
      '/opt/tree',
      '/usr',
      '/usr/lib',
      '/usr/lib/libc.so.6',
      '/usr/share',
      '/' + LONG_GNU,
      '/' + LONG_PAX,
      '/var',
      '/' + NON_UTF8,
      '/' + NON_UTF8_PAX,
    ]);
    const ino = (p: string): bigint => fs.lstat(p).ino;
    expect([ino('/bin/sh'), ino('/bin/ash')]).toEqual([ino('/bin/busybox'), ino('/bin/busybox')]);
    expect(fs.readlink('/bin/sh2')).toBe('busybox');
    expect(ino('/bin/sh2')).toBe(ino('/bin/ls'));
    expect(fs.lstat('/' + LONG_PAX)).toMatchObject({ mtimeNs: 1_700_000_000_123_456_789n, atimeNs: 1_700_000_001_500_000_000n });
    expect(fs.lstat('/var')).toMatchObject({ mode: 0o040755, uid: 1, gid: 2 });
    expect(fs.lstat('/etc/passwd').mtimeNs).toBe(2_000_000_000_000n);
    expect(['/etc/passwd', '/etc/app/c.conf', '/usr/lib/libc.so.6', '/new/deep', '/', '/nope'].map((p) => tree.layerOf(p))).toEqual([2, 1, 0, 2, 0, undefined]);
    expect(ambiguities(tree)).toEqual(['cross-layer-hardlink /bin/ash 0->1', 'entry-through-symlink /lib/libextra.so 0->1', 'cross-layer-hardlink /bin/sh2 0->2', 'whiteout-through-symlink /lib/libextra.so 0->2']);
  });

  it('an OCI archive (the layout in a tar, ./ names, a blob reached through a hard link and one through a symlink), the same tree', async () => {
    const files = new Map(oci.files);
    const moved = [...files.keys()].filter((k) => k.startsWith('blobs/')).slice(0, 2);
    const extra: TarSpec[] = [
      { name: './stash/one', content: files.get(moved[0]!)! },
      { name: './' + moved[0], type: 'link', linkname: './stash/one' },
      { name: './stash/two', content: files.get(moved[1]!)! },
      { name: './' + moved[1], type: 'symlink', linkname: '../../stash/two' },
    ];
    for (const m of moved) files.delete(m);
    const archive = place('oci.tar', filesTar(files, { prefix: './', extra }));
    const [a, b] = await Promise.all([openImage(archive), openImage(layoutDir)]);
    expect(a.kind).toBe('oci-archive');
    expect(withLayers(a)).toEqual(withLayers(b));
    expect(a.layers).toEqual(b.layers);
    expect(a.ambiguities).toEqual(b.ambiguities);
  });

  it('a docker 25+ archive (OCI layout plus manifest.json): read through index.json, RepoTags as names, the same tree', async () => {
    const image = { layers: [compress(TARS[0]!, 'gzip'), compress(TARS[1]!, 'zstd'), TARS[2]!], refName: 'v1' };
    const archive = place('docker25.tar', filesTar(dockerOciFiles(image, ['app:1.0'])));
    const [a, b] = await Promise.all([openImage(archive, { ref: 'app:1.0' }), openImage(layoutDir)]);
    expect(a).toMatchObject({ kind: 'docker-archive', manifest: b.manifest, ref: 'app:1.0' });
    expect((await openImage(archive)).ref).toBe('v1');
    expect(withLayers(a)).toEqual(withLayers(b));
  });

  it('a legacy docker archive (<id>/layer.tar, uncompressed): the same tree, no manifest digest', async () => {
    const archive = place('docker.tar', dockerLegacyTar([{ layers: TARS, repoTags: ['app:1.0'] }]));
    const [a, b] = await Promise.all([openImage(archive), openImage(layoutDir)]);
    expect(a).toMatchObject({ kind: 'docker-archive', manifest: null, ref: 'app:1.0' });
    expect(a.layers.map((l) => [l.digest, l.compression])).toEqual([
      [null, 'none'],
      [null, 'none'],
      [null, 'none'],
    ]);
    expect(withLayers(a)).toEqual(withLayers(b));
    expect(ambiguities(a)).toEqual(ambiguities(b));
  });

  it('a root file system tar of the merged tree, plain, gzip or zstd: the same tree again (one layer)', async () => {
    const merged = await openImage(layoutDir);
    const rootfs = exportRootfs(merged.fs);
    const want = dumpTree(merged.fs, { renumber: true });
    for (const how of ['none', 'gzip', 'zstd'] as const) {
      const tree = await openImage(place(`rootfs.tar.${how}`, compress(rootfs, how)));
      expect(tree).toMatchObject({ kind: 'rootfs-tar', manifest: null, ref: null, layers: [{ index: 0, digest: null, compression: how }], ambiguities: [] });
      expect(dumpTree(tree.fs, { renumber: true }), how).toEqual(want);
    }
  });

  it('never writes its input', async () => {
    const archive = place('docker-ro.tar', dockerLegacyTar([{ layers: TARS, repoTags: ['app:1.0'] }]));
    const snapshot = (p: string): string[] =>
      nodeFs.statSync(p).isDirectory()
        ? nodeFs.readdirSync(p, { recursive: true, encoding: 'utf8' }).sort().flatMap((f) => snapshot(path.join(p, f)))
        : [`${p} ${createHash('sha256').update(nodeFs.readFileSync(p)).digest('hex')} ${nodeFs.statSync(p).mtimeMs} ${nodeFs.statSync(p).mode}`];
    const before = [...snapshot(archive), ...snapshot(layoutDir)];
    await openImage(archive);
    await openImage(layoutDir);
    expect([...snapshot(archive), ...snapshot(layoutDir)]).toEqual(before);
    expect(before.length).toBeGreaterThan(5);
  });
});

describe('docker archives whose layer.tar is a link in the outer tar', () => {
  const base = rawTar([{ name: 'etc/', type: 'dir' }, { name: 'etc/os-release', content: 'ID=test' }]);
  const images = [
    { layers: [base, rawTar([{ name: 'a', content: 'A' }])], repoTags: ['a:1'] },
    { layers: [base, rawTar([{ name: 'b', content: 'B' }])], repoTags: ['b:1'] },
  ];

  it.each(['symlink', 'link'] as const)('a repeated layer written as a %s reads as the layer it names', async (how) => {
    const linked = place(`linked-${how}.tar`, dockerLegacyTar(images, { linkRepeats: how }));
    const copied = place(`copied-${how}.tar`, dockerLegacyTar(images));
    expect(nodeFs.statSync(linked).size).toBeLessThan(nodeFs.statSync(copied).size);
    const [a, b] = await Promise.all([openImage(linked, { ref: 'b:1' }), openImage(copied, { ref: 'b:1' })]);
    expect(paths(a.fs)).toEqual(['/b', '/etc', '/etc/os-release']);
    expect(withLayers(a)).toEqual(withLayers(b));
  });

  it('with two images and no ref: a UsageError naming both by RepoTag', async () => {
    const archive = place('two.tar', dockerLegacyTar(images));
    await expect(openImage(archive)).rejects.toThrow(/^the image has 2 manifests: a:1 sha256:[0-9a-f]{12}, b:1 sha256:[0-9a-f]{12}; pick one with --image-ref$/);
  });
});

describe('choosing among several images (--image-ref)', () => {
  const layer = (name: string): Buffer => rawTar([{ name, content: name }]);
  const multi = ociLayoutFiles([
    { layers: [layer('one')], refName: 'one' },
    { layers: [gzipSync(layer('two'))], refName: 'two' },
    { layers: [zstdRaw(layer('three'))], refName: 'three' },
  ]);
  const dir = writeFiles(place('multi'), multi.files);

  it('by name, by digest and by a digest prefix', async () => {
    expect(paths((await openImage(dir, { ref: 'two' })).fs)).toEqual(['/two']);
    expect(paths((await openImage(dir, { ref: multi.manifests[2]! })).fs)).toEqual(['/three']);
    const tree = await openImage(dir, { ref: multi.manifests[0]!.slice(0, 15) });
    expect(paths(tree.fs)).toEqual(['/one']);
    expect(tree).toMatchObject({ manifest: multi.manifests[0], ref: 'one' });
  });

  it('none given: a UsageError listing the three', async () => {
    const err = await openImage(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^the image has 3 manifests: one sha256:\w{12}, two sha256:\w{12}, three sha256:\w{12}; pick one with --image-ref$/);
  });

  it('a nested multi-platform index: one manifest per platform, chosen by platform', async () => {
    const nested = ociLayoutFiles(
      [
        { layers: [layer('amd64')], platform: { os: 'linux', architecture: 'amd64' } },
        { layers: [layer('arm64')], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
      { nested: true, nestedRef: 'latest' },
    );
    const d = writeFiles(place('nested'), nested.files);
    await expect(openImage(d)).rejects.toThrow(/^the image has 2 manifests: latest linux\/amd64 sha256:\w{12}, latest linux\/arm64\/v8 sha256:\w{12}; pick one with --image-ref$/);
    await expect(openImage(d, { ref: 'latest' })).rejects.toThrow(/--image-ref latest matches 2 manifests/);
    const arm = await openImage(d, { ref: 'linux/arm64/v8' });
    expect(paths(arm.fs)).toEqual(['/arm64']);
    expect(arm.manifest).toBe(nested.manifests[1]);
  });

  it('by platform from the image config when the index names none (as umoci and skopeo write it)', async () => {
    const img = ociLayoutFiles([{ layers: [rawTar([{ name: 'fine' }])] }]);
    const tree = await openImage(writeFiles(place('platform-in-config'), img.files), { ref: 'linux/amd64' });
    expect(tree.manifest).toBe(img.manifests[0]);
    await expect(openImage(writeFiles(place('platform-other'), img.files), { ref: 'linux/arm64' })).rejects.toThrow(/no manifest of the image matches --image-ref linux\/arm64/);
  });

  it('a root file system tar has nothing to choose from', async () => {
    await expect(openImage(place('plain.tar', layer('x')), { ref: 'x' })).rejects.toThrow(/is a root file system tar, with no manifests to choose from/);
  });
});

describe('what is not an image, or not a valid one', () => {
  it('a missing path, or a directory without oci-layout: a UsageError', async () => {
    await expect(openImage(path.join(tmp.dir, 'missing'))).rejects.toThrow(/cannot read the image .*ENOENT/);
    await expect(openImage(tmp.dir)).rejects.toThrow(/is a directory but not an OCI image layout .*: for an unpacked root file system, run linkcheck .* --root /);
  });

  it('a compressed image archive: told to decompress it (an archive is read by random access)', async () => {
    const files = ociLayoutFiles([{ layers: [TARS[2]!] }]).files;
    await expect(openImage(place('oci.tar.gz', gzipSync(filesTar(files))))).rejects.toThrow(/is a compressed image archive: decompress it first/);
  });

  it('an empty file, a pipe or a device: a UsageError, never an empty image that passes', async () => {
    await expect(openImage(place('empty', Buffer.alloc(0)))).rejects.toThrow(/empty-?\S* is empty: it is not an image/);
    await expect(openImage('/dev/null')).rejects.toThrow('/dev/null is neither a file nor a directory');
    const fifo = place('fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(openImage(fifo)).rejects.toThrow(/is neither a file nor a directory/);
  });

  it('a layer cut inside a file, and an archive cut inside a member: invalid, never a shorter tree that passes', async () => {
    const layer = rawTar([{ name: 'big', content: Buffer.alloc(50_000, 0x61) }, { name: 'z', type: 'symlink', linkname: '/nope' }]);
    const img = ociLayoutFiles([{ layers: [layer] }]);
    const blob = `blobs/sha256/${sha256(layer).slice(7)}`;
    img.files.set(blob, layer.subarray(0, 30_000));
    await expect(openImage(writeFiles(place('cut-layer'), img.files))).rejects.toThrow(/^invalid layer 0 \(sha256:\w+\): the archive ends inside the contents of 'big'/);
    const whole = filesTar(ociLayoutFiles([{ layers: [layer] }]).files);
    await expect(openImage(place('cut.tar', whole.subarray(0, whole.length - 3000)))).rejects.toThrow(ImageError);
  });

  it('a file that is not a tar', async () => {
    await expect(openImage(place('junk', Buffer.alloc(4096, 0x41)))).rejects.toThrow(ImageError);
  });

  it('an invalid layer: one line naming the layer by index and digest, and the entry', async () => {
    const bad = rawTar([{ name: 'ok', content: '' }, { name: 'x/../../etc/shadow', content: '' }]);
    const img = ociLayoutFiles([{ layers: [rawTar([{ name: 'fine' }]), gzipSync(bad)] }]);
    const err = await openImage(writeFiles(place('bad'), img.files)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    // This builder's configs list no diff IDs, so the blob's digest names the layer (see the next test).
    expect((err as Error).message).toBe(`invalid layer 1 (${sha256(gzipSync(bad))}): entry 'x/../../etc/shadow': a '..' component`);
  });

  it('layers are read several at a time, and the lowest invalid layer is the one reported even when a higher one fails first', async () => {
    // Layer 0 is slow to read (8 MiB of random content to inflate before its bad entry); layer 1
    // is invalid at once. Read side by side, layer 1 fails first; the error names layer 0.
    const slow = gzipSync(rawTar([{ name: 'big', content: randomBytes(8 << 20) }, { name: 'etc/.wh.' }]));
    const fast = gzipSync(rawTar([{ name: 'a/../b' }]));
    const img = ociLayoutFiles([{ layers: [slow, fast] }]);
    const err = await openImage(writeFiles(place('two-bad'), img.files)).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^invalid layer 0 \(sha256:\w+\): entry 'etc\/.wh.': a whiteout \('.wh.'\) with no name after it$/);
  });

  it('a layer blob the manifest names but the layout lacks', async () => {
    const img = ociLayoutFiles([{ layers: [TARS[2]!] }]);
    img.files.delete(`blobs/sha256/${sha256(TARS[2]!).slice(7)}`);
    await expect(openImage(writeFiles(place('lacking'), img.files))).rejects.toThrow(/the image names blobs\/sha256\/\w+, which is not there/);
  });
});
