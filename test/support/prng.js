// @ts-check
// The one seeded PRNG of the tests and the bench (plain JS so `node bench/*.js` runs without a
// build). The same seed gives the same sequence on every machine, so a seed printed by a failing
// test, or the bench's `--seed`, replays the same tree.

/**
 * mulberry32: small, fast, deterministic; floats in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
