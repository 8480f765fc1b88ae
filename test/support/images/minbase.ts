/**
 * A real Debian image: `debootstrap --variant=minbase` of the machine's own release from the
 * mirror apt uses, made an OCI image with umoci, then two more layers as umoci writes them:
 * - `umoci insert hello /bin/hello`: umoci writes `bin/hello` with no entry for `bin`, and `bin`
 *   is a symlink (`bin -> usr/bin`, merged /usr) in the layer below. umoci's unpack writes it
 *   through the link (/usr/bin/hello); podman's overlay makes /bin a directory holding `hello`
 *   alone (the container loses /bin/sh): a layer-ambiguity found in the wild.
 * - `umoci insert --whiteout /usr/share/doc`: a whiteout of a directory full of links.
 * Measured with umoci 0.4.7: both small layers end without tar's two zero blocks (the first
 * even without the padding of its data): umoci and podman read them, GNU tar says "Unexpected
 * EOF in archive".
 *
 * Derived with skopeo: an OCI archive and a docker archive (no zstd copy: 200 MB more to cache).
 * Cached like the other images (image.ts), keyed by the release, the mirror, the tools' versions
 * and the builder's source; debootstrap takes about a minute, the rest seconds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builderHash, cached, deriveForms, type FormName, inputDigest, layoutLayers, sha256 } from './image.js';
import { mustRun, tool, toolVersion } from './tools.js';

const MINBASE_REF = 'minbase';

export interface MinbaseImage {
  dir: string;
  ref: string;
  forms: Partial<Record<FormName, string>>;
  digests: Partial<Record<FormName, string>>;
  /** Layer digests of the layout (gzip), oldest first. */
  layers: string[];
  suite: string;
  mirror: string;
  buildSeconds: number;
  debootstrapSeconds: number;
}

/** The release's code name (/etc/os-release VERSION_CODENAME), 'bookworm' when not said. */
function codename(): string {
  try {
    return /^VERSION_CODENAME=(\S+)$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'bookworm';
  } catch {
    return 'bookworm';
  }
}

/**
 * The Debian mirror apt uses for the release itself (a deb822 `.sources` stanza or a one-line
 * `deb` entry with that suite and `main`), else deb.debian.org.
 */
function aptMirror(): { mirror: string; suite: string } {
  const suite = codename();
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir).sort()) files.push(path.join(dir, f));
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string): string[] => (new RegExp(`^${k}:\\s*(.*)$`, 'mi').exec(stanza)?.[1] ?? '').split(/\s+/).filter((x) => x !== '');
        const uri = field('URIs').find((u) => /^https?:\/\//.test(u));
        if (uri && field('Types').includes('deb') && field('Suites').includes(suite) && field('Components').includes('main')) return { mirror: uri, suite };
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (m && m[2] === suite && m[3]!.split(/\s+/).includes('main')) return { mirror: m[1]!, suite };
      }
    }
  }
  return { mirror: 'http://deb.debian.org/debian', suite };
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The minbase image, from the cache or built now (needs root, debootstrap, umoci, skopeo and the mirror). */
export function buildMinbase(): MinbaseImage {
  const { mirror, suite } = aptMirror();
  const key = sha256(
    JSON.stringify({
      suite,
      mirror,
      builder: builderHash(),
      minbase: sha256(fs.readFileSync(`${HERE}/minbase.ts`, 'utf8')),
      debootstrap: toolVersion('debootstrap'),
      umoci: toolVersion('umoci'),
      skopeo: toolVersion('skopeo'),
    }),
  );
  const t0 = Date.now();
  const { record, fresh } = cached<MinbaseImage>(`debian-${suite}-minbase`, key, (tmp) => {
    const rootfs = `${tmp}/rootfs`;
    const d0 = Date.now();
    const boot = tool('debootstrap', ['--variant=minbase', suite, rootfs, mirror], { timeout: 1_200_000 });
    if (boot.code !== 0) throw new Error(`${boot.line} exited ${String(boot.code)}:\n${`${boot.stdout}${boot.stderr}`.split('\n').slice(-30).join('\n')}`);
    const debootstrapSeconds = (Date.now() - d0) / 1000;
    const layout = `${tmp}/oci`;
    const image = `${layout}:${MINBASE_REF}`;
    mustRun('umoci', ['init', '--layout', layout]);
    mustRun('umoci', ['new', '--image', image]);
    mustRun('umoci', ['insert', '--image', image, '--history.created_by', `debootstrap --variant=minbase ${suite} ${mirror}`, rootfs, '/']);
    fs.writeFileSync(`${tmp}/hello`, 'hello from an upper layer\n');
    mustRun('umoci', ['insert', '--image', image, '--history.created_by', 'umoci insert hello /bin/hello', `${tmp}/hello`, '/bin/hello']);
    mustRun('umoci', ['insert', '--image', image, '--history.created_by', 'umoci insert --whiteout /usr/share/doc', '--whiteout', '/usr/share/doc']);
    mustRun('umoci', ['gc', '--layout', layout]);
    fs.rmSync(rootfs, { recursive: true, force: true });
    fs.rmSync(`${tmp}/hello`);
    const derived = deriveForms(layout, MINBASE_REF, tmp, ['oci-archive', 'docker-archive']);
    const forms: Partial<Record<FormName, string>> = { 'oci-layout': layout, ...derived.forms };
    const digests: Partial<Record<FormName, string>> = {};
    for (const [f, p] of Object.entries(forms)) digests[f as FormName] = inputDigest(p);
    return { dir: tmp, ref: MINBASE_REF, forms, digests, layers: layoutLayers(layout), suite, mirror, buildSeconds: (Date.now() - t0) / 1000, debootstrapSeconds };
  });
  return { ...record, buildSeconds: fresh ? record.buildSeconds : 0 };
}
