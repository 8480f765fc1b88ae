/**
 * `linkcheck --image` on a real Debian image: `debootstrap --variant=minbase` of this machine's
 * release from apt's mirror, made an image by umoci, plus two layers as `umoci insert` writes them
 * (test/support/images/minbase.ts): /bin/hello under the lower layer's `bin -> usr/bin`, and a
 * whiteout of /usr/share/doc. Built once and cached (/var/cache/linkcheck-test-images): about a
 * minute the first time (debootstrap), seconds after.
 *
 * The first test checks the image itself (no linkcheck): merged /usr, umoci writes /bin/hello
 * through the link, podman's overlay makes /bin a directory holding only `hello` (the container
 * loses /bin/sh). The others hold `linkcheck --image` to the kernel on the tree `umoci unpack`
 * makes (every link, in the OCI layout, OCI archive and docker archive), to podman's overlay
 * (each difference covered by a layer-ambiguity finding), and leave the inputs unchanged.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../support/build.js';
import { requireTool, toolGate } from '../../support/integration.js';
import { jsonToBytes, show } from '../../support/random-tree.js';
import { type FormName, inputDigest } from '../../support/images/image.js';
import { type KernelVerdict, kernelVerdicts } from '../../support/images/kernel.js';
import { buildMinbase, type MinbaseImage } from '../../support/images/minbase.js';
import { ambiguityPaths, covered, findingPlaces, type ImageReport, normalizeReport, reportOf, runOnImage } from '../../support/images/report.js';
import { imageToolsMissing } from '../../support/images/tools.js';
import { showDiff, treeDiff, treeEntries } from '../../support/images/tree-diff.js';
import { podmanTree, type PodmanResult, umociUnpack, type Unpacked } from '../../support/images/unpack.js';

const reason = imageToolsMissing(['root', 'debootstrap', 'umoci', 'skopeo', 'podman-overlay', 'tar', 'oracle']);
const gate = toolGate(reason);

const FORMS: readonly FormName[] = ['oci-layout', 'oci-archive', 'docker-archive'];

describe.skipIf(gate.skip)(`a Debian minbase image (debootstrap, umoci), judged by the kernel and podman${gate.label}`, () => {
  let img: MinbaseImage;
  let umoci: Unpacked;
  let overlay: PodmanResult;
  let kernel: Map<string, KernelVerdict>;
  const cleanups: Array<() => void> = [];
  const reports = new Map<FormName, ImageReport>();
  /** linkcheck's report on `form`, run once. */
  const reportFor = (form: FormName): ImageReport => {
    let doc = reports.get(form);
    if (doc === undefined) {
      ensureBuilt();
      doc = reportOf(runOnImage(img.forms[form]!), `linkcheck --image ${img.forms[form]} (${form})`);
      reports.set(form, doc);
    }
    return doc;
  };

  beforeAll(() => {
    requireTool(reason);
    const t0 = Date.now();
    img = buildMinbase();
    const built = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    umoci = umociUnpack(img.forms['oci-layout']!, img.ref);
    cleanups.push(umoci.cleanup);
    const unpacked = (Date.now() - t1) / 1000;
    kernel = kernelVerdicts(umoci.rootfs);
    const t2 = Date.now();
    overlay = podmanTree(`oci-archive:${img.forms['oci-archive']}`, 'overlay');
    if (overlay.ok) cleanups.push(overlay.cleanup);
    // eslint-disable-next-line no-console
    console.log(
      `minbase (${img.suite}, ${img.mirror}): ${img.buildSeconds ? `built in ${img.buildSeconds} s (debootstrap ${img.debootstrapSeconds} s)` : `from the cache in ${built} s`}; ` +
        `umoci unpack ${unpacked} s; podman overlay ${(Date.now() - t2) / 1000} s; ${kernel.size} links`,
    );
  }, 1_800_000);
  afterAll(() => {
    for (const c of cleanups.reverse()) c();
  });

  it("the image: merged /usr; umoci writes /bin/hello through bin -> usr/bin, podman's overlay makes /bin a directory of hello alone", () => {
    expect(fs.readlinkSync(`${umoci.rootfs}/bin`)).toBe('usr/bin');
    expect(fs.readFileSync(`${umoci.rootfs}/usr/bin/hello`, 'utf8')).toBe('hello from an upper layer\n');
    expect(fs.existsSync(`${umoci.rootfs}/usr/share/doc`)).toBe(false);
    expect(kernel.get('/bin')).toEqual({ status: 'ok', resolved: '/usr/bin', errno: null });
    expect(kernel.size).toBeGreaterThan(100);
    if (!overlay.ok) throw new Error(overlay.error);
    expect(fs.readdirSync(`${overlay.rootfs}/bin`)).toEqual(['hello']);
    const d = treeDiff(umoci.rootfs, overlay.rootfs);
    expect(showDiff(d).split('\n')).toEqual(['/bin: kind (symlink -> usr/bin | dir)', '/bin/hello: presence (absent | file)', '/usr/bin/hello: presence (file | absent)']);
    expect([...treeEntries(overlay.rootfs).keys()].filter((p) => p === '/usr/share/doc' || p.startsWith('/usr/share/doc/'))).toEqual([]);
  });

  it.each(FORMS)("%s: every link's jail view is the kernel's on umoci's tree", (form) => {
    const doc = reportFor(form);
    expect(doc.root).toBe('/');
    expect(doc.links.map((l) => jsonToBytes(l.path))).toEqual([...kernel.keys()].sort());
    const bad: string[] = [];
    for (const l of doc.links) {
      const k = kernel.get(jsonToBytes(l.path));
      const resolved = l.chroot.resolved === null ? null : jsonToBytes(l.chroot.resolved);
      if (k && (l.chroot.status !== k.status || resolved !== k.resolved)) bad.push(`${show(l.path)} -> ${show(l.target)}: linkcheck ${l.chroot.status} ${show(resolved)}, kernel ${k.status} ${show(k.resolved)}`);
    }
    expect(bad, `${bad.length} disagreements:\n${bad.slice(0, 50).join('\n')}`).toEqual([]);
  });

  it('the three forms give one report (the image header set aside)', () => {
    const base = normalizeReport(reportFor('oci-layout'));
    for (const form of FORMS) expect(normalizeReport(reportFor(form)), form).toBe(base);
  });

  it("every difference between podman's overlay tree and umoci's is covered by a layer-ambiguity finding", () => {
    if (!overlay.ok) throw new Error(overlay.error);
    const found = ambiguityPaths(reportFor('oci-layout'));
    const places = found.flatMap((f) => findingPlaces(umoci.rootfs, f, overlay.ok ? overlay.rootfs : undefined));
    const open = treeDiff(umoci.rootfs, overlay.rootfs).filter((d) => !covered(d.path, places));
    expect(showDiff(open), `findings on: ${found.join(', ') || 'none'}`).toBe('');
  });

  it('the inputs are unchanged', () => {
    for (const form of FORMS) reportFor(form);
    for (const [form, p] of Object.entries(img.forms) as Array<[FormName, string]>) expect(inputDigest(p), form).toBe(img.digests[form]);
  });
});
