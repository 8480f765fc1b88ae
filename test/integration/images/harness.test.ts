/**
 * The harness the `--image` tests stand on, checked against the real tools without linkcheck:
 * the tar writer's layers read back by GNU tar, the forms skopeo derives, umoci's and podman's
 * merged trees (overlay and vfs), the tree diff, the kernel's verdicts, the cache, and the
 * helpers that read linkcheck's report. What is asserted here is measured, on Debian 12 (umoci
 * 0.4.7, skopeo 1.9.3, podman 4.3.1, GNU tar 1.34, Linux 6.x, ext4, as root):
 *
 * - umoci unpack (and podman's vfs driver: the same tree, byte for byte) applies each layer onto
 *   the tree so far: an upper entry whose parent is a lower symlink is written through the link
 *   (`lib/added` under `lib -> usr/lib` lands at /usr/lib/added), a whiteout under a lower
 *   symlink removes the link's target's entry (`srv/alt/.wh.x` removes /srv/real/x); a
 *   directory entry over a lower symlink replaces the link (unless `--keep-dirlinks`).
 * - podman's overlay driver keeps each layer apart and lets overlayfs merge them: the upper
 *   layer's implicit directory hides the lower symlink, so /lib and /srv/alt are directories
 *   holding only the upper entries, /usr/lib/added does not exist and /srv/real/x survives. Those
 *   seven paths are all the two trees differ in. (overlayfs lists the whiteout in such an
 *   upper-only directory in readdir while lstat says ENOENT: treeDiff skips it.)
 * - A hard link to a lower layer's entry: umoci and vfs link to the lower inode; overlay refuses
 *   the image ("processing tar file(no such file or directory)").
 * - A sparse file in the old GNU form (typeflag 'S'): umoci ("unknown typeflag") and podman
 *   ("unhandled tar header type 83") refuse the layer; PAX 1.0 sparse files are read by all.
 * - Invalid layers: a hard link to nothing is refused by all three; a bare `.wh.` is refused by
 *   podman (overlay: "file exists"; vfs: "chtimes /etc: no such file or directory") while umoci
 *   empties the directory; `etc/../../escape` is accepted by all three, as /escape.
 * - skopeo: zstd layers (`--dest-compress-format zstd`) work, but umoci 0.4.7 cannot unpack them
 *   ("blob is not correct mediatype"); podman can. The docker archive holds uncompressed layers
 *   named `<diff id>.tar`, with `<id>/layer.tar` symlinks to them in the archive.
 * - `podman pull oci:<dir>` names the image after the directory and fails on upper-case letters
 *   ("repository name must be lowercase"): the harness pulls the archives.
 * - Time: CASES builds in 0.7 s (all six small images in about 1.5 s; from the cache, digests
 *   checked, 0.04 s); umoci unpacks it in 0.1 s; podman pulls and mounts it in about 0.8 s with
 *   either driver. This file runs in 10 to 20 s.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../../support/disk.js';
import { requireTool, toolGate } from '../../support/integration.js';
import { CASES, CROSS_LINK, INVALID, SPARSE_GNU } from '../../support/images/cases.js';
import { type BuiltImage, buildImage, type FormName, inputDigest, layerNames, layerTar, umociUnpackInto } from '../../support/images/image.js';
import { type KernelVerdict, kernelVerdicts } from '../../support/images/kernel.js';
import { ambiguityPaths, covered, findingPlaces, type ImageReport, namesLayer, normalizeReport } from '../../support/images/report.js';
import { imageToolsMissing, mustRun, toolVersion } from '../../support/images/tools.js';
import { treeDiff, treeEntries, showDiff } from '../../support/images/tree-diff.js';
import { podmanTree, type PodmanResult, umociUnpack, type Unpacked } from '../../support/images/unpack.js';

const reason = imageToolsMissing(['root', 'umoci', 'skopeo', 'podman-overlay', 'tar', 'oracle']);
const gate = toolGate(reason);

/** The paths where podman's overlay tree of CASES differs from umoci's, and how. */
const OVERLAY_VS_UMOCI = [
  '/lib: kind (symlink -> usr/lib | dir)',
  '/lib/added: presence (absent | file)',
  '/lib/added-link: presence (absent | symlink -> ../bin/busybox)',
  '/srv/alt: kind (symlink -> real | dir)',
  '/srv/real/x: presence (absent | file)',
  '/usr/lib/added: presence (file | absent)',
  '/usr/lib/added-link: presence (symlink -> ../bin/busybox | absent)',
];

