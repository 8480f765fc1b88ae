/**
 * `linkcheck --image`, judged by real tools: images written layer by layer (test/support/images/
 * cases.ts: BusyBox-style absolute links, `../` climbs out of the image, `lib/sym/../bin`, a hard
 * link to a relative symlink in another directory, explicit and opaque whiteouts, a whiteout of a
 * symlink, a directory replaced by a link and a link by a file, entries and a whiteout under a
 * lower layer's symlink, cross-layer hard links, names over 100 bytes in PAX and GNU form, a
 * sparse file), in every form linkcheck reads (OCI layout with gzip and with zstd layers, OCI
 * archive, docker archive, plain rootfs tar; skopeo derives them), and held to:
 *
 * (a) the four layered forms of one image give the same report once the image header (and the
 *     layer digests, which differ between compressed and uncompressed forms) are removed;
 * (b) every link's jail view (status, and the resolved path when it resolves) is the kernel's
 *     (openat2 RESOLVE_IN_ROOT) on the tree `umoci unpack` makes, and the report lists exactly
 *     that tree's links;
 * (c) every path where podman's overlay tree and umoci's differ is explained by a
 *     `layer-ambiguity` (LC013) finding (report.ts: `covered`); an image podman's overlay
 *     refuses (cross-layer hard links) carries one on each such link;
 * (d) an invalid layer (a bare `.wh.`, a hard link to nothing, `..` in a name) exits 2 with one
 *     line on stderr naming layer 1 and the entry;
 * (e) the input files are unchanged afterwards (digests recorded when the images were built);
 * (f) `--fix` with `--image` exits 2.
 *
 * The harness itself (images, umoci, podman, the kernel's verdicts) is checked by harness.test.ts,
 * which needs no linkcheck.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../support/build.js';
import type { SpawnResult } from '../../support/cli.js';
import { requireTool, toolGate } from '../../support/integration.js';
import { jsonToBytes, show } from '../../support/random-tree.js';
import { CASES, CROSS_LINK, INVALID } from '../../support/images/cases.js';
import { type BuiltImage, buildImage, type FormName, type ImageSpec, inputDigest, LAYERED_FORMS } from '../../support/images/image.js';
import { type KernelVerdict, kernelVerdicts } from '../../support/images/kernel.js';
import { ambiguityPaths, covered, findingPlaces, type ImageReport, LAYER_AMBIGUITY, namesLayer, normalizeReport, reportOf, runOnImage } from '../../support/images/report.js';
import { imageToolsMissing } from '../../support/images/tools.js';
import { showDiff, treeDiff } from '../../support/images/tree-diff.js';
import { podmanTree, type PodmanResult, umociUnpack, type Unpacked } from '../../support/images/unpack.js';

const reason = imageToolsMissing(['root', 'umoci', 'skopeo', 'podman-overlay', 'tar', 'oracle']);
const gate = toolGate(reason);

interface Subject {
  img: BuiltImage;
  umoci: Unpacked;
  kernel: Map<string, KernelVerdict>;
  overlay: PodmanResult;
  /** form -> the run on it. */
  runs: Map<FormName, SpawnResult>;
}

/** The layer whose entry is exactly at `p` ('/'-based), the last one when several are; null when none is. */
function declaredLayer(spec: ImageSpec, p: string): number | null {
  let at: number | null = null;
  spec.layers.forEach((l, i) => {
    for (const e of l.entries) if (('symlink' in e && `/${e.symlink}` === p) || ('hardlink' in e && `/${e.hardlink}` === p)) at = i;
  });
  return at;
}

