import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ByteSource } from '../../../src/image/byte-source.js';
import { compressionOf, openTar, unzstd } from '../../../src/image/decompress.js';
import { FIXTURE_CUT, tempDir, zstdFixtureTar, zstdRaw, zstdRle } from './image-builder.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/layer.tar.zst');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function drain(src: ByteSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let b = await src.read(10_000); b.length > 0; b = await src.read(10_000)) parts.push(b);
  return Buffer.concat(parts);
}

/** `bytes` written to a file and opened as a blob. */
async function viaFile(bytes: Buffer): Promise<{ compression: string; out: Buffer }> {
  const file = path.join(tmp.dir, `b${Math.random()}`);
  nodeFs.writeFileSync(file, bytes);
  const handle = await open(file, 'r');
  try {
    const { compression, source } = await openTar({ handle, start: 0, length: bytes.length });
    return { compression, out: await drain(source) };
  } finally {
    await handle.close();
  }
}

async function* slices(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function unzstdAll(buf: Buffer, chunk: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of unzstd(slices(buf, chunk))) parts.push(c);
  return Buffer.concat(parts);
}

describe('compression', () => {
  it('is told by magic bytes alone', () => {
    expect(compressionOf(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(compressionOf(Buffer.from('ustar'))).toBe('none');
    expect(compressionOf(Buffer.from([0x28, 0xb5, 0x2f]))).toBe('none');
    expect(compressionOf(Buffer.from([0x1f]))).toBe('none');
  });

  it('reads the committed zstd fixture (real compressed blocks, two frames, checksums) as the tar it was made from', async () => {
    const want = zstdFixtureTar();
    expect(want.length).toBeGreaterThan(FIXTURE_CUT);
    const { compression, out } = await viaFile(nodeFs.readFileSync(FIXTURE));
    expect(compression).toBe('zstd');
    expect(out.equals(want)).toBe(true);
  });

  it('streams zstd: the fixture fed a few bytes at a time decodes the same', async () => {
    const fixture = nodeFs.readFileSync(FIXTURE);
    const want = zstdFixtureTar();
    for (const chunk of [1, 5, 17, 4096]) expect((await unzstdAll(fixture, chunk)).equals(want)).toBe(true);
  });

  // The fixture covers compressed blocks everywhere; the tool, where installed, adds a fresh one.
  it.skipIf(spawnSync('zstd', ['--version']).error !== undefined)('agrees with the zstd tool on a fresh compression', async () => {
    const input = Buffer.from('layer bytes '.repeat(5000) + 'end');
    const r = spawnSync('zstd', ['-c', '-3'], { input });
    expect(r.status).toBe(0);
    expect((await unzstdAll(r.stdout, 333)).equals(input)).toBe(true);
  });

  it('reads raw-block frames, several frames in a row, an empty frame and a skippable frame', async () => {
    const a = Buffer.alloc(300_000, 0x61);
    const b = Buffer.from('second frame');
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]);
    const stream = Buffer.concat([zstdRaw(a), skippable, zstdRaw(Buffer.alloc(0)), zstdRaw(b)]);
    expect((await unzstdAll(stream, 70_000)).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('keeps memory flat on zstd that expands 32768-fold (a file of zeros): a block at a time, never the whole input chunk at once', async () => {
    const bomb = zstdRle(0, 2048);
    expect(bomb.length).toBeLessThan(10_000);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let total = 0;
    for await (const c of unzstd(slices(bomb, 1 << 20))) {
      total += c.length;
      if (c[c.length - 1] !== 0) throw new Error('not zeros');
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    expect(total).toBe(256 * 1024 * 1024);
    // Fed whole, fzstd would hold all 256 MiB before the first chunk came out.
    expect(peak).toBeLessThan(128 * 1024 * 1024);
  });

  it('refuses zstd framing it cannot read: a bad magic, a reserved block type, a cut header', async () => {
    await expect(unzstdAll(Buffer.from('not zstd at all'), 100)).rejects.toThrow(/not zstd data/);
    const reserved = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3]), Buffer.from([1 | (3 << 1), 0, 0])]);
    await expect(unzstdAll(reserved, 100)).rejects.toThrow(/reserved type/);
    await expect(unzstdAll(zstdRaw(Buffer.from('abc')).subarray(0, 5), 100)).rejects.toThrow(/cut short/);
  });

  it('throws on a zstd stream cut short', async () => {
    const cut = zstdRaw(Buffer.alloc(1000, 1)).subarray(0, 500);
    await expect(unzstdAll(cut, 100)).rejects.toThrow();
  });

  it('gunzips, concatenated members as one stream', async () => {
    const { compression, out } = await viaFile(Buffer.concat([gzipSync('one '), gzipSync('two')]));
    expect(compression).toBe('gzip');
    expect(out.toString()).toBe('one two');
  });

  it('throws on damaged gzip data', async () => {
    const gz = gzipSync(Buffer.alloc(10_000, 7));
    gz.fill(0xff, 20, 40);
    await expect(viaFile(gz)).rejects.toThrow();
  });

  it('reads an uncompressed blob in place', async () => {
    const { compression, out } = await viaFile(Buffer.from('plain tar bytes'));
    expect(compression).toBe('none');
    expect(out.toString()).toBe('plain tar bytes');
  });
});
