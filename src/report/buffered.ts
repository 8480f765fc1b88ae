/** Gathers small writes into large ones: one write per link would dominate a big run. */
export function bufferedWriter(sink: (s: string) => void): { write(s: string): void; flush(): void } {
  let buf = '';
  return {
    write(s) {
      if (s === '') return;
      buf += s;
      if (buf.length > 1 << 16) {
        sink(buf);
        buf = '';
      }
    },
    flush() {
      if (buf) sink(buf);
      buf = '';
    },
  };
}

/**
 * The same, encoding as it goes: each piece is written as UTF-8 into one reused buffer, which is
 * cheaper than encoding a long string of many joined pieces at the end.
 */
export function byteWriter(sink: (b: Buffer) => void, size = 1 << 18): { write(s: string): void; flush(): void } {
  const buf = Buffer.allocUnsafe(size);
  let used = 0;
  const flush = (): void => {
    if (used > 0) sink(buf.subarray(0, used));
    used = 0;
  };
  return {
    write(s) {
      // A UTF-16 unit is at most 3 bytes of UTF-8 (a surrogate pair is 4 for two units).
      if (used + s.length * 3 > size) {
        flush();
        if (s.length * 3 > size) {
          sink(Buffer.from(s, 'utf8'));
          return;
        }
      }
      used += buf.write(s, used, 'utf8');
    },
    flush,
  };
}
