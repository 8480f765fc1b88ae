/**
 * The resolver and the rules, judged by the kernel: random adversarial trees are materialised on
 * a real disk, audited through the library and through the CLI's JSON, and every link is compared
 * with openat2(RESOLVE_IN_ROOT) (the jail) and open(2) (the host).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disagreements, viaCli, viaLibrary } from './judge.js';
import { oracleUnavailableReason } from './oracle.js';
import { ensureBuilt } from '../support/build.js';
import { randomTree, show } from '../support/random-tree.js';
import { listLinks, type Materialised, materialiseRandom } from '../support/tree.js';

const reason = oracleUnavailableReason();

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const LINKS_PER_TREE = 600;

function check(label: string, root: string, scan: string, cliRoot: string | undefined): number {
  const expected = listLinks(scan);
  const lib = disagreements(`${label} (library)`, root, viaLibrary(scan, cliRoot), expected);
  const cli = disagreements(`${label} (CLI json)`, root, viaCli(scan, cliRoot), expected);
  const all = [...lib, ...cli];
  expect(all, `${all.length} disagreements with the kernel:\n${all.slice(0, 60).join('\n')}`).toEqual([]);
  return expected.length;
}

describe.skipIf(reason !== null)(`audit vs kernel on random trees${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const trees = new Map<number, Materialised>();
  let compared = 0;

  beforeAll(() => {
    ensureBuilt();
    for (const seed of SEEDS) trees.set(seed, materialiseRandom(randomTree(seed, { links: LINKS_PER_TREE })));
  });
  afterAll(() => {
    for (const t of trees.values()) t.cleanup();
    // eslint-disable-next-line no-console
    console.log(`audit-vs-kernel: ${compared} links compared (library and CLI each) over ${SEEDS.length} seeds`);
  });

  it('generates the same tree for the same seed', () => {
    expect(JSON.stringify(randomTree(42, { links: 300 }))).toBe(JSON.stringify(randomTree(42, { links: 300 })));
    expect(JSON.stringify(randomTree(42, { links: 300 }))).not.toBe(JSON.stringify(randomTree(43, { links: 300 })));
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: every link agrees with the kernel, in both views, library and CLI`, () => {
      const t = trees.get(seed)!;
      compared += check(`seed ${seed}`, t.root, t.root, t.root);
    });
  }

  it('scanning a subdirectory of the root changes nothing about the answers', () => {
    const t = trees.get(SEEDS[0]!)!;
    // The top-level directory holding the most links (the skeleton's var/ at least).
    const counts = new Map<string, number>();
    for (const l of listLinks(t.root)) {
      const top = l.slice(t.root.length + 1).split('/')[0]!;
      const utf8 = Buffer.from(Buffer.from(top, 'latin1').toString('utf8'), 'utf8').toString('latin1') === top;
      if (utf8 && fs.lstatSync(Buffer.from(`${t.root}/${top}`, 'latin1')).isDirectory()) counts.set(top, (counts.get(top) ?? 0) + 1);
    }
    const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const sub = Buffer.from(`${t.root}/${top}`, 'latin1').toString('utf8');
    compared += check(`seed ${SEEDS[0]} under ${show(top)}`, t.root, sub, t.root);
  });

  it("root '/': a temporary tree scanned without --root, both views coincide", () => {
    const t = materialiseRandom(randomTree(101, { links: LINKS_PER_TREE }));
    try {
      compared += check("root '/'", '/', t.root, undefined);
    } finally {
      t.cleanup();
    }
  });
});
