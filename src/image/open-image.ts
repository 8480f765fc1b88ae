import { existsSync } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as nodePath from 'node:path';
import { UsageError } from '../core/errors.js';
import type { FsPort } from '../core/fs-port.js';
import type { ImageLayers } from '../rules/types.js';
import { type Compression, compressionOf, openTar } from './decompress.js';
import { imageFsPort } from './image-fs.js';
import { layerLabel } from './image-error.js';
import { directoryStore, type ImageStore, tarStore } from './image-store.js';
import { type LayerOp, readLayerOps } from './layer-entries.js';
import { chooseManifest, diffIds, dockerManifests, type ManifestChoice, ociManifests, withRepoTags } from './layout.js';
import { type Ambiguity, MergedTree } from './merge.js';
import { pathComponents, walkTree } from './merged-tree.js';
import { readAhead } from './read-ahead.js';
import { indexOuterTar } from './outer-tar.js';

/** @public (the CLI's `--image` reports it) */
export type ImageKind = 'oci-layout' | 'oci-archive' | 'docker-archive' | 'rootfs-tar';

/** @public */
export interface ImageLayer {
  index: number;
  /** The blob's digest as stored (null in a legacy docker archive or a rootfs tar). */
  digest: string | null;
  /** The digest of the uncompressed layer (the config's rootfs.diff_ids): the same in every form of the image; null without a config. */
  diffId: string | null;
  compression: Compression;
}

/** A container image's merged root file system, read in place, and what it was made from. */
export interface ImageTree {
  /** The merged root as a read-only port: the image's `/` is the port's `/`. */
  fs: FsPort;
  kind: ImageKind;
  /** The chosen manifest's digest; null for a legacy `docker save` image and a rootfs tar. */
  manifest: string | null;
  /** The name the image was chosen by (`--image-ref`), else its first (a ref.name annotation or RepoTag); null when it has none. */
  ref: string | null;
  layers: ImageLayer[];
  /** The layer that last wrote `path` (symlinks in its parents followed, the last name not); undefined when there is none. */
  layerOf(path: string): number | undefined;
  ambiguities: Ambiguity[];
}

export interface OpenImageOptions {
  /** Which image, when the input holds several: a name, a platform or a digest (prefix). */
  ref?: string;
}

/**
 * The image as the audit takes it (AuditOptions.image): its layers named by diff ID, which every
 * form of the image shares (the blob digest when the config lists none), what runtimes disagree
 * on, and which layer made a path.
 */
export function imageLayers(tree: ImageTree): ImageLayers {
  return {
    layers: tree.layers.map((l) => ({ index: l.index, digest: l.diffId ?? l.digest })),
    ambiguities: tree.ambiguities,
    layerOf: (p) => tree.layerOf(p),
  };
}

/** What was found at the path: where its files are and which images it holds. */
interface Found {
  kind: ImageKind;
  store: ImageStore;
  choices: ManifestChoice[];
}

/**
 * Opens an image without unpacking it: an OCI layout directory, an OCI archive, a `docker save`
 * archive (legacy or docker 25's OCI form) or a plain root file system tar (gzip or zstd too),
 * told apart by what they hold. Only metadata is kept; the input is opened read-only.
 */
export async function openImage(path: string, opts: OpenImageOptions = {}): Promise<ImageTree> {
  const st = await stat(path).catch((err: unknown) => {
    throw new UsageError(`cannot read the image ${path} (${(err as { code?: string }).code ?? (err as Error).message})`);
  });
  // A pipe or a device would be read by random access that it cannot give (or block forever).
  if (!st.isDirectory() && !st.isFile()) throw new UsageError(`${path} is neither a file nor a directory: give an image archive, an OCI layout or a root file system tar`);
  if (st.isFile() && st.size === 0) throw new UsageError(`${path} is empty: it is not an image`);
  if (st.isDirectory()) return merge(await inLayoutDir(path), opts.ref, path);
  const handle = await open(path, 'r');
  try {
    return await merge(await inFile(path, handle), opts.ref, path);
  } finally {
    await handle.close();
  }
}

async function inLayoutDir(dir: string): Promise<Found> {
  if (!existsSync(nodePath.join(dir, 'oci-layout')) && !existsSync(nodePath.join(dir, 'index.json')))
    throw new UsageError(`${dir} is a directory but not an OCI image layout (it has no oci-layout file): for an unpacked root file system, run linkcheck ${dir} --root ${dir}`);
  const store = directoryStore(dir);
  return { kind: 'oci-layout', store, choices: await ociManifests(store, dir) };
}

/**
 * A file: compressed, it can only be a root file system tar (an image archive is read by random
 * access, which compression rules out); else its tar index says. With both index.json and
 * manifest.json (docker 25+), index.json is read: it names manifests by digest, so
 * `--image-ref sha256:...` and the reported digest mean the same as for an OCI layout, and it
 * keeps the platforms; manifest.json only adds its RepoTags as names.
 */
