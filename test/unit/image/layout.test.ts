import * as nodeFs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { ImageError } from '../../../src/image/image-error.js';
import { blobPath, directoryStore } from '../../../src/image/image-store.js';
import { chooseManifest, describeChoice, diffIds, dockerManifests, type ManifestChoice, ociManifests, selectManifest, withRepoTags } from '../../../src/image/layout.js';
import type { ImageStore } from '../../../src/image/image-store.js';
import { type ImageSpec, ociLayoutFiles, rawTar, sha256, tempDir, writeFiles } from './image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const layer = (n: string): Buffer => rawTar([{ name: n, content: n }]);
let dirs = 0;
async function choicesOf(images: ImageSpec[], opts: Parameters<typeof ociLayoutFiles>[1] = {}, edit?: (files: Map<string, Buffer>) => void) {
  const built = ociLayoutFiles(images, opts);
  edit?.(built.files);
  const dir = writeFiles(path.join(tmp.dir, `l${dirs++}`), built.files);
  return { choices: await ociManifests(directoryStore(dir), dir), ...built, dir };
}

const choice = (c: Partial<ManifestChoice>): ManifestChoice => ({ digest: null, configDigest: null, configPath: null, names: [], platform: null, layers: [], ...c });
const D1 = 'sha256:' + '1'.repeat(12) + 'a'.repeat(52);
const D2 = 'sha256:' + '2'.repeat(12) + 'b'.repeat(52);
const D3 = 'sha256:' + '1'.repeat(12) + 'c'.repeat(52);

