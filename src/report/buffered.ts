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
