/**
 * `--image` on the command line: what it refuses (one line, exit 2, before anything is read or
 * after the image says why), and what its reports carry: root /, the image's layers by diff ID,
 * each link's layer, layer-ambiguity on links and on other paths naming both layers, and
 * --fix --dry-run's Dockerfile lines. Real images and the kernel's verdicts: test/integration/images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../support/cli.js';
import { compress, ociLayoutFiles, packTar, sha256, tempDir, writeFiles } from '../unit/image/image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Layer 0: a lib -> usr/lib link, a BusyBox-style absolute link, a dangling one, an absolute link
// into the image. Layer 1 writes lib/extra through layer 0's link (runtimes disagree there) and a
// link of its own.
const lower = await packTar([
  { name: 'usr/', type: 'dir' },
  { name: 'usr/lib/', type: 'dir' },
  { name: 'usr/lib/libc.so', content: 'x' },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'bin/', type: 'dir' },
  { name: 'bin/busybox', content: 'x' },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
  { name: 'bin/gone', type: 'symlink', linkname: '../nowhere' },
  { name: 'etc/', type: 'dir' },
  { name: 'etc/libc', type: 'symlink', linkname: '/usr/lib/libc.so' },
]);
const upper = await packTar([
  { name: 'lib/extra', content: 'y' },
  { name: 'srv/', type: 'dir' },
  { name: 'srv/data', type: 'symlink', linkname: '/usr/lib' },
]);
const diffIds = [sha256(lower), sha256(upper)];

function layout(name: string, images: Parameters<typeof ociLayoutFiles>[0]): string {
  const built = ociLayoutFiles(images);
  // The config's diff IDs, as a real image's: the builder writes none.
  // (linkcheck does not check blob digests, so the config is rewritten in place.)
  for (const p of built.configs.map((d) => `blobs/sha256/${d.slice(7)}`)) {
    const doc = JSON.parse(built.files.get(p)!.toString('utf8')) as object;
    built.files.set(p, Buffer.from(JSON.stringify({ ...doc, rootfs: { type: 'layers', diff_ids: diffIds } })));
  }
  return writeFiles(path.join(tmp.dir, name), built.files);
}

const one = layout('one', [{ layers: [compress(lower, 'gzip'), compress(upper, 'zstd')], refName: 'app:1' }]);
const two = layout('two', [
  { layers: [lower, upper], refName: 'app:1' },
  { layers: [lower], refName: 'base:1' },
]);

const cli = (args: string[]) => runCliInProcess(args, { cwd: tmp.dir });
const json = async (args: string[]) => {
  const r = await cli([...args, '--format', 'json']);
  return { code: r.code, stderr: r.stderr, doc: JSON.parse(r.stdout) as Record<string, any> };
};

describe('what --image refuses: exit 2, one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['with --root', ['--image', one, '--root', '/srv'], /leave out --root/],
    ['with --fix', ['--image', one, '--fix'], /an image is changed by building it again/],
    ['with --as-user', ['--image', one, '--as-user', 'nobody'], /unpack the image/],
    ['--image-ref alone', [tmp.dir, '--image-ref', 'app:1'], /--image-ref goes with --image/],
    ['an empty --image', ['--image', ''], /--image is empty/],
    ['a path that is not there', ['--image', path.join(tmp.dir, 'nope')], /cannot read the image .*ENOENT/],
    ['a file that is no tar', ['--image', path.join(one, 'index.json')], /is not an image: no tar header/],
    ['several images, none chosen', ['--image', two], /2 manifests: .*app:1.*base:1.*--image-ref/],
    ['a ref that names none', ['--image', two, '--image-ref', 'nothing:0'], /nothing:0/],
  ];
  it.each(cases)('%s', async (_what, args, says) => {
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(says);
    expect(r.stdout).toBe('');
  });
});

describe('what an image report says', () => {
  it('root /, the layers by diff ID, each link its layer, the jail view only', async () => {
    const { code, doc } = await json(['--image', one]);
    expect(code).toBe(1); // bin/gone dangles
    expect([doc.root, doc.scanned]).toEqual(['/', ['/']]);
    expect(doc.image).toEqual({ layers: [0, 1].map((i) => ({ index: i, digest: diffIds[i] })) });
    const byPath = new Map((doc.links as any[]).map((l) => [l.path, l]));
    expect([...byPath.keys()].sort()).toEqual(['/bin/gone', '/bin/sh', '/etc/libc', '/lib', '/srv/data']);
    expect(byPath.get('/srv/data').layer).toEqual({ index: 1, digest: diffIds[1] });
    expect(byPath.get('/bin/sh').layer).toEqual({ index: 0, digest: diffIds[0] });
    // An image has one view: host is chroot, and an absolute link that resolves is a note.
    for (const l of byPath.values()) expect(l.host).toEqual(l.chroot);
    expect(byPath.get('/bin/sh').findings.map((f: any) => [f.rule, f.severity])).toEqual([['absolute', 'info']]);
    expect(byPath.get('/bin/gone').chroot.status).toBe('dangling');
  });

  it('layer-ambiguity where layer 1 wrote through layer 0\'s link, naming both layers', async () => {
    const { doc } = await json(['--image', one]);
    const found = [...(doc.checks ?? []), ...doc.links].flatMap((x: any) => x.findings.filter((f: any) => f.rule === 'layer-ambiguity').map((f: any) => ({ path: x.path, ...f })));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ path: '/lib/extra', code: 'LC013', severity: 'warning' });
    expect(found[0].message).toContain(`layer 1 (${diffIds[1]!.slice(0, 19)}) over layer 0 (${diffIds[0]!.slice(0, 19)})`);
    // A path outside the scanned subtree does not carry it.
    const sub = await json(['--image', one, '/srv']);
    expect(JSON.stringify(sub.doc)).not.toContain('layer-ambiguity');
    // Nor does an excluded one, or one under an excluded directory (the walk never enters it).
    for (const pattern of ['lib', 'lib/extra']) {
      const ex = await json(['--image', one, '--exclude', pattern]);
      expect(JSON.stringify(ex.doc), pattern).not.toContain('layer-ambiguity');
    }
  });

  it('--image-ref picks one of several; the same image gives the same report', async () => {
    const picked = await json(['--image', two, '--image-ref', 'app:1']);
    const alone = await json(['--image', one]);
    expect(picked.code).toBe(alone.code);
    expect(picked.doc).toEqual(alone.doc);
    const base = await json(['--image', two, '--image-ref', 'base:1']);
    expect(base.doc.links.map((l: any) => l.path)).not.toContain('/srv/data');
  });

  it("a host's config: its rules apply, its jails, paths and reader do not", async () => {
    const config = path.join(tmp.dir, 'host.json');
    fs.writeFileSync(config, JSON.stringify({ root: '/srv/lighty', paths: ['var/www'], asUser: 'nobody', rules: { absolute: 'error' } }));
    const { code, doc } = await json(['--image', one, '--config', config]);
    const plain = await json(['--image', one, '--no-config']);
    expect(code).toBe(1);
    expect(doc.scanned).toEqual(['/']);
    expect(doc.links.map((l: any) => l.path)).toEqual(plain.doc.links.map((l: any) => l.path));
    // The config's level for absolute is taken: info became error.
    expect(doc.links.find((l: any) => l.path === '/bin/sh').findings.map((f: any) => f.severity)).toEqual(['error']);
  });

  it('pretty names the image and each problem link\'s layer', async () => {
    const r = await cli(['--image', one]);
    expect(r.stdout.split('\n')[0]).toBe('an image of 2 layers, judged as its container sees the merged root');
    expect(r.stdout).toMatch(new RegExp(`bin/gone -> \\.\\./nowhere: dangles .*\\n  error LC003 dangling · layer 0 \\(${diffIds[0]!.slice(0, 19)}\\)`));
    expect(r.stdout).not.toMatch(/in the jail|--root/);
  });

  it('--fix --dry-run plans, and says it as Dockerfile lines; nothing is written', async () => {
    const before = fs.readdirSync(one, { recursive: true, encoding: 'utf8' }).sort();
    const r = await cli(['--image', one, '--fix', '--dry-run', '--fail-on', 'never', '--rule', 'absolute=warning']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("would fix bin/sh: /bin/busybox -> busybox");
    expect(r.stdout).toContain('In the Dockerfile, after the layer that writes these links:\nRUN ["ln", "-sfn", "--", "busybox", "/bin/sh"]\n');
    expect(r.stdout).toContain('RUN ["ln", "-sfn", "--", "../usr/lib/libc.so", "/etc/libc"]\n');
    expect(fs.readdirSync(one, { recursive: true, encoding: 'utf8' }).sort()).toEqual(before);
  });
});

describe('the library: auditImage', () => {
  it('answers what --image --format json says', async () => {
    const { auditImage } = await import('../../src/index.js');
    const lib = await auditImage({ image: one });
    const { doc } = await json(['--image', one]);
    expect(lib.image).toEqual(doc.image);
    expect(lib.summary).toEqual(doc.summary);
    expect(lib.links.map((l) => [l.path, l.layer, l.findings.map((f) => f.message)])).toEqual(doc.links.map((l: any) => [l.path, l.layer, l.findings.map((f: any) => f.message)]));
    expect(lib.checks?.map((c) => c.path)).toEqual(doc.checks.map((c: any) => c.path));
    // A path inside the image, and a ref that picks one of several.
    const sub = await auditImage({ image: two, imageRef: 'app:1', paths: ['/srv'] });
    expect(sub.links.map((l) => l.path)).toEqual(['/srv/data']);
    await expect(auditImage({ image: two })).rejects.toThrow(/--image-ref/);
  });
});
