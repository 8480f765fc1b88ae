/**
 * linkcheck's `--image` report, read by the tests: its shape (the contract's additive fields:
 * `image`, each link's `layer`, `checks`), the normalised form the four layered forms of one
 * image must agree on, and the questions the tests ask of it (which paths a `layer-ambiguity`
 * finding covers, whether an error line names a layer).
 */
import * as fs from 'node:fs';
import { ensureBuilt } from '../build.js';
import { spawnCli, type SpawnResult } from '../cli.js';
import { jsonToBytes } from '../random-tree.js';
import { kernelPlace } from './kernel.js';
import type { LayerDigests } from './image.js';
import { treeEntries } from './tree-diff.js';

interface Finding {
  rule: string;
  code: string;
  severity: string;
  message: string;
}

interface ImageLink {
  path: string;
  target: string;
  inside: string;
  chroot: { status: string; resolved: string | null; errno: string | null; failedAt: string | null; hops: number };
  host: unknown;
  findings: Finding[];
  layer: { index: number; digest: string | null };
}

export interface ImageReport {
  schemaVersion: number;
  root: string;
  scanned: string[];
  image: { layers: Array<{ index: number; digest: string | null }> };
  links: ImageLink[];
  unreadable: unknown[];
  checks?: Array<{ path: string; findings: Finding[] }>;
  changes: unknown[];
  summary: Record<string, unknown>;
}

export const LAYER_AMBIGUITY = { rule: 'layer-ambiguity', code: 'LC013' } as const;

/** The built CLI run on an image: `linkcheck --image <path> [extra...] --format json --no-config`. */
export function runOnImage(image: string, extra: readonly string[] = []): SpawnResult {
  ensureBuilt();
  return spawnCli(['--image', image, ...extra, '--format', 'json', '--no-config']);
}

/** The JSON report of a run that must have produced one (exit 0 or 1, nothing on stderr). */
export function reportOf(r: SpawnResult, what: string): ImageReport {
  if (r.code !== 0 && r.code !== 1) throw new Error(`${what}: exit ${String(r.code)} (${r.signal ?? 'no signal'}): ${r.stderr.slice(0, 2000)}`);
  if (r.stderr !== '') throw new Error(`${what}: stderr is not empty: ${r.stderr.slice(0, 2000)}`);
  const doc = JSON.parse(r.stdout) as ImageReport;
  if (doc.schemaVersion !== 1) throw new Error(`${what}: schemaVersion ${String(doc.schemaVersion)}`);
  if (typeof doc.image !== 'object' || doc.image === null) throw new Error(`${what}: the report has no "image" header`);
  return doc;
}

/**
 * The report without what may differ between the forms of one image: the `image` header (path,
 * kind, manifest and layer digests), each link's layer digest (its index stays), and digests
 * quoted in messages: 'layer 1 (sha256:20ab060c339a)' names a gzip blob in one form, a zstd blob
 * in another, and nothing in a docker archive (whose layers may have no digest: 'layer 1'), so
 * a parenthesised digest is dropped and any other made 'sha256:…'. Serialised with sorted keys,
 * so two equal reports give equal text.
 */
export function normalizeReport(doc: ImageReport): string {
  const copy = JSON.parse(JSON.stringify(doc)) as Partial<ImageReport> & Record<string, unknown>;
  delete copy.image;
  for (const l of copy.links ?? []) (l as { layer: { digest?: unknown } }).layer = { index: l.layer.index } as ImageLink['layer'];
  const sorted = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace(/ ?\(sha256:[0-9a-f]{12,64}\)/g, '').replace(/sha256:[0-9a-f]{12,64}/g, 'sha256:…')
      : Array.isArray(v)
        ? v.map(sorted)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sorted(x)]))
          : v;
  return JSON.stringify(sorted(copy), null, 1);
}

/** Every path (byte string) a layer-ambiguity finding is on: links' and other checks'. */
export function ambiguityPaths(doc: ImageReport): string[] {
  const on = (f: Finding[]): boolean => f.some((x) => x.rule === LAYER_AMBIGUITY.rule || x.code === LAYER_AMBIGUITY.code);
  return [...doc.links.filter((l) => on(l.findings)).map((l) => l.path), ...(doc.checks ?? []).filter((c) => on(c.findings)).map((c) => c.path)].map(jsonToBytes);
}

const within = (p: string, anc: string): boolean => anc === '/' || p === anc || p.startsWith(`${anc}/`);

/**
 * The paths (inside the image) a layer-ambiguity finding at `f` explains, given umoci's tree and
 * (when there is one) podman's overlay tree of the same image:
 * - `f` itself (for a whiteout entry `.wh.name`, also `name`) and where it lands when its parent
 *   is resolved in umoci's tree (an upper entry under a lower symlink is written through it:
 *   `/lib/x` under `lib -> usr/lib` lands at `/usr/lib/x`);
 * - each ancestor of `f` that is a symlink in umoci's tree (the lower link the entry passed
 *   through) and, for every entry the overlay tree has under that path (the layer's entries,
 *   which overlay keeps in a directory of its own there), where it lands through the link in
 *   umoci's tree: a report may put one finding on the first entry that passes through a link.
 */
/** lstat, or undefined where there is nothing (a missing name, or a name under a file). */
function lstatOr(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

export function findingPlaces(umociRoot: string, f: string, overlayRoot?: string): string[] {
  const out = new Set<string>();
  const slash = f.lastIndexOf('/');
  const parent = slash <= 0 ? '/' : f.slice(0, slash);
  const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const names = [f.slice(slash + 1)];
  if (names[0] === '.wh..wh..opq') names.push('');
  else if (names[0]!.startsWith('.wh.')) names.push(names[0]!.slice(4));
  const landed = kernelPlace(umociRoot, parent);
  for (const n of names) {
    out.add(n === '' ? parent : join(parent, n));
    if (landed !== null) out.add(n === '' ? landed : join(landed, n));
  }
  const parts = f.split('/').filter((c) => c !== '');
  for (let i = 1; i < parts.length; i++) {
    const a = `/${parts.slice(0, i).join('/')}`;
    if (!lstatOr(`${umociRoot}${a}`)?.isSymbolicLink()) continue;
    out.add(a);
    const through = kernelPlace(umociRoot, a);
    if (through === null || overlayRoot === undefined || !lstatOr(`${overlayRoot}${a}`)?.isDirectory()) continue;
    for (const rel of treeEntries(`${overlayRoot}${a}`).keys()) out.add(through === '/' ? rel : `${through}${rel}`);
  }
  return [...out];
}

/**
 * Whether the tree difference at `p` is explained by a finding's places (see findingPlaces): `p`
 * is one, lies under one, or is an ancestor of one (a lower symlink that an upper entry below it
 * turned into a directory in one runtime).
 */
export function covered(p: string, places: readonly string[]): boolean {
  return places.some((f) => within(p, f) || (p !== '/' && within(f, p)));
}

/**
 * Whether the error line names layer `index` of an image: by its index ('layer 1', 'layer #1',
 * 'layers[1]') or by any of its digests (full, bare hex, or a prefix of 12 hex digits or more).
 */
export function namesLayer(line: string, index: number, digests: LayerDigests): boolean {
  if (new RegExp(`layers?\\s*(#|\\[|index\\s*)?\\s*${index}\\b`, 'i').test(line)) return true;
  const hexes = [digests.diffId, digests.gzip, digests.zstd].map((d) => d.replace(/^sha256:/, ''));
  return hexes.some((h) => line.includes(h) || [...line.matchAll(/[0-9a-f]{12,64}/g)].some((m) => h.startsWith(m[0])));
}