async function inFile(file: string, handle: FileHandle): Promise<Found> {
  const { size } = await handle.stat();
  const head = Buffer.alloc(Math.min(4, size));
  await handle.read(head, 0, head.length, 0);
  const whole: ManifestChoice = { digest: null, configDigest: null, configPath: null, names: [], platform: null, layers: [{ path: '', digest: null }] };
  const single = (): ImageStore => ({
    has: () => true,
    readText: async () => '',
    open: async () => ({ range: { handle, start: 0, length: size }, done: async () => {} }),
  });
  if (compressionOf(head) !== 'none') return { kind: 'rootfs-tar', store: single(), choices: [whole] };
  const outer = await indexOuterTar(handle, size, file);
  const store = tarStore(file, outer);
  if (store.has('index.json')) {
    const oci = await ociManifests(store, file);
    if (!store.has('manifest.json')) return { kind: 'oci-archive', store, choices: oci };
    return { kind: 'docker-archive', store, choices: withRepoTags(oci, await dockerManifests(store, file)) };
  }
  if (store.has('manifest.json')) return { kind: 'docker-archive', store, choices: await dockerManifests(store, file) };
  return { kind: 'rootfs-tar', store: single(), choices: [whole] };
}

/**
 * Layers read at once, and how far past the layer being applied reading may go. A layer's
 * decompression runs in libuv's thread pool, so on several cores the layers of a compressed image
 * inflate side by side; they are still applied in order. Each layer read ahead holds its entries'
 * metadata until its turn.
 */
const LAYERS_AT_ONCE = Math.max(1, Math.min(4, availableParallelism()));
const LAYERS_AHEAD = 8;

interface LayerRead {
  compression: Compression;
  ops: LayerOp[];
}

async function readLayer(store: ImageStore, path: string, label: string): Promise<LayerRead> {
  const blob = await store.open(path);
  try {
    const { compression, source } = await openTar(blob.range);
    return { compression, ops: await readLayerOps(source, label) };
  } finally {
    await blob.done();
  }
}

/** The chosen image's layers, read a few at a time and applied in order. */
async function merge(found: Found, ref: string | undefined, what: string): Promise<ImageTree> {
  if (found.kind === 'rootfs-tar' && ref !== undefined) throw new UsageError(`--image-ref ${ref}: ${what} is a root file system tar, with no manifests to choose from`);
  const chosen = await chooseManifest(found.store, found.choices, ref, what);
  const tree = new MergedTree();
  const layers: ImageLayer[] = [];
  const ids = await diffIds(found.store, chosen, what);
  // Named by diff ID where the config gives one, as the reports name layers: the same in every form of the image.
  const labels = chosen.layers.map((l, index) => layerLabel(index, ids[index] ?? l.digest));
  const reads = readAhead(chosen.layers.length, (i) => readLayer(found.store, chosen.layers[i]!.path, labels[i]!), LAYERS_AT_ONCE, LAYERS_AHEAD);
  try {
    for (const [index, l] of chosen.layers.entries()) {
      const read = await reads.take(index);
      if (!read.ok) throw read.error;
      const { compression, ops } = read.value;
      layers.push({ index, digest: l.digest, diffId: ids[index] ?? null, compression });
      if (found.kind === 'rootfs-tar' && looksLikeImageArchive(ops))
        throw new UsageError(`${what} is a compressed image archive: decompress it first (linkcheck reads an image archive in place, by random access)`);
      tree.apply(index, labels[index]!, ops);
    }
  } catch (err) {
    // The lowest layer's error is the one reported, whichever failed first; the reads still
    // running finish before the caller closes the file they read.
    await reads.stop();
    throw err;
  }
  const root = tree.root;
  return {
    fs: imageFsPort(root),
    kind: found.kind,
    manifest: chosen.digest,
    ref: ref !== undefined && chosen.names.includes(ref) ? ref : (chosen.names[0] ?? null),
    layers,
    layerOf(path) {
      const steps = walkTree(root, pathComponents(path), { followLast: false, lexicalMissing: false });
      return typeof steps === 'string' ? undefined : steps[steps.length - 1]!.node!.layer;
    },
    ambiguities: tree.ambiguities,
  };
}

/** An OCI or docker archive's top level (`oci-layout`, or `manifest.json` beside `blobs/` or `repositories`), which no root file system has. */
function looksLikeImageArchive(ops: LayerOp[]): boolean {
  const top = new Set(ops.flatMap((o) => (o.op === 'add' && o.path.length > 0 ? [o.path[0]!] : [])));
  return top.has('oci-layout') || (top.has('manifest.json') && (top.has('blobs') || top.has('repositories')));
}