describe('choosing a manifest', () => {
  const three = [
    choice({ digest: D1, names: ['latest'], platform: 'linux/amd64' }),
    choice({ digest: D2, names: ['latest', 'app:1.0'], platform: 'linux/arm64/v8' }),
    choice({ digest: D3, names: ['debug'], platform: 'linux/amd64', configDigest: 'sha256:' + 'f'.repeat(64) }),
  ];

  it('takes the only one without a ref', () => {
    expect(selectManifest([three[0]!], undefined, 'img')).toBe(three[0]);
  });

  it('with several and no ref: a UsageError that lists them, by name, platform and digest, on one line', () => {
    expect(() => selectManifest(three, undefined, 'img')).toThrow(UsageError);
    expect(() => selectManifest(three, undefined, 'img')).toThrow(
      'the image has 3 manifests: latest linux/amd64 sha256:111111111111, latest linux/arm64/v8 sha256:222222222222, debug linux/amd64 sha256:111111111111; pick one with --image-ref',
    );
  });

  it('by name, RepoTag, platform, digest, unique digest prefix (with or without sha256:) or config digest', () => {
    expect(selectManifest(three, 'debug', 'img')).toBe(three[2]);
    expect(selectManifest(three, 'app:1.0', 'img')).toBe(three[1]);
    expect(selectManifest(three, 'linux/arm64/v8', 'img')).toBe(three[1]);
    expect(selectManifest(three, D3, 'img')).toBe(three[2]);
    expect(selectManifest(three, 'sha256:2222', 'img')).toBe(three[1]);
    expect(selectManifest(three, '111111111111c', 'img')).toBe(three[2]);
    expect(selectManifest(three, 'sha256:ffff', 'img')).toBe(three[2]);
  });

  it('refuses a ref matching several, or none, listing what there is', () => {
    expect(() => selectManifest(three, 'latest', 'img')).toThrow('--image-ref latest matches 2 manifests: latest linux/amd64 sha256:111111111111, latest linux/arm64/v8 sha256:222222222222; pick one with --image-ref');
    expect(() => selectManifest(three, 'sha256:1111', 'img')).toThrow(/matches 2 manifests/);
    expect(() => selectManifest(three, 'nginx', 'img')).toThrow(/^no manifest of the image matches --image-ref nginx; it has: latest linux\/amd64/);
    expect(() => selectManifest(three, 'sha256:', 'img')).toThrow(/no manifest/);
    expect(() => selectManifest(three, '111', 'img')).toThrow(/no manifest/);
  });

  it('takes docker names as users type them (t for docker.io/library/t:latest); an exact name wins, a bare tag matches only exactly', () => {
    const hub = choice({ digest: D1, names: ['docker.io/library/t:latest'] });
    const local = choice({ digest: D2, names: ['localhost/linkcheck-test-minbase:latest'] });
    const tagged = choice({ digest: D3, names: ['1.0'] });
    const two = [hub, local, tagged];
    for (const ref of ['t', 't:latest', 'library/t', 'docker.io/library/t', 'docker.io/library/t:latest', 'index.docker.io/library/t']) expect(selectManifest(two, ref, 'img')).toBe(hub);
    for (const ref of ['linkcheck-test-minbase', 'linkcheck-test-minbase:latest', 'localhost/linkcheck-test-minbase']) expect(selectManifest(two, ref, 'img')).toBe(local);
    expect(selectManifest(two, '1.0', 'img')).toBe(tagged);
    for (const ref of ['t:1.0', 'library/1.0', '1.0:latest', 'minbase']) expect(() => selectManifest(two, ref, 'img')).toThrow(/^no manifest of the image matches/);
    // Two images whose names both mean t:latest: only the exact name tells them apart.
    const other = choice({ digest: D3, names: ['localhost/t:latest'] });
    expect(() => selectManifest([hub, other], 't', 'img')).toThrow(UsageError);
    expect(() => selectManifest([hub, other], 't:latest', 'img')).toThrow(/^--image-ref t:latest matches 2 manifests: docker.io\/library\/t:latest sha256:111111111111, localhost\/t:latest sha256:111111111111; pick one/);
    expect(selectManifest([hub, other], 'localhost/t:latest', 'img')).toBe(other);
  });

  it('by platform from the image config when the index does not say, reading configs only for a platform', async () => {
    const { choices, dir } = await choicesOf(
      [
        { layers: [layer('amd')], platform: { os: 'linux', architecture: 'amd64' }, refName: 'a' },
        { layers: [layer('arm')], platform: { os: 'linux', architecture: 'arm64' }, refName: 'b' },
      ],
      {},
      (files) => {
        const idx = JSON.parse(files.get('index.json')!.toString());
        for (const d of idx.manifests) delete d.platform;
        files.set('index.json', Buffer.from(JSON.stringify(idx)));
        // The second config says its variant, as arm64 images do.
        const m = JSON.parse(files.get(blobPath(idx.manifests[1].digest, 'x'))!.toString());
        const p = blobPath(m.config.digest, 'x');
        files.set(p, Buffer.from(JSON.stringify({ ...JSON.parse(files.get(p)!.toString()), variant: 'v8' })));
      },
    );
    const read: string[] = [];
    const inner = directoryStore(dir);
    const store: ImageStore = { ...inner, readText: (p) => (read.push(p), inner.readText(p)) };
    expect(choices.map((c) => c.platform)).toEqual([null, null]);
    expect(await chooseManifest(store, choices, 'b', dir)).toBe(choices[1]);
    expect(await chooseManifest(store, choices, choices[0]!.digest!, dir)).toBe(choices[0]);
    expect(read).toEqual([]);
    expect((await chooseManifest(store, choices, 'linux/amd64', dir)).digest).toBe(choices[0]!.digest);
    expect((await chooseManifest(store, choices, 'linux/arm64/v8', dir)).digest).toBe(choices[1]!.digest);
    await expect(chooseManifest(store, choices, 'linux/arm64', dir)).rejects.toThrow(/^no manifest of the image matches --image-ref linux\/arm64; it has: a linux\/amd64 sha256:\w{12}, b linux\/arm64\/v8/);
    expect(read).toHaveLength(6);
  });

  it('is an ImageError when there is nothing to choose', () => {
    expect(() => selectManifest([], undefined, 'img')).toThrow(ImageError);
  });
});

