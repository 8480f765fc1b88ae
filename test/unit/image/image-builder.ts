/**
 * Synthetic images for the tests of src/image/: tar archives written byte for byte (any name
 * bytes, PAX or GNU long names, raw headers), the same through tar-stream's pack, zstd frames
 * made of raw blocks (Node 20 has no zstd encoder), and OCI layouts, OCI archives, `docker save`
 * archives (legacy and docker 25's OCI form) and root file system tars built from them.
 */
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { toDisplay } from '../../../src/core/bytes.js';
import type { FsPort } from '../../../src/core/fs-port.js';
import { chunkSource } from '../../../src/image/byte-source.js';
import { readLayerOps } from '../../../src/image/layer-entries.js';
import { MergedTree } from '../../../src/image/merge.js';

type SpecType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'fifo';

/** One tar entry to write. Names and link texts are byte strings. */
export interface TarSpec {
  name: string;
  type?: SpecType;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds. */
  mtime?: number;
  content?: string | Buffer;
  /** How a name (or link text) over 100 bytes is written; PAX records are written whenever `pax` is given. */
  long?: 'pax' | 'gnu' | 'prefix';
  /** Extra PAX records (values as byte strings). */
  pax?: Record<string, string>;
  /** The size field written, when it must differ from the content's length. */
  sizeField?: number;
}

const FLAG: Record<SpecType, string> = { file: '0', dir: '5', symlink: '2', link: '1', char: '3', fifo: '6' };

function octal(buf: Buffer, at: number, len: number, v: number): void {
  buf.write(v.toString(8).padStart(len - 1, '0') + '\0', at, len, 'latin1');
}

/** One raw 512-byte header; `name` and `linkname` must fit their fields. */
export function header(h: { name: string; flag: string; linkname?: string; mode?: number; uid?: number; gid?: number; size?: number; mtime?: number; prefix?: string; magic?: 'ustar' | 'gnu' | 'v7' }): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'latin1');
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, h.size ?? 0);
  octal(b, 136, 12, h.mtime ?? 1_700_000_000);
  b.write(h.flag, 156, 1, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'latin1');
  if (h.magic !== 'v7') b.write(h.magic === 'gnu' ? 'ustar  \0' : 'ustar\u000000', 257, 8, 'latin1');
  if (h.prefix) b.write(h.prefix, 345, 155, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const v of b) sum += v;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

const padded = (data: Buffer): Buffer[] => [data, Buffer.alloc((512 - (data.length % 512)) % 512)];

function paxRecords(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = Buffer.from(` ${k}=${v}\n`, 'latin1');
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len), 'latin1'), body]));
  }
  return Buffer.concat(parts);
}

/** The headers (and records before them) for one entry. */
function entryBlocks(e: TarSpec): Buffer[] {
  const type = e.type ?? 'file';
  const content = typeof e.content === 'string' ? Buffer.from(e.content, 'latin1') : (e.content ?? Buffer.alloc(0));
  const out: Buffer[] = [];
  let name = e.name;
  let prefix: string | undefined;
  let linkname = e.linkname ?? '';
  const pax: Record<string, string> = { ...e.pax };
  if (name.length > 100 && e.long === 'prefix') {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  } else if (name.length > 100 || linkname.length > 100) {
    if (e.long === 'gnu') {
      if (name.length > 100) out.push(header({ name: '././@LongLink', flag: 'L', size: name.length + 1, magic: 'gnu' }), ...padded(Buffer.from(name + '\0', 'latin1')));
      if (linkname.length > 100) out.push(header({ name: '././@LongLink', flag: 'K', size: linkname.length + 1, magic: 'gnu' }), ...padded(Buffer.from(linkname + '\0', 'latin1')));
    } else {
      if (name.length > 100) pax['path'] = name;
      if (linkname.length > 100) pax['linkpath'] = linkname;
    }
    name = name.slice(0, 100);
    linkname = linkname.slice(0, 100);
  }
  if (Object.keys(pax).length > 0) {
    const rec = paxRecords(pax);
    out.push(header({ name: 'PaxHeaders/x', flag: 'x', size: rec.length }), ...padded(rec));
  }
  const magic = e.long === 'gnu' ? 'gnu' : 'ustar';
  const size = e.sizeField ?? content.length;
  out.push(header({ name, flag: FLAG[type], linkname, mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), uid: e.uid, gid: e.gid, size, mtime: e.mtime, prefix, magic }));
  if (content.length > 0) out.push(...padded(content));
  return out;
}

/** A tar archive, written byte for byte. */
export function rawTar(entries: TarSpec[]): Buffer {
  return Buffer.concat([...entries.flatMap(entryBlocks), Buffer.alloc(1024)]);
}

