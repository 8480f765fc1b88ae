/**
 * Container images for the `--image` tests, from a declarative description of their layers.
 *
 * `buildImage(spec)` writes each layer with the tar writer (tar.ts), gzips it, assembles an OCI
 * image layout (oci-layout, index.json with one manifest tagged `spec.name`, config, blobs), and
 * derives the other forms (`FormName`) with the real tools:
 * - 'oci-layout-zstd': the same image with zstd layers (`skopeo copy --dest-compress-format zstd`);
 * - 'oci-archive': an OCI archive (`skopeo copy ... oci-archive:`);
 * - 'docker-archive': the `docker save` form (`skopeo copy ... docker-archive:`; layers
 *   uncompressed, named by their diff ids, `<id>/layer.tar` symlinks to them);
 * - 'rootfs-tar': a plain root file system tar of the merged tree as `umoci unpack` makes it (GNU
 *   tar, sorted, mtime 0, owner 0, sparse files as PAX 1.0), absent when umoci refuses the image.
 *
 * Everything is cached under /var/cache/linkcheck-test-images (root; else the temp directory),
 * keyed by the description, the builder's own source and the tools' versions: a second run
 * finds it in milliseconds (a new key's build removes the name's entries under older keys). Each
 * entry records the digest of every form (`inputDigest`); a cached entry whose files no longer
 * match is rebuilt, and the tests compare against that record to prove linkcheck changed nothing.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { isRoot } from '../disk.js';
import { writeTar, type TarEntry } from './tar.js';
import { mustRun, tool, toolVersion } from './tools.js';

/** One entry of a layer. Paths are relative to the image root, written as given. */
type Entry =
  | { dir: string; mode?: number }
  | { file: string; data?: string; mode?: number }
  | { symlink: string; to: string }
  | { hardlink: string; to: string }
  /** A whiteout removing `whiteout` from the lower layers: an empty file `<dir>/.wh.<name>`. */
  | { whiteout: string }
  /** An opaque whiteout: `<opaque>/.wh..wh..opq`, hiding what lower layers have in that directory. */
  | { opaque: string }
  | { sparse: string; size: number; chunks: ReadonlyArray<readonly [number, string]>; format: 'gnu' | 'pax' };

interface LayerSpec {
  /** What the layer is for (the image's history entry). */
  note: string;
  entries: readonly Entry[];
  /** How names over 100 bytes are written (default PAX). */
  longNames?: 'pax' | 'gnu';
}

export interface ImageSpec {
  /** Lower case, [a-z0-9-]: a directory name and the image's tag. */
  name: string;
  layers: readonly LayerSpec[];
}

/** The forms an image comes in. */
export type FormName = 'oci-layout' | 'oci-layout-zstd' | 'oci-archive' | 'docker-archive' | 'rootfs-tar';
/** The four layered forms of one image: their reports must be byte-identical. */
export const LAYERED_FORMS: readonly FormName[] = ['oci-layout', 'oci-layout-zstd', 'oci-archive', 'docker-archive'];

export interface LayerDigests {
  /** sha256 of the uncompressed tar (the config's diff id; the docker archive's layer name). */
  diffId: string;
  gzip: string;
  zstd: string;
}

export interface BuiltImage {
  spec: ImageSpec;
  /** The cache entry's directory. */
  dir: string;
  /** The tag in index.json (the OCI archive's too). */
  ref: string;
  forms: Partial<Record<FormName, string>>;
  layers: LayerDigests[];
  /** inputDigest of each form when it was built. */
  digests: Partial<Record<FormName, string>>;
  /** Why umoci could not unpack it (no rootfs tar), or null. */
  umociError: string | null;
  /** Seconds the build took (0 when it came from the cache). */
  buildSeconds: number;
}

