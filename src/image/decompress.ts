import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { type ByteSource, chunkSource, type FileRange, rangeChunks, rangeSource } from './byte-source.js';
import { DamagedData } from './image-error.js';
import { zstdBlocks } from './zstd-blocks.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * The compression of a blob, read from its first bytes: media types lie (docker writes
 * `.tar` for gzip in places, and a rootfs tar has none), magic numbers do not.
 */
export function compressionOf(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Gunzipped chunks; concatenated gzip members are read as one stream, as gzip(1) does. */
async function* gunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  // 256 KiB out at a time (zlib gives 16 KiB by default): fewer chunks through the tar reader.
  const out = createGunzip({ chunkSize: 256 * 1024 });
  // pipeline destroys the gunzip stream with the source's error, so iterating it rethrows that.
  pipeline(Readable.from(chunks), out, () => {});
  try {
    yield* out;
  } catch (err) {
    throw isZlibError(err) ? new DamagedData((err as Error).message) : err;
  }
}

const isZlibError = (err: unknown): boolean => String((err as { code?: unknown } | null)?.code).startsWith('Z_');

/**
 * Zstandard-decoded chunks, through fzstd's streaming decoder (pure JS: nothing to build or
 * download), fed one block at a time (see zstd-blocks.ts) so memory stays flat on any file.
 */
export async function* unzstd(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let ready: Uint8Array[] = [];
  const d = new Decompress((data) => {
    if (data.length > 0) ready.push(data);
  });
  const src = chunkSource(chunks);
  try {
    for await (const piece of zstdBlocks(src)) {
      push(d, piece, false);
      const out = ready;
      ready = [];
      yield* out;
    }
    push(d, new Uint8Array(0), true);
    yield* ready;
  } finally {
    await src.close();
  }
}

/** fzstd's errors carry a numeric code; they mean the data is damaged. */
function push(d: Decompress, piece: Uint8Array, final: boolean): void {
  try {
    d.push(piece, final);
  } catch (err) {
    throw typeof (err as { code?: unknown }).code === 'number' ? new DamagedData(`zstd: ${(err as Error).message}`) : err;
  }
}

/**
 * A blob as the bytes of the tar inside it. An uncompressed blob is read in place, its file
 * contents skipped by seeking; a compressed one is decompressed as it streams by, never whole.
 */
export async function openTar(range: FileRange): Promise<{ compression: Compression; source: ByteSource }> {
  const head = Buffer.alloc(Math.min(4, range.length));
  await range.handle.read(head, 0, head.length, range.start);
  const compression = compressionOf(head);
  if (compression === 'none') return { compression, source: rangeSource(range) };
  const raw = rangeChunks(range);
  return { compression, source: chunkSource(compression === 'gzip' ? gunzip(raw) : unzstd(raw)) };
}
