import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../../fixtures/tree.js';
import { nodeFsPort } from '../../../src/core/fs-port.js';
import { Resolver, type View } from '../../../src/resolve/resolver.js';
import { randomTree } from '../../support/random-tree.js';
import { listLinks, materialiseRandom } from '../../support/tree.js';

// The resolver cuts a looping walk short once it is back in a state it was in (same link, same
// components left) and writes the remaining hops out. That must give exactly what walking all
// 40 links gives: status, failedAt and every hop. Checked against the plain walk on hand-made
// cycles (periods 1 to 5, entered after chains of several lengths, with components left over,
// through '..', absolute and relative) and on the random adversarial trees.

function cycles(): Tree {
  const t: Tree = { d: { e: {} }, f: 'file' };
  for (let p = 1; p <= 5; p++) {
    const ring: Tree = {};
    for (let i = 0; i < p; i++) ring[`r${i}`] = { link: `r${(i + 1) % p}` };
    t[`ring${p}`] = ring;
    for (let lead = 0; lead <= 6; lead++) {
      const chain: Tree = {};
      for (let i = 0; i < lead; i++) chain[`c${i}`] = { link: i + 1 < lead ? `c${i + 1}` : `../ring${p}/r0` };
      chain['in'] = { link: lead > 0 ? 'c0/x/y' : `../ring${p}/r0/x` };
      t[`lead${p}_${lead}`] = chain;
    }
  }
  // Cycles that carry components along or climb: the state repeats only with the same rest.
  t['grow'] = { a: { link: 'b/x' }, b: { link: 'a/..' } };
  t['up'] = { a: { link: '../up/b/.' }, b: { link: '/up/c' }, c: { link: 'a' } };
  t['mixed'] = { a: { link: '/mixed/b/' }, b: { link: '../d/../mixed/c' }, c: { link: 'a/../a' } };
  t['self'] = { x: { link: 'x' }, y: { link: './y/' }, z: { link: '/self/z/f' } };
  return t;
}

function compareAll(root: string): { links: number; loops: number; diffs: string[] } {
  const fs = nodeFsPort();
  const fast = new Resolver(fs);
  const plain = new Resolver(fs, { cycleShortcut: false });
  const views: View[] = [{ rootHost: root }, { rootHost: '' }];
  const diffs: string[] = [];
  let loops = 0;
  const links = listLinks(root);
  for (const p of links) {
    const i = p.lastIndexOf('/');
    const dir = p.slice(0, i);
    const name = p.slice(i + 1);
    const text = fs.readlink(p);
    for (const v of views) {
      const a = fast.resolveLink(v, dir, name, text);
      const b = plain.resolveLink(v, dir, name, text);
      if (b.status === 'loop') loops++;
      if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${p} (${v.rootHost || 'host'}): ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
    }
  }
  return { links: links.length, loops, diffs };
}

describe('loop shortcut', () => {
  const made: Array<{ cleanup(): void }> = [];
  afterAll(() => made.forEach((m) => m.cleanup()));

  it('gives what the plain walk gives on hand-made cycles', () => {
    const m = materialiseRandom(cycles(), 'linkcheck-loops-');
    made.push(m);
    const r = compareAll(m.root);
    expect(r.diffs).toEqual([]);
    expect(r.loops).toBeGreaterThan(100);
  });

  it.each([1, 2, 3, 4, 5, 6])('gives what the plain walk gives on random tree %i', (seed) => {
    const m = materialiseRandom(randomTree(seed, { links: 400 }), 'linkcheck-loops-');
    made.push(m);
    const r = compareAll(m.root);
    expect(r.diffs).toEqual([]);
    expect(r.loops).toBeGreaterThan(0);
  });
});