describe.skipIf(gate.skip)(`linkcheck --image on real images, judged by umoci, podman and the kernel${gate.label}`, () => {
  const subjects = new Map<string, Subject>();
  const cleanups: Array<() => void> = [];
  const subject = (spec: ImageSpec): Subject => subjects.get(spec.name)!;
  const report = (s: Subject, form: FormName): ImageReport => reportOf(s.runs.get(form)!, `linkcheck --image ${s.img.forms[form]} (${form})`);

  beforeAll(() => {
    requireTool(reason);
    ensureBuilt();
    for (const spec of [CASES, CROSS_LINK]) {
      const img = buildImage(spec);
      const umoci = umociUnpack(img.forms['oci-layout']!, img.ref);
      cleanups.push(umoci.cleanup);
      const overlay = podmanTree(`oci-archive:${img.forms['oci-archive']}`, 'overlay');
      if (overlay.ok) cleanups.push(overlay.cleanup);
      const runs = new Map<FormName, SpawnResult>();
      for (const [form, p] of Object.entries(img.forms) as Array<[FormName, string]>) runs.set(form, runOnImage(p));
      subjects.set(spec.name, { img, umoci, kernel: kernelVerdicts(umoci.rootfs), overlay, runs });
    }
    const first = subject(CASES).runs.get('oci-layout')!;
    if (first.code === 2 && /unknown option/.test(first.stderr)) throw new Error(`this build of linkcheck does not read images yet: ${first.stderr.trim()}`);
  }, 600_000);
  afterAll(() => {
    for (const c of cleanups.reverse()) c();
  });

  describe.each([CASES, CROSS_LINK])('$name', (spec) => {
    it('(a) the four layered forms give byte-identical reports, layers named by diff ID', () => {
      const s = subject(spec);
      const base = s.runs.get('oci-layout')!.stdout;
      for (const form of LAYERED_FORMS) {
        const doc = report(s, form);
        expect(s.runs.get(form)!.code, `${form}: exit 1 (the images have dangling links and loops)`).toBe(1);
        expect(doc.root).toBe('/');
        // The diff ID (the uncompressed layer's digest) is the same in every form.
        expect(doc.image.layers, form).toEqual(spec.layers.map((_, i) => ({ index: i, digest: s.img.layers[i]!.diffId })));
        for (const l of doc.links) expect(l.layer.index, `${form} ${l.path}`).toBeGreaterThanOrEqual(0);
        expect(s.runs.get(form)!.stdout, `${form} vs oci-layout, byte for byte`).toBe(base);
        // Control: what the forms do differ in (compressed blobs) is nowhere in the report.
        expect(base).not.toContain(s.img.layers[0]!.gzip!);
      }
    });

    it('(a) --image-ref names the manifest, and a path inside the image scans only that subtree', () => {
      const s = subject(spec);
      const full = report(s, 'oci-layout');
      const byRef = reportOf(runOnImage(s.img.forms['oci-layout']!, ['--image-ref', s.img.ref]), '--image-ref');
      expect(normalizeReport(byRef)).toBe(normalizeReport(full));
      // A ref that names nothing is exit 2, one line.
      const none = runOnImage(s.img.forms['oci-layout']!, ['--image-ref', 'no-such-image:0']);
      expect([none.code, none.stderr.trimEnd().split('\n').length]).toEqual([2, 1]);
      const sub = reportOf(runOnImage(s.img.forms['oci-layout']!, ['/usr']), 'scan /usr');
      expect(sub.links).toEqual(full.links.filter((l) => l.path.startsWith('/usr/')));
    });

    it("(b) every link's jail view is the kernel's on umoci's tree, in every form, and each link is its layer's", () => {
      const s = subject(spec);
      for (const form of Object.keys(s.img.forms) as FormName[]) {
        const doc = report(s, form);
        const seen = doc.links.map((l) => jsonToBytes(l.path));
        expect(seen, `${form}: the links of umoci's tree`).toEqual([...s.kernel.keys()].sort());
        const bad: string[] = [];
        for (const l of doc.links) {
          const k = s.kernel.get(jsonToBytes(l.path));
          if (k === undefined) continue;
          const resolved = l.chroot.resolved === null ? null : jsonToBytes(l.chroot.resolved);
          if (l.chroot.status !== k.status || resolved !== k.resolved)
            bad.push(`${show(l.path)} -> ${show(l.target)}: linkcheck ${l.chroot.status} ${show(resolved)}, kernel ${k.status} ${k.errno ?? ''} ${show(k.resolved)}`);
          const layer = form === 'rootfs-tar' ? 0 : declaredLayer(spec, jsonToBytes(l.path));
          if (layer !== null && l.layer.index !== layer) bad.push(`${show(l.path)}: layer ${l.layer.index}, its entry is in layer ${layer}`);
        }
        expect(bad, `${form}: ${bad.length} disagreements:\n${bad.join('\n')}`).toEqual([]);
      }
    });
  });

  it("(c) every difference between podman's overlay tree and umoci's is covered by a layer-ambiguity finding", () => {
    const s = subject(CASES);
    if (!s.overlay.ok) throw new Error(s.overlay.error);
    const diffs = treeDiff(s.umoci.rootfs, s.overlay.rootfs);
    expect(diffs.length, 'the harness: the trees differ (harness.test.ts)').toBeGreaterThan(0);
    for (const form of LAYERED_FORMS) {
      const doc = report(s, form);
      const found = ambiguityPaths(doc);
      const places = found.flatMap((f) => findingPlaces(s.umoci.rootfs, f, s.overlay.ok ? s.overlay.rootfs : undefined));
      const open = diffs.filter((d) => !covered(d.path, places));
      expect(showDiff(open), `${form}: differences no layer-ambiguity finding covers (findings on: ${found.join(', ') || 'none'})`).toBe('');
      const all = [...doc.links.flatMap((l) => l.findings), ...(doc.checks ?? []).flatMap((c) => c.findings)].filter((f) => f.rule === LAYER_AMBIGUITY.rule);
      for (const f of all) expect([f.code, f.severity]).toEqual([LAYER_AMBIGUITY.code, 'warning']);
    }
  });

  it("(c) an image podman's overlay refuses (hard links to a lower layer) has a layer-ambiguity finding on each such link", () => {
    const s = subject(CROSS_LINK);
    expect(s.overlay.ok ? 'accepted' : s.overlay.error).toMatch(/no such file or directory/);
    for (const form of LAYERED_FORMS) {
      const found = ambiguityPaths(report(s, form));
      expect(found, form).toEqual(expect.arrayContaining(['/bin/sh', '/bin/rel']));
    }
  });

  describe.each(INVALID)('(d) invalid: $spec.name', ({ spec, mentions }) => {
    it.each(LAYERED_FORMS)('%s: exit 2, one line naming layer 1 and the entry', (form) => {
      const img = buildImage(spec);
      const r = runOnImage(img.forms[form]!);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(r.code, r.stderr).toBe(2);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^linkcheck: /);
      expect(namesLayer(lines[0]!, 1, img.layers[1]!), `names layer 1 (index or digest): ${lines[0]}`).toBe(true);
      expect(mentions.some((m) => lines[0]!.includes(m)), `names the entry (${mentions.join(' or ')}): ${lines[0]}`).toBe(true);
      expect(inputDigest(img.forms[form]!)).toBe(img.digests[form]);
    });

    it('the same line in every form: the layer is named by diff ID, as the reports name it', () => {
      const img = buildImage(spec);
      const lines = LAYERED_FORMS.map((form) => runOnImage(img.forms[form]!).stderr.trim());
      expect(new Set(lines).size, lines.join('\n')).toBe(1);
      expect(lines[0]).toMatch(/ \(sha256:[0-9a-f]{64}\)/);
    });
  });

  it('(f) --fix with --image exits 2 with one line, and writes nothing', () => {
    const s = subject(CASES);
    for (const form of LAYERED_FORMS) {
      const r = runOnImage(s.img.forms[form]!, ['--fix']);
      expect(r.code, `${form}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l !== ''), form).toHaveLength(1);
    }
  });

  it('(e) the inputs are byte for byte what was built, after every run', () => {
    for (const s of subjects.values())
      for (const [form, p] of Object.entries(s.img.forms) as Array<[FormName, string]>) expect(inputDigest(p), `${s.img.spec.name} ${form}`).toBe(s.img.digests[form]);
  });
});