/** Where built images are kept between runs (outside the checkout, like the sysroot's .debs). */
const CACHE = isRoot() ? '/var/cache/linkcheck-test-images' : path.join(os.tmpdir(), `linkcheck-test-images-${process.getuid?.() ?? 'user'}`);

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * A digest of everything a reader could change about a file or a directory tree: each entry's
 * relative path, kind, mode, size, mtime, link text and content. Equal before and after a run
 * means the run changed nothing.
 */
export function inputDigest(p: string): string {
  const h = createHash('sha256');
  const one = (abs: string, rel: string): void => {
    const st = fs.lstatSync(abs, { bigint: true });
    h.update(`${rel}\0${st.mode.toString(8)}\0${st.size}\0${st.mtimeNs}\0`);
    if (st.isSymbolicLink()) h.update(fs.readlinkSync(abs));
    else if (st.isFile()) h.update(fs.readFileSync(abs));
    else if (st.isDirectory()) for (const name of fs.readdirSync(abs).sort()) one(`${abs}/${name}`, `${rel}/${name}`);
    h.update('\n');
  };
  one(p, '.');
  return h.digest('hex');
}

/** The tar entries of a layer's description. */
function tarEntries(entries: readonly Entry[]): TarEntry[] {
  return entries.map((e): TarEntry => {
    if ('dir' in e) return { kind: 'dir', path: e.dir, ...(e.mode === undefined ? {} : { mode: e.mode }) };
    if ('file' in e) return { kind: 'file', path: e.file, data: e.data ?? '', ...(e.mode === undefined ? {} : { mode: e.mode }) };
    if ('symlink' in e) return { kind: 'symlink', path: e.symlink, target: e.to };
    if ('hardlink' in e) return { kind: 'hardlink', path: e.hardlink, target: e.to };
    if ('sparse' in e) return { kind: 'sparse', path: e.sparse, size: e.size, chunks: e.chunks, format: e.format };
    if ('opaque' in e) return { kind: 'file', path: `${e.opaque.replace(/\/$/, '')}/.wh..wh..opq`, data: '', mode: 0 };
    const slash = e.whiteout.lastIndexOf('/');
    return { kind: 'file', path: `${e.whiteout.slice(0, slash + 1)}.wh.${e.whiteout.slice(slash + 1)}`, data: '', mode: 0 };
  });
}

/** The names layer `i` of `spec` holds, in order, as its tar spells them (directories end in '/'). */
export function layerNames(spec: ImageSpec, i: number): string[] {
  return tarEntries(spec.layers[i]!.entries).map((e) => (e.kind === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path));
}

/** The tar of layer `i` of `spec`, exactly as the image holds it (uncompressed). */
export function layerTar(spec: ImageSpec, i: number): Buffer {
  const l = spec.layers[i]!;
  return writeTar(tarEntries(l.entries), { longNames: l.longNames ?? 'pax' });
}

function writeBlob(layout: string, data: Buffer | string): { digest: string; size: number } {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const hex = sha256(b);
  fs.writeFileSync(`${layout}/blobs/sha256/${hex}`, b);
  return { digest: `sha256:${hex}`, size: b.length };
}