/** The same entries (UTF-8 names only) through tar-stream's pack, an independent writer. */
export async function packTar(entries: TarSpec[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    const content = typeof e.content === 'string' ? Buffer.from(e.content, 'latin1') : e.content;
    const type = e.type === 'dir' ? 'directory' : e.type === 'char' ? 'character-device' : (e.type ?? 'file');
    const h = { name: Buffer.from(e.name, 'latin1').toString('utf8'), type, mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date((e.mtime ?? 1_700_000_000) * 1000) } as const;
    const linkname = e.linkname === undefined ? undefined : Buffer.from(e.linkname, 'latin1').toString('utf8');
    p.entry(linkname === undefined ? h : { ...h, linkname }, content ?? Buffer.alloc(0));
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A zstd frame holding `data` in raw (stored) blocks: valid Zstandard (RFC 8878) that any decoder
 * must read, written without an encoder. Compressed blocks are covered by the committed fixture.
 */
export function zstdRaw(data: Buffer, blockSize = 128 * 1024): Buffer {
  // Frame header: no content size, not single-segment, no checksum, no dictionary; window 2^17.
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])];
  let at = 0;
  do {
    const n = Math.min(blockSize, data.length - at);
    const last = at + n >= data.length ? 1 : 0;
    const bh = last | (0 << 1) | (n << 3);
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]), data.subarray(at, at + n));
    at += n;
  } while (at < data.length);
  return Buffer.concat(parts);
}

/** A zstd frame of `blocks` RLE blocks of 128 KiB of `byte`: 4 bytes each, the most a zstd byte can expand. */
export function zstdRle(byte: number, blocks: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3])];
  for (let i = 0; i < blocks; i++) {
    const bh = (i === blocks - 1 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3);
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff, byte]));
  }
  return Buffer.concat(parts);
}

export type Compress = 'gzip' | 'zstd' | 'none';
export const compress = (tar: Buffer, how: Compress): Buffer => (how === 'gzip' ? gzipSync(tar) : how === 'zstd' ? zstdRaw(tar) : tar);

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
const hexOf = (digest: string): string => digest.slice('sha256:'.length);

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-image-')));
  return { dir, cleanup: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
}

/** One image of a layout: its layer blobs (as stored: compressed or not), in order. */
export interface ImageSpec {
  layers: Buffer[];
  refName?: string;
  platform?: { os: string; architecture: string; variant?: string };
  /** Extra descriptor annotations (buildkit's attestation marker, say). */
  annotations?: Record<string, string>;
}

/** An OCI layout as files: path -> bytes. `nested` puts the images in an index of their own, annotated with `nestedRef`. */
export function ociLayoutFiles(images: ImageSpec[], opts: { nested?: boolean; nestedRef?: string } = {}): { files: Map<string, Buffer>; manifests: string[]; configs: string[] } {
  const files = new Map<string, Buffer>([['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')]]);
  const blob = (b: Buffer): string => {
    const d = sha256(b);
    files.set(`blobs/sha256/${hexOf(d)}`, b);
    return d;
  };
  const descriptors: object[] = [];
  const manifests: string[] = [];
  const configs: string[] = [];
  for (const [i, img] of images.entries()) {
    const config = Buffer.from(JSON.stringify({ architecture: img.platform?.architecture ?? 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: i }));
    const cfg = blob(config);
    configs.push(cfg);
    const layers = img.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: blob(l), size: l.length }));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: config.length }, layers }));
    const md = blob(m);
    manifests.push(md);
    const annotations = { ...(img.refName ? { 'org.opencontainers.image.ref.name': img.refName } : {}), ...img.annotations };
    descriptors.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: m.length, ...(img.platform ? { platform: img.platform } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) });
  }
  let top = descriptors;
  if (opts.nested) {
    const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: descriptors }));
    top = [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: blob(inner), size: inner.length, ...(opts.nestedRef ? { annotations: { 'org.opencontainers.image.ref.name': opts.nestedRef } } : {}) }];
  }
  files.set('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: top })));
  return { files, manifests, configs };
}

export function writeFiles(dir: string, files: Map<string, Buffer>): string {
  for (const [p, b] of files) {
    nodeFs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    nodeFs.writeFileSync(path.join(dir, p), b);
  }
  return dir;
}

/** Files as an uncompressed tar, with directory entries; `prefix` './' as some tools write. */
export function filesTar(files: Map<string, Buffer>, opts: { prefix?: string; extra?: TarSpec[] } = {}): Buffer {
  const dirs = new Set<string>();
  for (const p of files.keys()) for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const pre = opts.prefix ?? '';
  const entries: TarSpec[] = [...[...dirs].sort().map((d) => ({ name: pre + d + '/', type: 'dir' as const }))];
  for (const [p, b] of files) entries.push({ name: pre + p, content: b });
  return rawTar([...entries, ...(opts.extra ?? [])]);
}

