import * as nodeFs from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ByteSource, chunkSource, rangeChunks, rangeSource } from '../../../src/image/byte-source.js';
import { tempDir } from './image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
const file = path.join(tmp.dir, 'data');
nodeFs.writeFileSync(file, Buffer.concat([Buffer.from('HEAD'), data, Buffer.from('TAIL')]));

async function* slices(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** Random reads and skips, checked against the bytes themselves: the plain version of both sources. */
async function exercise(src: ByteSource, seed: number): Promise<number> {
  let s = seed;
  const rand = (n: number): number => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s % n;
  };
  let pos = 0;
  let checks = 0;
  while (pos < data.length) {
    const n = rand(5) === 0 ? rand(30_000) : rand(2000);
    if (rand(2) === 0) {
      const got = await src.read(n);
      expect(got.equals(data.subarray(pos, pos + n))).toBe(true);
      checks++;
    } else await src.skip(n);
    pos = Math.min(pos + n, data.length);
    expect(src.position).toBe(pos);
  }
  expect((await src.read(10)).length).toBe(0);
  return checks;
}

describe('byte sources', () => {
  it('a file range reads and skips exactly its own bytes (the window never shows bytes outside it)', async () => {
    const handle = await open(file, 'r');
    try {
      for (const seed of [1, 2, 3]) expect(await exercise(rangeSource({ handle, start: 4, length: data.length }), seed)).toBeGreaterThan(10);
    } finally {
      await handle.close();
    }
  });

  it('a chunk stream reads and skips the same, whatever the chunk size', async () => {
    for (const [seed, size] of [[1, 1000], [2, 65536], [3, 7777], [4, 1 << 20]] as const) expect(await exercise(chunkSource(slices(data, size)), seed)).toBeGreaterThan(10);
  });

  it('rangeChunks gives the range in chunks, and close() stops the stream it reads', async () => {
    const handle = await open(file, 'r');
    try {
      const parts: Buffer[] = [];
      for await (const c of rangeChunks({ handle, start: 4, length: data.length }, 30_000)) parts.push(c);
      expect(parts.length).toBe(7);
      expect(Buffer.concat(parts).equals(data)).toBe(true);
    } finally {
      await handle.close();
    }
    let finished = false;
    async function* gen(): AsyncGenerator<Buffer> {
      try {
        for (;;) yield Buffer.alloc(10);
      } finally {
        finished = true;
      }
    }
    const src = chunkSource(gen());
    await src.read(25);
    await src.close();
    expect(finished).toBe(true);
  });
});