/** Writes the OCI image layout of `spec` (gzip layers, tagged `spec.name`) into `layout`; returns the layers' diff ids and gzip digests. */
export function writeLayout(spec: ImageSpec, layout: string): Array<{ diffId: string; gzip: string }> {
  fs.mkdirSync(`${layout}/blobs/sha256`, { recursive: true });
  fs.writeFileSync(`${layout}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  const layers = spec.layers.map((_, i) => {
    const tar = layerTar(spec, i);
    const gz = writeBlob(layout, gzipSync(tar, { level: 9 }));
    return { diffId: `sha256:${sha256(tar)}`, desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...gz } };
  });
  const config = writeBlob(
    layout,
    JSON.stringify({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: spec.layers.map((l) => ({ created: '1970-01-01T00:00:00Z', created_by: l.note })),
    }),
  );
  const manifest = writeBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => l.desc),
    }),
  );
  fs.writeFileSync(
    `${layout}/index.json`,
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': spec.name } }],
    }),
  );
  return layers.map((l) => ({ diffId: l.diffId, gzip: l.desc.digest }));
}

/** The layer digests an OCI layout's (only) manifest lists. */
export function layoutLayers(layout: string): string[] {
  const index = JSON.parse(fs.readFileSync(`${layout}/index.json`, 'utf8')) as { manifests: Array<{ digest: string }> };
  const blob = (d: string): string => fs.readFileSync(`${layout}/blobs/sha256/${d.replace(/^sha256:/, '')}`, 'utf8');
  const manifest = JSON.parse(blob(index.manifests[0]!.digest)) as { layers: Array<{ digest: string }> };
  return manifest.layers.map((l) => l.digest);
}

const SKOPEO = (args: string[]): void => void mustRun('skopeo', ['--insecure-policy', ...args]);

/** The forms skopeo derives from an OCI layout. */
type Derived = 'oci-layout-zstd' | 'oci-archive' | 'docker-archive';

/**
 * The forms skopeo derives from an OCI layout (the zstd layout, the OCI archive, the docker
 * archive; all three unless `which` says), written into `out`; returns them and the zstd layers'
 * digests ([] without the zstd layout).
 */
export function deriveForms(layout: string, ref: string, out: string, which: readonly Derived[] = ['oci-layout-zstd', 'oci-archive', 'docker-archive']): { forms: Partial<Record<FormName, string>>; zstd: string[] } {
  const forms: Partial<Record<FormName, string>> = {};
  if (which.includes('oci-layout-zstd')) {
    forms['oci-layout-zstd'] = `${out}/oci-zstd`;
    SKOPEO(['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `oci:${layout}:${ref}`, `oci:${forms['oci-layout-zstd']}:${ref}`]);
  }
  if (which.includes('oci-archive')) {
    forms['oci-archive'] = `${out}/image.oci.tar`;
    SKOPEO(['copy', '-q', `oci:${layout}:${ref}`, `oci-archive:${forms['oci-archive']}:${ref}`]);
  }
  if (which.includes('docker-archive')) {
    forms['docker-archive'] = `${out}/image.docker.tar`;
    SKOPEO(['copy', '-q', `oci:${layout}:${ref}`, `docker-archive:${forms['docker-archive']}:localhost/linkcheck-test-${ref}:latest`]);
  }
  return { forms, zstd: forms['oci-layout-zstd'] === undefined ? [] : layoutLayers(forms['oci-layout-zstd']) };
}

/**
 * A deterministic tar of the tree `rootfs` (sorted, owner 0, mtime 0, sparse files kept sparse,
 * hard links as hard links), names without a leading './' as `docker export` writes them.
 */
function rootfsTarOf(rootfs: string, file: string): void {
  const names = fs.readdirSync(rootfs).sort();
  mustRun('tar', [
    '--sort=name', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--sparse', '--sparse-version=1.0',
    '-C', rootfs, '-cf', file, ...(names.length === 0 ? ['--files-from', '/dev/null'] : ['--', ...names]),
  ]);
}

/** umoci's unpack of a layout into `bundle` (umoci's bundle: `bundle/rootfs`), or its error. */
export function umociUnpackInto(layout: string, ref: string, bundle: string): string | null {
  const r = tool('umoci', ['unpack', ...(isRoot() ? [] : ['--rootless']), '--image', `${layout}:${ref}`, bundle]);
  return r.code === 0 ? null : `${r.line}: ${`${r.stdout}${r.stderr}`.trim()}`;
}

/** The builder's own source, in every cache key: a change to how images are written rebuilds them. */
export function builderHash(): string {
  return sha256(['tar.ts', 'image.ts'].map((f) => fs.readFileSync(`${HERE}/${f}`, 'utf8')).join('\0'));
}

/** What the cache keeps of a built image: all of it but the spec and where the cache entry is. */
type CacheRecord = Omit<BuiltImage, 'spec' | 'dir'>;

/** Removes the entries of `name` under other keys (an older description, builder or tool), unless one is being built. */
function pruneStale(name: string, keep: string): void {
  const re = new RegExp(`^${name}-[0-9a-f]{16}$`);
  for (const e of fs.readdirSync(CACHE)) {
    const p = `${CACHE}/${e}`;
    if (re.test(e) && p !== keep && !fs.existsSync(`${p}.lock`)) fs.rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Runs `build(tmp)` (which fills a fresh directory and returns what to record) once per key: the
 * result is `<CACHE>/<name>-<key>`, kept between runs. Concurrent test files wait on a lock; an
 * entry whose recorded digests no longer match its files is rebuilt.
 */
export function cached<T extends { digests: Partial<Record<string, string>>; forms: Partial<Record<string, string>> }>(name: string, key: string, build: (dir: string) => T): { dir: string; record: T; fresh: boolean } {
  fs.mkdirSync(CACHE, { recursive: true });
  const dir = `${CACHE}/${name}-${key.slice(0, 16)}`;
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`image cache lock ${lock} held for 30 minutes: remove it if stale`);
      mustRun('sleep', ['0.5']);
    }
  }
  try {
    const recordFile = `${dir}/record.json`;
    if (fs.existsSync(recordFile)) {
      const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as T;
      const intact = Object.entries(record.forms).every(([f, p]) => p !== undefined && fs.existsSync(p) && inputDigest(p) === record.digests[f]);
      if (intact) return { dir, record, fresh: false };
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const built = build(tmp);
    // Paths are recorded as they will be after the rename.
    const moved = JSON.parse(JSON.stringify(built).split(JSON.stringify(tmp).slice(1, -1)).join(JSON.stringify(dir).slice(1, -1))) as T;
    fs.writeFileSync(`${tmp}/record.json`, JSON.stringify(moved, null, 1));
    fs.renameSync(tmp, dir);
    pruneStale(name, dir);
    return { dir, record: moved, fresh: true };
  } finally {
    fs.rmdirSync(lock);
  }
}

/** `spec` in all its forms, from the cache or built now (see the top of this file). */
export function buildImage(spec: ImageSpec): BuiltImage {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(spec.name)) throw new Error(`image name ${JSON.stringify(spec.name)}: lower case letters, digits and '-' only`);
  const key = sha256(JSON.stringify({ spec, builder: builderHash(), skopeo: toolVersion('skopeo'), umoci: toolVersion('umoci'), tar: toolVersion('tar') }));
  const t0 = Date.now();
  const { dir, record, fresh } = cached<CacheRecord>(spec.name, key, (tmp) => {
    const layout = `${tmp}/oci`;
    const gz = writeLayout(spec, layout);
    const derived = deriveForms(layout, spec.name, tmp);
    const forms: Partial<Record<FormName, string>> = { 'oci-layout': layout, ...derived.forms };
    const bundle = `${tmp}/umoci-bundle`;
    const umociError = umociUnpackInto(layout, spec.name, bundle);
    if (umociError === null) {
      forms['rootfs-tar'] = `${tmp}/rootfs.tar`;
      rootfsTarOf(`${bundle}/rootfs`, forms['rootfs-tar']);
    }
    fs.rmSync(bundle, { recursive: true, force: true });
    const digests: Partial<Record<FormName, string>> = {};
    for (const [f, p] of Object.entries(forms)) digests[f as FormName] = inputDigest(p);
    return {
      ref: spec.name,
      forms,
      layers: gz.map((l, i) => ({ ...l, zstd: derived.zstd[i]! })),
      digests,
      umociError,
      buildSeconds: (Date.now() - t0) / 1000,
    };
  });
  return { spec, dir, ...record, buildSeconds: fresh ? record.buildSeconds : 0 };
}
