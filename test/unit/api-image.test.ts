import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditImage } from '../../src/api.js';
import { UsageError } from '../../src/core/errors.js';
import { ociLayoutFiles, rawTar, tempDir, writeFiles } from './image/image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const image = writeFiles(path.join(tmp.dir, 'oci'), ociLayoutFiles([{ layers: [rawTar([{ name: 'bin/sh', type: 'symlink', linkname: '/nowhere' }])] }]).files);

describe('auditImage refuses what --image refuses', () => {
  // The type leaves these out; a JavaScript caller is not stopped by a type.
  const untyped = (extra: Record<string, unknown>) => auditImage({ image, ...extra } as Parameters<typeof auditImage>[0]);

  it('asUser: the kernel answers for the host, not the image', async () => {
    await expect(untyped({ asUser: 'nobody' })).rejects.toThrow(UsageError);
    await expect(untyped({ asUser: 'nobody' })).rejects.toThrow(/^asUser asks the kernel, which needs the tree on a disk: unpack the image \(umoci unpack\) and audit the tree$/);
  });

  it("root and fs: the image's own root is the jail, read from the image", async () => {
    await expect(untyped({ root: '/srv' })).rejects.toThrow(/^auditImage judges the image's own root: leave out root/);
    await expect(untyped({ fs: {} })).rejects.toThrow(/^auditImage reads the image itself: leave out fs/);
  });

  it('takes them left undefined (positive control: the image is audited)', async () => {
    const r = await untyped({ asUser: undefined, root: undefined, fs: undefined });
    expect(r.links.map((l) => l.path)).toEqual(['/bin/sh']);
  });
});
