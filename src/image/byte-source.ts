import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Bytes read front to back by the tar reader. `skip` is separate from `read` because file
 * contents are never wanted: on a file the reader seeks past them, on a stream it drops them.
 */
export interface ByteSource {
  /** The next `n` bytes, or fewer when the data ends first (none at the end); valid until the next read (copy what must outlive it). */
  read(n: number): Promise<Buffer>;
  /** Skips `n` bytes (fewer when the data ends first); says how many it skipped, so a reader can tell data that is cut short. */
  skip(n: number): Promise<number>;
  /** Bytes read or skipped so far. */
  readonly position: number;
  /** Stops a stream early (the tar ended before the compressed data did); a file range has nothing to stop. */
  close(): Promise<void>;
}

/** A byte range of a file opened elsewhere: the layer's own blob, or a member of the outer tar. */
export interface FileRange {
  handle: FileHandle;
  start: number;
  length: number;
}

/** About sixteen headers of small files: consecutive headers are served without a read each. */
const WINDOW = 64 * 1024;

/**
 * A file range read with positioned reads; skipping costs nothing. The reads are synchronous:
 * a header is a few hundred bytes of a file the page cache mostly holds, and a promise per read
 * (a trip through the thread pool) cost more than the read (minbase, uncompressed: 295 ms to
 * open, a third of it waiting on promises).
 */
export function rangeSource(range: FileRange): ByteSource {
  let pos = 0;
  let win = Buffer.alloc(0);
  let winAt = 0;
  // One window buffer, refilled in place: a new one per header past a big file was most of the
  // garbage collector's work on a 200 MB layer (minbase: 47 of 184 ms).
  let store = Buffer.alloc(0);
  return {
    get position() {
      return pos;
    },
    async read(n) {
      const want = Math.max(0, Math.min(n, range.length - pos));
      if (pos < winAt || pos + want > winAt + win.length) {
        const size = Math.min(Math.max(want, WINDOW), range.length - pos);
        if (store.length < size) store = Buffer.allocUnsafe(Math.max(size, WINDOW));
        const bytesRead = readSync(range.handle.fd, store, 0, size, range.start + pos);
        win = store.subarray(0, bytesRead);
        winAt = pos;
      }
      const out = win.subarray(pos - winAt, Math.min(pos - winAt + want, win.length));
      pos += out.length;
      return out;
    },
    async skip(n) {
      const k = Math.max(0, Math.min(n, range.length - pos));
      pos += k;
      return k;
    },
    async close() {},
  };
}

/** The range's bytes as chunks, for a decompressor. */
export async function* rangeChunks(range: FileRange, chunkSize = 1024 * 1024): AsyncGenerator<Buffer> {
  for (let pos = 0; pos < range.length; ) {
    const size = Math.min(chunkSize, range.length - pos);
    const { bytesRead, buffer } = await range.handle.read(Buffer.alloc(size), 0, size, range.start + pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** A stream of chunks (a decompressor's output) as a ByteSource. */
export function chunkSource(chunks: AsyncIterable<Uint8Array>): ByteSource {
  const it = chunks[Symbol.asyncIterator]();
  let queue: Buffer[] = [];
  let queued = 0;
  let pos = 0;
  let ended = false;
  const fill = async (n: number): Promise<void> => {
    while (queued < n && !ended) {
      const r = await it.next();
      if (r.done) ended = true;
      else if (r.value.length > 0) {
        const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
        queue.push(b);
        queued += b.length;
      }
    }
  };
  const take = (n: number, keep: boolean): Buffer => {
    const parts: Buffer[] = [];
    let left = Math.min(n, queued);
    while (left > 0) {
      const head = queue[0]!;
      const k = Math.min(left, head.length);
      if (keep) parts.push(head.subarray(0, k));
      if (k === head.length) queue.shift();
      else queue[0] = head.subarray(k);
      left -= k;
      queued -= k;
      pos += k;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  };
  return {
    get position() {
      return pos;
    },
    async read(n) {
      await fill(n);
      return take(n, true);
    },
    async skip(n) {
      // Dropped chunk by chunk: a large file's contents never sit in memory at once.
      let left = Math.max(0, n);
      while (left > 0 && !(ended && queued === 0)) {
        await fill(1);
        const k = Math.min(left, queued);
        take(k, false);
        left -= k;
      }
      return Math.max(0, n) - left;
    },
    async close() {
      queue = [];
      queued = 0;
      await it.return?.();
    },
  };
}