describe.skipIf(gate.skip)(`image test harness: umoci, skopeo, podman overlay and vfs, the kernel${gate.label}`, () => {
  const timings: string[] = [];
  const timed = <T>(what: string, f: () => T): T => {
    const t0 = Date.now();
    const v = f();
    timings.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    return v;
  };
  let cases: BuiltImage;
  let umoci: Unpacked;
  let overlay: PodmanResult;
  let vfs: PodmanResult;
  const cleanups: Array<() => void> = [];

  beforeAll(() => {
    requireTool(reason);
    cases = timed('build CASES (0 when cached)', () => buildImage(CASES));
    umoci = timed('umoci unpack CASES', () => umociUnpack(cases.forms['oci-layout']!, cases.ref));
    cleanups.push(() => umoci.cleanup());
    overlay = timed('podman overlay: pull + image mount', () => podmanTree(`oci-archive:${cases.forms['oci-archive']}`, 'overlay'));
    if (overlay.ok) cleanups.push(overlay.cleanup);
    vfs = timed('podman vfs: pull + image mount', () => podmanTree(`oci-archive:${cases.forms['oci-archive']}`, 'vfs'));
    if (vfs.ok) cleanups.push(vfs.cleanup);
  }, 600_000);

  afterAll(() => {
    for (const c of cleanups.reverse()) c();
    // eslint-disable-next-line no-console
    console.log(`image harness: ${['umoci', 'skopeo', 'podman', 'tar'].map(toolVersion).join('; ')}\n  ${timings.join('\n  ')}`);
  });

  const must = (r: PodmanResult): Unpacked => {
    if (!r.ok) throw new Error(r.error);
    return r;
  };

  it('the tar writer: GNU tar lists every layer back exactly, names over 100 bytes (PAX and GNU) and the PAX sparse file included', () => {
    for (const [i] of CASES.layers.entries()) {
      const r = spawnSync('tar', ['-t', '--quoting-style=literal', '-f', '-'], { input: layerTar(CASES, i), encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n').filter((l) => l !== '')).toEqual(layerNames(CASES, i));
    }
    const sparse = spawnSync('tar', ['-xO', '-f', '-', 'var/sparse-pax'], { input: layerTar(CASES, 2), maxBuffer: 4 << 20 });
    expect(sparse.status).toBe(0);
    expect(sparse.stdout.length).toBe(1 << 20);
    expect(sparse.stdout.subarray(4096, 4098).toString()).toBe('a\n');
    expect(sparse.stdout.subarray(1 << 19, (1 << 19) + 2).toString()).toBe('b\n');
    expect(sparse.stdout.subarray(0, 4096).every((b) => b === 0)).toBe(true);
  });

  it('skopeo derives the forms: zstd layers, an OCI archive, a docker archive of uncompressed layers named by diff id', () => {
    const zstdIndex = JSON.parse(fs.readFileSync(`${cases.forms['oci-layout-zstd']}/index.json`, 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(fs.readFileSync(`${cases.forms['oci-layout-zstd']}/blobs/sha256/${zstdIndex.manifests[0]!.digest.slice(7)}`, 'utf8')) as { layers: Array<{ mediaType: string; digest: string }> };
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(CASES.layers.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'));
    expect(manifest.layers.map((l) => l.digest)).toEqual(cases.layers.map((l) => l.zstd));
    const docker = mustRun('tar', ['-xOf', cases.forms['docker-archive']!, 'manifest.json']);
    const layers = (JSON.parse(docker.stdout) as Array<{ Layers: string[] }>)[0]!.Layers;
    // skopeo names each layer by its diff id (older docker save: <id>/layer.tar).
    expect(layers.map((l) => l.replace(/^.*?([0-9a-f]{64}).*$/, 'sha256:$1'))).toEqual(cases.layers.map((l) => l.diffId));
    expect(mustRun('tar', ['-tf', cases.forms['oci-archive']!]).stdout).toMatch(/^index\.json$/m);
    // umoci 0.4.7 cannot read zstd layers: podman and linkcheck are the readers of that form.
    const base = tempDir('umoci-zstd');
    try {
      expect(umociUnpackInto(cases.forms['oci-layout-zstd']!, cases.ref, `${base}/b`)).toMatch(/mediatype/);
    } finally {
      removeDir(base);
    }
  });

  it("umoci's tree: whiteouts, opaque whiteouts, replacements, entries under lower symlinks, long names, the sparse file", () => {
    const e = treeEntries(umoci.rootfs);
    const kind = (p: string): string => e.get(p)?.kind ?? 'absent';
    const text = (p: string): string | undefined => (e.get(p)?.kind === 'symlink' ? e.get(p)!.detail : undefined);
    // Explicit whiteouts (of a file, of a symlink) and the opaque one.
    expect([kind('/opt/b/keep'), kind('/opt/b/gone'), kind('/opt/oldlink')]).toEqual(['file', 'absent', 'absent']);
    expect([...e.keys()].filter((p) => p.startsWith('/opt/a/')).sort()).toEqual(['/opt/a/3', '/opt/a/l1-gone', '/opt/a/l3']);
    // A directory replaced by a link, a link by a file, a lower symlink by a directory entry.
    expect(text('/data')).toBe('/srv/real');
    expect(kind('/data/old.txt')).toBe('absent');
    expect(kind('/etc/conf')).toBe('file');
    expect(kind('/lib64')).toBe('dir');
    expect(kind('/lib64/ld.so')).toBe('file');
    // Written through the lower symlinks.
    expect(text('/lib')).toBe('usr/lib');
    expect(kind('/usr/lib/added')).toBe('file');
    expect(text('/usr/lib/added-link')).toBe('../bin/busybox');
    expect(text('/srv/alt')).toBe('real');
    expect([kind('/srv/real/x'), kind('/srv/real/y')]).toEqual(['absent', 'file']);
    // A hard link to a symlink is a symlink with the same text (and inode).
    expect(text('/bin/rel')).toBe('deep/x');
    expect(fs.lstatSync(`${umoci.rootfs}/bin/rel`).ino).toBe(fs.lstatSync(`${umoci.rootfs}/usr/lib/rel`).ino);
    expect(text('/usr/share/pax-link')).toMatch(/^long-p{115}\/file$/);
    expect(text('/var/gnu-link')).toMatch(/^long-g{105}\/file$/);
    const sparse = fs.readFileSync(`${umoci.rootfs}/var/sparse-pax`);
    expect(sparse.length).toBe(1 << 20);
    expect(sparse.subarray(1 << 19, (1 << 19) + 2).toString()).toBe('b\n');
  });

  it("podman's vfs driver builds umoci's tree exactly", () => {
    expect(showDiff(treeDiff(umoci.rootfs, must(vfs).rootfs))).toBe('');
  });

  it("podman's overlay differs from umoci exactly at the entries under lower symlinks and the whiteout under one", () => {
    expect(showDiff(treeDiff(umoci.rootfs, must(overlay).rootfs)).split('\n')).toEqual(OVERLAY_VS_UMOCI);
  });

  it('podman reads the docker archive and the zstd layout into the same overlay tree', () => {
    for (const source of [`docker-archive:${cases.forms['docker-archive']}`, `oci:${cases.forms['oci-layout-zstd']}:${cases.ref}`]) {
      const other = must(podmanTree(source, 'overlay'));
      try {
        expect(showDiff(treeDiff(must(overlay).rootfs, other.rootfs)), source).toBe('');
      } finally {
        other.cleanup();
      }
    }
  });

  it("the plain rootfs tar holds umoci's tree", () => {
    const base = tempDir('rootfs-tar');
    try {
      mustRun('tar', ['-xf', cases.forms['rootfs-tar']!, '-C', base]);
      expect(showDiff(treeDiff(umoci.rootfs, base))).toBe('');
    } finally {
      removeDir(base);
    }
  });

  it("the kernel's verdicts on umoci's tree, and where the overlay tree's differ", () => {
    const show = (m: Map<string, KernelVerdict>, p: string): string => `${m.get(p)?.status ?? 'no link'} ${m.get(p)?.resolved ?? '-'}`;
    const k = kernelVerdicts(umoci.rootfs);
    const expected: Record<string, string> = {
      '/bin/sh': 'ok /bin/busybox',
      '/bin/ls': 'ok /bin/busybox',
      '/usr/bin/env': 'ok /bin/busybox',
      '/usr/bin/climb': 'ok /etc/passwd',
      '/usr/bin/climb-dangles': 'dangling -',
      '/libbin': 'ok /usr/lib/deep/bin',
      '/usr/lib/rel': 'ok /usr/lib/deep/x',
      '/bin/rel': 'dangling -',
      '/loop1': 'loop -',
      '/notdir': 'notdir -',
      '/data': 'ok /srv/real',
      '/srv/y': 'ok /srv/real/y',
      '/opt/a/l1-gone': 'dangling -',
      '/usr/lib/added-link': 'dangling -',
      '/var/to-sparse': 'ok /var/sparse-pax',
      '/var/through-sparse': 'notdir -',
      '/etc/alternatives/editor': 'dangling -',
    };
    for (const [p, want] of Object.entries(expected)) expect(show(k, p), p).toBe(want);
    expect(k.has('/opt/oldlink')).toBe(false);
    expect(k.has('/etc/conf')).toBe(false);
    // Every link of the tree has a verdict.
    expect(k.size).toBe([...treeEntries(umoci.rootfs).values()].filter((x) => x.kind === 'symlink').length);
    // In podman's overlay the same image answers otherwise.
    const o = kernelVerdicts(must(overlay).rootfs);
    expect(show(o, '/srv/y')).toBe('dangling -');
    expect(show(o, '/lib/added-link')).toBe('ok /bin/busybox');
    expect(show(o, '/libbin')).toBe('dangling -');
  });

  it('the coverage rule explains every overlay difference by one finding per lower symlink passed through, and not by fewer', () => {
    const o = must(overlay).rootfs;
    const diffs = treeDiff(umoci.rootfs, o).map((d) => d.path);
    const open = (findings: string[]): string[] => {
      const places = findings.flatMap((f) => findingPlaces(umoci.rootfs, f, o));
      return diffs.filter((p) => !covered(p, places));
    };
    // A report may put the whiteout's finding on the whiteout entry or on the path it removes,
    // and one finding on the first entry through a link or one on each.
    for (const wh of ['/srv/alt/.wh.x', '/srv/alt/x']) {
      expect(open(['/lib/added', wh])).toEqual([]);
      expect(open(['/lib/added', '/lib/added-link', wh])).toEqual([]);
      expect(open(['/lib/added'])).toEqual(['/srv/alt', '/srv/real/x']);
      expect(open([wh])).toEqual(['/lib', '/lib/added', '/lib/added-link', '/usr/lib/added', '/usr/lib/added-link']);
    }
    expect(findingPlaces(umoci.rootfs, '/lib/added', o).sort()).toEqual(['/lib', '/lib/added', '/usr/lib/added', '/usr/lib/added-link']);
    // Without the overlay tree: the entry, where it lands, and the link it passed through.
    expect(findingPlaces(umoci.rootfs, '/lib/added').sort()).toEqual(['/lib', '/lib/added', '/usr/lib/added']);
  });

  it('cross-layer hard links: umoci and vfs link to the lower inode, overlay refuses the image', () => {
    const img = buildImage(CROSS_LINK);
    const u = umociUnpack(img.forms['oci-layout']!, img.ref);
    try {
      expect(fs.lstatSync(`${u.rootfs}/bin/sh`).ino).toBe(fs.lstatSync(`${u.rootfs}/bin/busybox`).ino);
      expect(fs.readlinkSync(`${u.rootfs}/bin/rel`)).toBe('deep/x');
      expect(kernelVerdicts(u.rootfs).get('/bin/rel')?.status).toBe('dangling');
      const v = must(podmanTree(`oci-archive:${img.forms['oci-archive']}`, 'vfs'));
      try {
        expect(showDiff(treeDiff(u.rootfs, v.rootfs))).toBe('');
      } finally {
        v.cleanup();
      }
      const o = podmanTree(`oci-archive:${img.forms['oci-archive']}`, 'overlay');
      if (o.ok) o.cleanup();
      expect(o.ok ? 'overlay accepted it' : o.error).toMatch(/processing tar file\(no such file or directory\)/);
    } finally {
      u.cleanup();
    }
  });

  it('invalid layers and old GNU sparse files: what umoci and podman do with them', () => {
    const facts: Record<string, string> = {};
    for (const spec of [...INVALID.map((c) => c.spec), SPARSE_GNU]) {
      const img = buildImage(spec);
      expect(Object.keys(img.forms).sort(), spec.name).toEqual(expect.arrayContaining(['docker-archive', 'oci-archive', 'oci-layout', 'oci-layout-zstd']));
      const tools: string[] = [];
      if (img.umociError) tools.push(`umoci refuses (${img.umociError.replace(/^.*⨯\s*/, '')})`);
      else {
        const u = umociUnpack(img.forms['oci-layout']!, img.ref);
        tools.push(`umoci: ${[...treeEntries(u.rootfs).keys()].sort().join(' ')}`);
        u.cleanup();
      }
      for (const driver of ['overlay', 'vfs'] as const) {
        const p = podmanTree(`oci-archive:${img.forms['oci-archive']}`, driver);
        if (p.ok) {
          tools.push(`${driver}: ${[...treeEntries(p.rootfs).keys()].sort().join(' ')}`);
          p.cleanup();
        } else tools.push(`${driver} refuses (${/\(([^()]*)\)|stderr: (.*?) exit status/.exec(p.error)?.slice(1).find((x) => x) ?? p.error})`);
      }
      facts[spec.name] = tools.join('; ');
    }
    // eslint-disable-next-line no-console
    console.log(`invalid layers:\n${Object.entries(facts).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    expect(facts['linkcheck-invalid-hardlink']).toMatch(/^umoci refuses .*overlay refuses .*vfs refuses/);
    expect(facts['linkcheck-invalid-bare-wh']).toMatch(/^umoci: \/etc; overlay refuses .*vfs refuses/);
    expect(facts['linkcheck-invalid-dotdot']).toBe(['umoci', 'overlay', 'vfs'].map((t) => `${t}: /escape /etc /etc/motd /etc/passwd`).join('; '));
    expect(facts['linkcheck-sparse-gnu']).toMatch(/^umoci refuses .*typeflag.*overlay refuses \(unhandled tar header type 83\); vfs refuses/);
  });

  it('umoci --keep-dirlinks keeps the lower symlink under a directory entry (lib64), the default replaces it', () => {
    const base = tempDir('keep-dirlinks');
    try {
      mustRun('umoci', ['unpack', '--keep-dirlinks', '--image', `${cases.forms['oci-layout']}:${cases.ref}`, `${base}/b`]);
      const d = treeDiff(umoci.rootfs, `${base}/b/rootfs`);
      expect(showDiff(d).split('\n')).toEqual(['/lib64: kind (dir | symlink -> usr/lib)', '/lib64/ld.so: presence (file | absent)', '/usr/lib/ld.so: presence (absent | file)']);
    } finally {
      removeDir(base);
    }
  });

  it('the report helpers: a normalised report ignores the image header and layer digests (in messages too); namesLayer reads indexes and digests', () => {
    // The form (`_kind`) is not in a report: it is the same for every form.
    const doc = (_kind: string, digest: string | null): ImageReport => ({
      schemaVersion: 1,
      root: '/',
      scanned: ['/'],
      image: { layers: [{ index: 0, digest }] },
      links: [{ path: '/a', target: 'b', inside: '/a', chroot: { status: 'ok', resolved: '/b', errno: null, failedAt: null, hops: 1 }, host: null, layer: { index: 0, digest }, findings: [{ rule: 'layer-ambiguity', code: 'LC013', severity: 'warning', message: digest === null ? 'layer 0 over layer 1' : `layer 0 (${digest.slice(0, 19)}) over layer 1 (${digest})` }] }],
      unreadable: [],
      checks: [{ path: '/c', findings: [{ rule: 'layer-ambiguity', code: 'LC013', severity: 'warning', message: 'm' }] }],
      changes: [],
      summary: { links: 1 },
    });
    const [A, B] = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`];
    expect(normalizeReport(doc('oci-layout', A))).toBe(normalizeReport(doc('oci-layout', B)));
    expect(normalizeReport(doc('oci-layout', A))).toBe(normalizeReport(doc('docker-archive', null)));
    const other = doc('oci-layout', A);
    other.links[0]!.layer.index = 1;
    expect(normalizeReport(other)).not.toBe(normalizeReport(doc('oci-layout', A)));
    expect(ambiguityPaths(doc('oci-layout', A))).toEqual(['/a', '/c']);
    const l = cases.layers[1]!;
    expect(namesLayer('linkcheck: layer 1: etc/.wh.: empty whiteout', 1, l)).toBe(true);
    expect(namesLayer(`linkcheck: ${l.gzip}: bad`, 1, l)).toBe(true);
    expect(namesLayer(`linkcheck: layer ${l.diffId.slice(7, 19)}: bad`, 1, l)).toBe(true);
    expect(namesLayer('linkcheck: layer 0: bad', 1, l)).toBe(false);
    expect(namesLayer('linkcheck: layer 10: bad', 1, l)).toBe(false);
  });

  it("reading the images changed nothing; a second build comes from the cache", () => {
    for (const [f, p] of Object.entries(cases.forms)) expect(inputDigest(p), f).toBe(cases.digests[f as FormName]);
    const t0 = Date.now();
    const again = buildImage(CASES);
    const ms = Date.now() - t0;
    timings.push(`build CASES from the cache (digests checked): ${(ms / 1000).toFixed(2)} s`);
    expect(again.buildSeconds).toBe(0);
    expect(again.dir).toBe(cases.dir);
    expect(ms).toBeLessThan(10_000);
  });
});
