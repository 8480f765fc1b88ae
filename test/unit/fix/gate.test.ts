import { describe, expect, it } from 'vitest';
import { canEnter } from '../../../src/fix/gate.js';
import { components } from '../../../src/core/paths.js';
import { nodeFsPort } from '../../../src/core/fs-port.js';
import { mulberry32 } from '../../support/prng.js';

// The plain version canEnter's one-pass check replaced: each component's bytes decoded as UTF-8
// and encoded again, the same bytes only when they were valid UTF-8.
const roundTrips = (c: string): boolean =>
  Buffer.from(Buffer.from(c, 'latin1').toString('utf8'), 'utf8').equals(Buffer.from(c, 'latin1'));
const plain = (dir: string): boolean => components(dir).every(roundTrips);

const bytes = (...b: number[]): string => String.fromCharCode(...b);

describe('canEnter on the real disk', () => {
  const fs = nodeFsPort();

  it.each([
    ['/srv/www/releases', true],
    ['/srv/caf' + bytes(0xc3, 0xa9), true],
    ['/srv/' + bytes(0xe2, 0x82) + '/' + bytes(0xac), false], // a sequence cut by '/'
    ['/srv/' + bytes(0xff), false],
    ['/srv/' + bytes(0xc0, 0xaf), false], // overlong '/'
    ['/srv/' + bytes(0xed, 0xa0, 0x80), false], // an encoded surrogate
    ['/srv/' + bytes(0xf4, 0x90, 0x80, 0x80), false], // above U+10FFFF
  ])('%j: %s', (dir, want) => {
    expect(canEnter(fs, dir)).toBe(want);
    expect(plain(dir)).toBe(want);
  });

  it('agrees with the per-component round trip on random byte paths', () => {
    // Bytes that make and break multi-byte sequences, and '/' to cut them.
    const pool = [0x2f, 0x2f, 0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc0, 0xaf, 0xef, 0xbf, 0xbd];
    const rnd = mulberry32(12345);
    const next = (n: number): number => Math.floor(rnd() * n);
    let invalid = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      let dir = '/';
      const n = 1 + next(10);
      for (let k = 0; k < n; k++) dir += String.fromCharCode(next(2) === 0 ? pool[next(pool.length)]! : next(256));
      seen.add(dir);
      const want = plain(dir);
      if (!want) invalid++;
      expect(canEnter(fs, dir), JSON.stringify(dir)).toBe(want);
    }
    // Mostly distinct paths, and both answers occur, so the comparison means something.
    expect(seen.size).toBeGreaterThan(15_000);
    expect(invalid).toBeGreaterThan(1000);
    expect(20_000 - invalid).toBeGreaterThan(300);
  });
});
