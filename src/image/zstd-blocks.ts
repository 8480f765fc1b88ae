import type { ByteSource } from './byte-source.js';
import { DamagedData } from './image-error.js';

/**
 * A Zstandard stream (RFC 8878) cut into pieces that each end at a block boundary: a frame
 * header, then one block at a time (a last block with its checksum). fzstd decodes every whole
 * block it is given before it returns, so a large input chunk of a file of zeros (100 MiB of
 * them is 3 KiB of zstd) would come back as gigabytes at once; one block decodes to 128 KiB at
 * most. Skippable frames are dropped here.
 */
export async function* zstdBlocks(src: ByteSource): AsyncGenerator<Buffer> {
  for (;;) {
    // Copied: a source's bytes hold only until its next read.
    const magic = Buffer.from(await src.read(4));
    if (magic.length === 0) return;
    const m = need(magic, 4).readUInt32LE(0);
    if (m >>> 4 === 0x184d2a5) {
      const n = need(await src.read(4), 4).readUInt32LE(0);
      if ((await src.skip(n)) < n) throw new DamagedData('zstd data cut short');
      continue;
    }
    if (m !== 0xfd2fb528) throw new DamagedData(`not zstd data (magic ${m.toString(16)})`);
    const fhd = need(await src.read(1), 1)[0]!;
    yield Buffer.concat([magic, Buffer.from([fhd]), need(await src.read(headerRest(fhd)), headerRest(fhd))]);
    yield* frameBlocks(src, (fhd & 4) !== 0);
  }
}

/** Bytes of a frame header after its descriptor: window descriptor, dictionary ID, content size. */
function headerRest(fhd: number): number {
  const singleSegment = (fhd >> 5) & 1;
  const fcs = [singleSegment, 2, 4, 8][fhd >> 6]!;
  return (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + fcs;
}

async function* frameBlocks(src: ByteSource, checksum: boolean): AsyncGenerator<Buffer> {
  for (;;) {
    const bh = Buffer.from(need(await src.read(3), 3));
    const h = bh[0]! | (bh[1]! << 8) | (bh[2]! << 16);
    const type = (h >> 1) & 3;
    if (type === 3) throw new DamagedData('a zstd block of the reserved type');
    // An RLE block is one byte repeated; raw and compressed blocks carry their size.
    const n = type === 1 ? 1 : h >>> 3;
    const last = (h & 1) === 1;
    const tail = last && checksum ? 4 : 0;
    yield Buffer.concat([bh, need(await src.read(n + tail), n + tail)]);
    if (last) return;
  }
}

function need(b: Buffer, n: number): Buffer {
  if (b.length < n) throw new DamagedData('zstd data cut short');
  return b;
}
