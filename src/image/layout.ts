import { UsageError } from '../core/errors.js';
import { ImageError } from './image-error.js';
import { blobPath, type ImageStore } from './image-store.js';

/** One image an archive or layout holds: a manifest and what names it. */
export interface ManifestChoice {
  /** The manifest's digest; null for a legacy `docker save` entry, which has no manifest blob. */
  digest: string | null;
  /** The image config's digest (the image ID docker shows). */
  configDigest: string | null;
  /** Where the config is in the store (its `rootfs.diff_ids` name the layers the same in every form); null: none. */
  configPath: string | null;
  /** ref.name annotations (inherited from an index that carries them), containerd image names, docker RepoTags. */
  names: string[];
  /** `os/architecture[/variant]` when an index says. */
  platform: string | null;
  /** Layer blobs, lowest first, by their path in the store. */
  layers: Array<{ path: string; digest: string | null }>;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
const NAME_KEYS = ['org.opencontainers.image.ref.name', 'io.containerd.image.name'];
/** Indexes inside indexes: real images nest one or two deep; a cycle would never end. */
const MAX_DEPTH = 8;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

async function readJson(store: ImageStore, path: string, what: string): Promise<unknown> {
  const text = await store.readText(path);
  try {
    return JSON.parse(text);
  } catch (err) {
    // The parser quotes the text it choked on, newlines and all: an error is one line.
    throw new ImageError(`${what}: ${path} is not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`);
  }
}

/** A descriptor's digest, checked (it becomes a path in the store). */
function digestOf(d: Json, what: string): string {
  if (typeof d['digest'] !== 'string') throw new ImageError(`${what}: a descriptor without a digest`);
  blobPath(d['digest'], what);
  return d['digest'];
}

/** `os/architecture[/variant]` from an index descriptor's `platform` or an image config, which use the same keys. */
function platformOf(p: unknown): string | null {
  if (!isObject(p) || typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') return null;
  return [p['os'], p['architecture'], ...(typeof p['variant'] === 'string' && p['variant'] !== '' ? [p['variant']] : [])].join('/');
}

/**
 * Descriptors that name no runnable image: buildkit's attestation manifests (annotated
 * `vnd.docker.reference.type`, platform unknown/unknown), so a one-platform build with
 * provenance still counts as one image.
 */
function isAttachment(d: Json): boolean {
  const ann = isObject(d['annotations']) ? d['annotations'] : {};
  const p = d['platform'];
  return 'vnd.docker.reference.type' in ann || (isObject(p) && p['os'] === 'unknown');
}

/** What a walk through nested indexes carries along. */
interface IndexWalk {
  store: ImageStore;
  what: string;
  out: ManifestChoice[];
  /** Listed manifests whose blob is not there (a layout MAY lack them: other platforms, usually). */
  absent: number;
}

/** The images an OCI index.json leads to, nested indexes followed. */
export async function ociManifests(store: ImageStore, what: string): Promise<ManifestChoice[]> {
  const walk: IndexWalk = { store, what, out: [], absent: 0 };
  await walkIndex(walk, await readJson(store, 'index.json', what), 'index.json', [], []);
  if (walk.out.length === 0 && walk.absent > 0) throw new ImageError(`${what}: none of the manifests the index lists is there (${walk.absent} missing)`);
  return mergedByDigest(walk.out);
}

/**
 * One manifest listed twice (tagged `latest` and `1.0`) is one image: one choice, names united.
 * A legacy docker entry has no digest to tell; it stays as it is.
 */
function mergedByDigest(choices: ManifestChoice[]): ManifestChoice[] {
  const out: ManifestChoice[] = [];
  const at = new Map<string, number>();
  for (const c of choices) {
    const i = c.digest === null ? undefined : at.get(c.digest);
    if (i === undefined) {
      if (c.digest !== null) at.set(c.digest, out.length);
      out.push(c);
      continue;
    }
    const first = out[i]!;
    out[i] = { ...first, names: [...new Set([...first.names, ...c.names])], platform: first.platform ?? c.platform };
  }
  return out;
}

/** One index's descriptors: images into `walk.out`, indexes walked; `names` and `seen` come from the indexes above. */
async function walkIndex(walk: IndexWalk, index: unknown, where: string, names: string[], seen: string[]): Promise<void> {
  const { store, what } = walk;
  if (!isObject(index) || !Array.isArray(index['manifests'])) throw new ImageError(`${what}: ${where} is not an image index`);
  for (const d of index['manifests']) {
    if (!isObject(d)) throw new ImageError(`${what}: ${where} lists a descriptor that is not an object`);
    if (isAttachment(d)) continue;
    const digest = digestOf(d, what);
    if (!store.has(blobPath(digest, what))) {
      walk.absent++;
      continue;
    }
    const ann = isObject(d['annotations']) ? d['annotations'] : {};
    const own = [...names, ...NAME_KEYS.map((k) => ann[k]).filter((v): v is string => typeof v === 'string')];
    const body = await readJson(store, blobPath(digest, what), what);
    if (isObject(body) && (INDEX_TYPES.has(String(d['mediaType'])) || Array.isArray(body['manifests']))) {
      if (seen.includes(digest) || seen.length >= MAX_DEPTH) throw new ImageError(`${what}: the indexes nest too deep or in a cycle at ${digest}`);
      await walkIndex(walk, body, digest, own, [...seen, digest]);
      continue;
    }
    const m = imageManifest(body, digest, what);
    if (m !== null) walk.out.push({ ...m, digest, names: [...new Set(own)], platform: platformOf(d['platform']) });
  }
}

/** An image manifest's config and layers; null for an artifact (a signature, an SBOM) that is no image. */
function imageManifest(body: unknown, digest: string, what: string): Pick<ManifestChoice, 'configDigest' | 'configPath' | 'layers'> | null {
  if (!isObject(body) || !Array.isArray(body['layers'])) throw new ImageError(`${what}: ${digest} is neither an image index nor a manifest`);
  const config = isObject(body['config']) ? body['config'] : {};
  if ('subject' in body || (typeof config['mediaType'] === 'string' && !IMAGE_CONFIGS.has(config['mediaType']))) return null;
  const layers = body['layers'].map((l) => {
    if (!isObject(l)) throw new ImageError(`${what}: manifest ${digest} lists a layer that is not an object`);
    const d = digestOf(l, what);
    return { path: blobPath(d, what), digest: d };
  });
  const configDigest = typeof config['digest'] === 'string' ? config['digest'] : null;
  return { configDigest, configPath: configDigest === null ? null : blobPath(configDigest, what), layers };
}

/** The images a `docker save` manifest.json lists (legacy `<id>/layer.tar` or docker 25's blobs). */
/**
 * The layers' diff IDs (the digests of their uncompressed tars) from the image config: the same
 * whether the layers are stored gzip, zstd or plain, so they name a layer alike in every form of
 * an image. Empty when the config is missing or has none.
 */
export async function diffIds(store: ImageStore, choice: ManifestChoice, what: string): Promise<string[]> {
  if (choice.configPath === null || !store.has(choice.configPath)) return [];
  const config = await readJson(store, choice.configPath, what);
  const rootfs = isObject(config) && isObject(config['rootfs']) ? config['rootfs'] : {};
  return strings(rootfs['diff_ids']);
}

export async function dockerManifests(store: ImageStore, what: string): Promise<ManifestChoice[]> {
  const list = await readJson(store, 'manifest.json', what);
  if (!Array.isArray(list)) throw new ImageError(`${what}: manifest.json is not a list`);
  return list.map((e) => {
    if (!isObject(e) || typeof e['Config'] !== 'string' || !Array.isArray(e['Layers'])) throw new ImageError(`${what}: manifest.json has an entry without Config and Layers`);
    return {
      digest: null,
      configDigest: digestInPath(e['Config']),
      configPath: e['Config'],
      names: strings(e['RepoTags']),
      platform: null,
      layers: strings(e['Layers']).map((path) => ({ path, digest: digestInPath(path) })),
    };
  });
}

/** `sha256:<hex>` from `blobs/sha256/<hex>` or a legacy `<hex>.json`; null when the path holds none. */
function digestInPath(path: string): string | null {
  const blob = /^blobs\/([a-z0-9]+)\/([a-f0-9]{32,})$/.exec(path);
  if (blob) return `${blob[1]}:${blob[2]}`;
  const legacy = /^([a-f0-9]{64})\.json$/.exec(path);
  return legacy ? `sha256:${legacy[1]}` : null;
}

/** Docker 25's RepoTags (manifest.json) on the index's images with the same config, so `--image-ref name:tag` finds them. */
export function withRepoTags(oci: ManifestChoice[], docker: ManifestChoice[]): ManifestChoice[] {
  return oci.map((m) => {
    const tags = docker.filter((d) => d.configDigest !== null && d.configDigest === m.configDigest).flatMap((d) => d.names);
    return tags.length === 0 ? m : { ...m, names: [...new Set([...m.names, ...tags])] };
  });
}

/** A short, readable name for a choice: its first name, platform and digest. */
export function describeChoice(c: ManifestChoice): string {
  const d = c.digest ?? c.configDigest;
  return [c.names[0], c.platform, d === null ? undefined : d.slice(0, d.indexOf(':') + 13)].filter((s) => s !== undefined && s !== null).join(' ');
}

/**
 * The image `ref` names: a name (ref.name annotation, containerd name, docker RepoTag) or a
 * platform (`linux/arm64`) exactly, else a docker name as docker reads it (`t` for
 * `docker.io/library/t:latest`), else a digest (`sha256:...`) or a unique prefix of one (the
 * manifest's, or the config's: the image ID). Without `ref` the image must hold one.
 */
export function selectManifest(choices: ManifestChoice[], ref: string | undefined, what: string): ManifestChoice {
  const list = (cs: ManifestChoice[]): string => cs.map(describeChoice).join(', ');
  if (choices.length === 0) throw new ImageError(`${what}: the image lists no manifest`);
  if (ref === undefined) {
    if (choices.length === 1) return choices[0]!;
    throw new UsageError(`the image has ${choices.length} manifests: ${list(choices)}; pick one with --image-ref`);
  }
  let matches = choices.filter((c) => c.names.includes(ref) || c.platform === ref);
  if (matches.length === 0) matches = choices.filter((c) => namesAsDocker(c, ref));
  if (matches.length === 0) matches = choices.filter((c) => isDigestPrefix(ref, c.digest) || isDigestPrefix(ref, c.configDigest));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new UsageError(`no manifest of the image matches --image-ref ${ref}; it has: ${list(choices)}`);
  throw new UsageError(`--image-ref ${ref} matches ${matches.length} manifests: ${list(matches)}; pick one with --image-ref`);
}

/** `sha256:3f1e`, or bare hex of four or more digits, as the start of a digest. */
function isDigestPrefix(ref: string, digest: string | null): boolean {
  if (digest === null) return false;
  if (ref.includes(':')) return ref.length > ref.indexOf(':') + 1 && digest.startsWith(ref);
  return /^[a-f0-9]{4,}$/.test(ref) && digest.slice(digest.indexOf(':') + 1).startsWith(ref);
}

/**
 * selectManifest, with the platform an index leaves out of a descriptor taken from the image's
 * config. Configs are read only when `ref` looks like a platform and names no image, so a choice
 * by name or digest in a big index reads none.
 */
export async function chooseManifest(store: ImageStore, choices: ManifestChoice[], ref: string | undefined, what: string): Promise<ManifestChoice> {
  const byName = (c: ManifestChoice): boolean => ref !== undefined && (c.names.includes(ref) || namesAsDocker(c, ref));
  if (ref === undefined || !PLATFORM.test(ref) || choices.every((c) => c.platform !== null) || choices.some(byName)) return selectManifest(choices, ref, what);
  const known: ManifestChoice[] = [];
  for (const c of choices) {
    const config = c.platform !== null || c.configPath === null || !store.has(c.configPath) ? null : await readJson(store, c.configPath, what);
    known.push(config === null ? c : { ...c, platform: platformOf(config) });
  }
  return selectManifest(known, ref, what);
}

/** `linux/amd64`, `linux/arm64/v8`: what a platform looks like (so does `library/t`, which a name match settles first). */
const PLATFORM = /^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/;

/**
 * Where docker looks for a name that says no registry, and podman's prefix for a local image:
 * `docker.io/library/t:latest`, `library/t` and `t` are one image, as are `localhost/t` and `t`.
 * The longer prefix comes first.
 */
const IMPLIED_PREFIXES = ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/', 'localhost/', 'library/'];

/** A reference as docker reads it: `:latest` when it has no tag or digest, the implied prefix dropped. */
function normalReference(ref: string): string {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const tagged = last.includes(':') || last.includes('@') ? ref : `${ref}:latest`;
  const prefix = IMPLIED_PREFIXES.find((p) => tagged.startsWith(p));
  return prefix === undefined ? tagged : tagged.slice(prefix.length);
}

/**
 * Whether one of the choice's docker-style names (a RepoTag, a containerd name: anything with a
 * `/` or `:`) is `ref` as docker reads both. A bare tag (`latest`, `1.0`: what a ref.name
 * annotation usually is) is matched exactly only, never taken for a repository of that name.
 */
function namesAsDocker(c: ManifestChoice, ref: string): boolean {
  const wanted = normalReference(ref);
  return c.names.some((n) => /[/:]/.test(n) && normalReference(n) === wanted);
}