/** The docker 25+ `docker save` form: an OCI layout plus manifest.json with RepoTags. */
export function dockerOciFiles(image: ImageSpec, repoTags: string[]): Map<string, Buffer> {
  const { files, configs } = ociLayoutFiles([{ ...image, annotations: { 'io.containerd.image.name': 'docker.io/library/' + repoTags[0], ...image.annotations } }]);
  const layers = image.layers.map((l) => `blobs/sha256/${hexOf(sha256(l))}`);
  files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${hexOf(configs[0]!)}`, RepoTags: repoTags, Layers: layers }])));
  return files;
}

/**
 * A legacy `docker save` archive (docker before 25): `<id>/layer.tar` per layer, uncompressed.
 * `linkRepeats` writes a layer equal to an earlier one as a symlink (`../<id>/layer.tar`, as
 * docker does) or a hard link to it instead of a second copy.
 */
export function dockerLegacyTar(images: Array<{ layers: Buffer[]; repoTags: string[] }>, opts: { linkRepeats?: 'symlink' | 'link' } = {}): Buffer {
  const entries: TarSpec[] = [];
  const manifest: object[] = [];
  const written = new Map<string, string>();
  for (const [n, img] of images.entries()) {
    const config = Buffer.from(JSON.stringify({ os: 'linux', n }));
    entries.push({ name: `${hexOf(sha256(config))}.json`, content: config });
    const paths = img.layers.map((l, i) => {
      const id = hexOf(sha256(`${n}/${i}/${sha256(l)}`));
      const earlier = written.get(sha256(l));
      entries.push({ name: `${id}/`, type: 'dir' }, { name: `${id}/VERSION`, content: '1.0' });
      if (earlier && opts.linkRepeats === 'symlink') entries.push({ name: `${id}/layer.tar`, type: 'symlink', linkname: `../${earlier}` });
      else if (earlier && opts.linkRepeats === 'link') entries.push({ name: `${id}/layer.tar`, type: 'link', linkname: earlier });
      else entries.push({ name: `${id}/layer.tar`, content: l });
      if (!earlier) written.set(sha256(l), `${id}/layer.tar`);
      return `${id}/layer.tar`;
    });
    manifest.push({ Config: `${hexOf(sha256(config))}.json`, RepoTags: img.repoTags, Layers: paths });
  }
  entries.push({ name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) }, { name: 'repositories', content: '{}' });
  return rawTar(entries);
}

/**
 * The merged tree as lines, walked through the port in byte order: path, kind, mode, owner,
 * times, inode, link text and (given `layerOf`) the layer. With `renumber`, inodes are numbered by
 * first sight, so two trees built in a different order compare equal when their links agree.
 */
export function dumpTree(fs: FsPort, opts: { layerOf?: (p: string) => number | undefined; renumber?: boolean } = {}): string[] {
  const out: string[] = [];
  const inos = new Map<bigint, number>();
  const visit = (p: string): void => {
    const s = fs.lstat(p);
    const ino = opts.renumber ? (inos.get(s.ino) ?? inos.set(s.ino, inos.size + 1).get(s.ino)!) : s.ino;
    const text = s.kind === 'link' ? ` -> ${toDisplay(fs.readlink(p))}` : '';
    const layer = opts.layerOf ? ` L${opts.layerOf(p)}` : '';
    out.push(`${toDisplay(p)} ${s.kind} ${s.mode.toString(8)} ${s.uid}:${s.gid} m${s.mtimeNs} a${s.atimeNs} i${ino}${text}${layer}`);
    if (s.kind === 'dir') for (const e of fs.readdir(p)) visit((p === '/' ? '' : p) + '/' + e.name);
  };
  visit('/');
  return out;
}

/**
 * The layer inside fixtures/layer.tar.zst: text that compresses (so zstd writes Huffman and FSE
 * blocks) and bytes that do not, in two frames. Made once by:
 *   zstd -19 --check part1 part2 (the tar cut at byte 30001), cat part1.zst part2.zst
 * The test that reads the fixture rebuilds this tar and compares, byte for byte.
 */
export function zstdFixtureTar(): Buffer {
  let seed = 12345;
  const noise = Buffer.alloc(20_000);
  for (let i = 0; i < noise.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    noise[i] = seed >>> 24;
  }
  return rawTar([
    { name: 'etc/', type: 'dir' },
    { name: 'etc/motd', content: 'the quick brown fox jumps over the lazy dog\n'.repeat(400) },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/busybox', content: noise, mode: 0o755 },
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'etc/.wh.old', content: '' },
  ]);
}

/** Where the tar of zstdFixtureTar is cut into two frames. */
export const FIXTURE_CUT = 30001;

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** The layers (lowest first), each written as a tar and read back, merged. */
export async function mergeLayers(...layers: TarSpec[][]): Promise<MergedTree> {
  const tree = new MergedTree();
  for (const [i, l] of layers.entries()) tree.apply(i, `layer ${i}`, await readLayerOps(chunkSource(once(rawTar(l))), `layer ${i}`));
  return tree;
}
