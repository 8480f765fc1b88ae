// @ts-check
// The generator's random choices, on top of the PRNG the tests use too.
import { mulberry32 } from '../../test/support/prng.js';

/**
 * @typedef {object} Rng
 * @property {() => number} rand a float in [0, 1)
 * @property {(n: number) => number} int an integer in [0, n)
 * @property {(lo: number, hi: number) => number} range an integer in [lo, hi]
 * @property {<T>(arr: readonly T[]) => T} pick
 * @property {(p: number) => boolean} chance true with probability p
 * @property {<T>(pairs: ReadonlyArray<readonly [T, number]>) => T} weighted a value by [value, weight] pairs
 * @property {(n: number) => string} hex n random hex digits
 */

/**
 * @param {number} seed
 * @returns {Rng}
 */
export function makeRng(seed) {
  const rand = mulberry32(seed);
  /** @param {number} n */
  const int = (n) => Math.floor(rand() * n);
  return {
    rand,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: (arr) => /** @type {any} */ (arr[int(arr.length)]),
    chance: (p) => rand() < p,
    weighted(pairs) {
      let total = 0;
      for (const [, w] of pairs) total += w;
      let r = rand() * total;
      for (const [v, w] of pairs) {
        r -= w;
        if (r < 0) return v;
      }
      return /** @type {readonly [any, number]} */ (pairs[pairs.length - 1])[0];
    },
    hex: (n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)];
      return s;
    },
  };
}
