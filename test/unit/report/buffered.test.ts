import { describe, expect, it } from 'vitest';
import { bufferedWriter, byteWriter } from '../../../src/report/buffered.js';

// Pieces with 1-, 2-, 3- and 4-byte UTF-8 characters, escapes as the JSON writer makes them, and
// some longer than the writer's buffer, so pieces straddle every flush.
function pieces(seed: number, n: number): string[] {
  let a = seed;
  const rand = (k: number): number => {
    a = (a * 1103515245 + 12345) >>> 0;
    return a % k;
  };
  const alphabet = ['a', '/', '"', '\\udc80', 'é', 'Ω', '€', '中', '😀', '\n'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = rand(10) === 0 ? 300 + rand(700) : rand(40);
    let s = '';
    for (let k = 0; k < len; k++) s += alphabet[rand(alphabet.length)];
    out.push(s);
  }
  return out;
}

describe('report writers', () => {
  it.each([1, 2, 3])('byteWriter writes exactly the UTF-8 of the pieces, in order (seed %i)', (seed) => {
    const got: Buffer[] = [];
    const w = byteWriter((b) => got.push(Buffer.from(b)), 256);
    const ps = pieces(seed, 2000);
    for (const p of ps) w.write(p);
    w.flush();
    expect(Buffer.concat(got).equals(Buffer.from(ps.join(''), 'utf8'))).toBe(true);
    expect(got.length).toBeGreaterThan(10);
  });

  it('bufferedWriter passes the same text on', () => {
    let got = '';
    const w = bufferedWriter((s) => (got += s));
    const ps = pieces(4, 3000);
    for (const p of ps) w.write(p);
    w.flush();
    expect(got).toBe(ps.join(''));
  });
});
