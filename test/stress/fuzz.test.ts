/**
 * `npm run fuzz` in small: the script compiled as `npm run fuzz` compiles it (into a private
 * directory, so other tests' dist/ is left alone), run on a random seed (printed for replay), one
 * summary line and exit 0 with no disagreement. A positive control shows the judge it relies on
 * does catch a report that disagrees with the kernel.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { removeDir } from '../support/disk.js';
import { IN_CI } from '../support/integration.js';
import { randomTree } from '../support/random-tree.js';
import { REPO } from '../support/repo.js';
import { seedFor } from '../support/stress.js';
import { listLinks, materialiseRandom } from '../support/tree.js';
import { disagreements, viaLibrary } from '../kernel/judge.js';
import { oracleUnavailableReason } from '../kernel/oracle.js';

const oracle = oracleUnavailableReason();
if (oracle !== null && IN_CI) throw new Error(`the kernel oracle must run in CI: ${oracle}`);

describe.skipIf(oracle !== null)(`npm run fuzz${oracle ? ` (skipped: ${oracle})` : ''}`, () => {
  let out = '';
  let script = '';
  beforeAll(() => {
    ensureBuilt();
    out = fs.mkdtempSync(`${REPO}/dist/fuzz-test-`);
    const tsc = spawnSync(process.execPath, [`${REPO}/node_modules/typescript/bin/tsc`, '-p', 'scripts/tsconfig.json', '--outDir', out], { cwd: REPO, encoding: 'utf8' });
    if (tsc.status !== 0) throw new Error(`compiling scripts/fuzz.ts failed: ${tsc.stdout}${tsc.stderr}`);
    script = `${out}/scripts/fuzz.js`;
  });
  afterAll(() => removeDir(out));

  const fuzz = (args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });

  it('a small run agrees with the kernel everywhere: audit in both views, fix, undo', () => {
    const seed = seedFor('fuzz');
    const r = fuzz(['--links', '3000', '--seed', String(seed), '--per-tree', '1600']);
    expect(r.stderr, 'disagreements').toBe('');
    expect(r.status).toBe(0);
    const m = /^fuzz: seeds (\d+)\.\.(\d+) \((\d+) trees of ~1600 links\), (\d+) links audited .*?, (\d+) fixes planned, (\d+) rewritten .*; 0 disagreements; [\d.]+ s\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBe(seed);
    expect(Number(m![3])).toBe(2);
    expect(Number(m![4])).toBeGreaterThanOrEqual(3000);
    expect(Number(m![6])).toBeGreaterThan(0);
  }, 300_000);

  it('bad arguments: exit 2 with the usage', () => {
    const r = fuzz(['--links', 'many']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fuzz: --links takes a whole number\nusage: /);
  });

  it('positive control: the judge flags a report that differs from the kernel in one link', () => {
    const t = materialiseRandom(randomTree(seedFor('fuzz control'), { links: 200 }));
    try {
      const seen = viaLibrary(t.root, t.root);
      expect(disagreements('honest', t.root, seen, listLinks(t.root))).toEqual([]);
      const ok = seen.find((s) => s.chroot.status === 'ok')!;
      ok.chroot = { status: 'dangling', resolved: null };
      const found = disagreements('doctored', t.root, seen, listLinks(t.root));
      expect(found).toHaveLength(1);
      expect(found[0]).toContain('chroot: ours dangling');
    } finally {
      t.cleanup();
    }
  });
});