describe('an OCI index', () => {
  it('lists its images with ref names, platforms, config and layer blobs', async () => {
    const { choices, manifests, configs } = await choicesOf([{ layers: [layer('a'), layer('b')], refName: 'v1' }]);
    expect(choices).toEqual([
      {
        digest: manifests[0],
        configDigest: configs[0],
        configPath: blobPath(configs[0]!, 'x'),
        names: ['v1'],
        platform: null,
        layers: [layer('a'), layer('b')].map((l) => ({ path: blobPath(sha256(l), 'x'), digest: sha256(l) })),
      },
    ]);
  });

  it('follows a nested index, whose ref name its images inherit, and counts each platform as an image', async () => {
    const { choices, manifests } = await choicesOf(
      [
        { layers: [layer('amd')], platform: { os: 'linux', architecture: 'amd64' } },
        { layers: [layer('arm')], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
      { nested: true, nestedRef: 'stable' },
    );
    expect(choices.map(describeChoice)).toEqual([`stable linux/amd64 ${manifests[0]!.slice(0, 19)}`, `stable linux/arm64/v8 ${manifests[1]!.slice(0, 19)}`]);
  });

  it("skips buildkit's attestation manifests and manifests whose blob is absent (other platforms)", async () => {
    const { choices } = await choicesOf(
      [
        { layers: [layer('amd')], platform: { os: 'linux', architecture: 'amd64' } },
        { layers: [layer('att')], platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
        { layers: [layer('arm')], platform: { os: 'linux', architecture: 'arm64' } },
      ],
      {},
      (files) => {
        const idx = JSON.parse(files.get('index.json')!.toString());
        files.delete(blobPath(idx.manifests[2].digest, 'x'));
      },
    );
    expect(choices.map((c) => c.platform)).toEqual(['linux/amd64']);
  });

  it('skips artifacts: a manifest with a subject, or a config that is not an image config', async () => {
    const { choices } = await choicesOf([{ layers: [layer('img')] }, { layers: [layer('sig')] }, { layers: [layer('sbom')] }], {}, (files) => {
      const idx = JSON.parse(files.get('index.json')!.toString());
      const rewrite = (i: number, f: (m: Record<string, unknown>) => void): void => {
        const p = blobPath(idx.manifests[i].digest, 'x');
        const m = JSON.parse(files.get(p)!.toString());
        f(m);
        files.set(p, Buffer.from(JSON.stringify(m)));
      };
      rewrite(1, (m) => (m['subject'] = { digest: idx.manifests[0].digest }));
      rewrite(2, (m) => ((m['config'] as Record<string, string>)['mediaType'] = 'application/spdx+json'));
    });
    expect(choices).toHaveLength(1);
  });

  it('counts one manifest listed under two names as one image, chosen by either name or its digest', async () => {
    const { choices, manifests } = await choicesOf([{ layers: [layer('a')], refName: 'latest' }, { layers: [layer('b')], refName: 'other' }], {}, (files) => {
      const idx = JSON.parse(files.get('index.json')!.toString());
      idx.manifests.push({ ...idx.manifests[0], annotations: { 'org.opencontainers.image.ref.name': '1.0' } });
      files.set('index.json', Buffer.from(JSON.stringify(idx)));
    });
    expect(choices.map((c) => c.names)).toEqual([['latest', '1.0'], ['other']]);
    for (const ref of ['latest', '1.0', manifests[0]!]) expect(selectManifest(choices, ref, 'img')).toBe(choices[0]);
    const one = await choicesOf([{ layers: [layer('a')], refName: 'latest' }], {}, (files) => {
      const idx = JSON.parse(files.get('index.json')!.toString());
      idx.manifests.push({ ...idx.manifests[0], annotations: { 'org.opencontainers.image.ref.name': '1.0' } });
      files.set('index.json', Buffer.from(JSON.stringify(idx)));
    });
    expect(selectManifest(one.choices, undefined, 'img').names).toEqual(['latest', '1.0']);
  });

  it('says a parse error on one line', async () => {
    const err = await choicesOf([{ layers: [] }], {}, (f) => f.set('index.json', Buffer.from('nope\n'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as Error).message).toMatch(/index.json is not JSON \(Unexpected token .*"nope " is not valid JSON\)$/);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it('is an ImageError when broken: not JSON, a bad digest, a cycle of indexes, all manifests absent', async () => {
    await expect(choicesOf([{ layers: [] }], {}, (f) => f.set('index.json', Buffer.from('{nope')))).rejects.toThrow(/index.json is not JSON/);
    await expect(choicesOf([{ layers: [] }], {}, (f) => f.set('index.json', Buffer.from('{"manifests":[{"digest":"sha256:../../etc"}]}')))).rejects.toThrow(/is not a digest/);
    await expect(choicesOf([{ layers: [] }], {}, (f) => f.set('index.json', Buffer.from(`{"manifests":[{"digest":"${sha256('x')}"}]}`)))).rejects.toThrow(/none of the manifests the index lists is there/);
    const cyc = '{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"DIGEST"}]}';
    await expect(
      choicesOf([{ layers: [] }], {}, (f) => {
        // A blob cannot name its own digest, so the cycle is planted by content: an index naming itself under a fixed name.
        const self = 'sha256:' + 'e'.repeat(64);
        f.set(blobPath(self, 'x'), Buffer.from(cyc.replace('DIGEST', self)));
        f.set('index.json', Buffer.from(`{"manifests":[{"digest":"${self}"}]}`));
      }),
    ).rejects.toThrow(/nest too deep or in a cycle/);
  });
});

describe('a docker manifest.json', () => {
  it('lists RepoTags, the config digest (the image ID) and layer paths, legacy and docker 25', async () => {
    const dir = path.join(tmp.dir, 'docker');
    nodeFs.mkdirSync(dir);
    const cfg = 'a'.repeat(64);
    const list = [
      { Config: `${cfg}.json`, RepoTags: ['app:1', 'app:latest'], Layers: ['abc/layer.tar'] },
      { Config: `blobs/sha256/${'b'.repeat(64)}`, RepoTags: null, Layers: [`blobs/sha256/${'c'.repeat(64)}`] },
    ];
    nodeFs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(list));
    const got = await dockerManifests(directoryStore(dir), dir);
    expect(got).toEqual([
      { digest: null, configDigest: `sha256:${cfg}`, configPath: `${cfg}.json`, names: ['app:1', 'app:latest'], platform: null, layers: [{ path: 'abc/layer.tar', digest: null }] },
      { digest: null, configDigest: `sha256:${'b'.repeat(64)}`, configPath: `blobs/sha256/${'b'.repeat(64)}`, names: [], platform: null, layers: [{ path: `blobs/sha256/${'c'.repeat(64)}`, digest: `sha256:${'c'.repeat(64)}` }] },
    ]);
    // The diff IDs come from the config, whichever form: none here for a missing config.
    expect(await diffIds(directoryStore(dir), got[0]!, dir)).toEqual([]);
    const ids = [`sha256:${'d'.repeat(64)}`];
    nodeFs.writeFileSync(path.join(dir, `${cfg}.json`), JSON.stringify({ rootfs: { type: 'layers', diff_ids: ids } }));
    expect(await diffIds(directoryStore(dir), got[0]!, dir)).toEqual(ids);
    expect(withRepoTags([choice({ digest: D1, configDigest: `sha256:${cfg}`, names: ['latest'] }), choice({ digest: D2 })], got).map((c) => c.names)).toEqual([['latest', 'app:1', 'app:latest'], []]);
    nodeFs.writeFileSync(path.join(dir, 'manifest.json'), '[{"Config":1}]');
    await expect(dockerManifests(directoryStore(dir), dir)).rejects.toThrow(ImageError);
  });
});
