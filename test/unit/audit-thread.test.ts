/**
 * --fix on two threads: the planning pass and the report after the fix run on one audit thread
 * (src/parallel.ts, AuditThread), each pass with a judge and report of its own. The report, the
 * exit code and the links left on disk are those of the one-thread run. The tree holds 3,000
 * links, so -j 2 really hands both passes to the second thread.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { diskSandbox, type Sandbox } from '../support/sandbox.js';

function deployTree(): Tree {
  const release: Tree = {};
  for (let i = 0; i < 3000; i++) release[`l${String(i).padStart(4, '0')}`] = { link: i % 3 === 0 ? '../../shared/gone' : i % 3 === 1 ? '/shared/log' : '../../shared/log' };
  return { app: { releases: { '1': {}, '2': release }, shared: { log: {} }, current: { link: 'releases/1' } } };
}

/** Every link under `dir` with its text, in name order. */
function links(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.lstatSync(`${dir}/${f}`).isSymbolicLink())
    .sort()
    .map((f) => `${f} -> ${fs.readlinkSync(`${dir}/${f}`)}`);
}

const boxes: Sandbox[] = [];
beforeAll(() => ensureBuilt());
afterAll(() => {
  for (const b of boxes) b.cleanup();
});

describe('--fix with -j 1 and -j 2', () => {
  for (const extra of [[], ['--dry-run'], ['--format', 'json'], ['--quiet']]) {
    it(`change the same links and say the same (${extra.join(' ') || 'pretty'})`, () => {
      const run = (jobs: string): { status: number | null; stdout: string; links: string[] } => {
        const sb = diskSandbox(deployTree());
        boxes.push(sb);
        const app = `${sb.base}/app`;
        const r = spawnCli([app, '--root', app, '--fix', ...extra, '-j', jobs], { env: { LINKCHECK_LOCK_DIR: `${sb.base}/locks` } });
        expect(r.stderr).toBe('');
        return { status: r.code, stdout: r.stdout.replaceAll(sb.base, 'BASE'), links: links(app) };
      };
      const one = run('1');
      const two = run('2');
      expect(two.status).toBe(one.status);
      expect(two.stdout === one.stdout, 'the two-thread report is the one-thread report').toBe(true);
      expect(two.links).toEqual(one.links);
      // Positive control: the run had fixes to make (or plan), so both passes had work.
      expect(one.stdout).toMatch(/l0001/);
      if (!extra.includes('--dry-run')) expect(one.links).toContain('releases/2/l0001 -> ../../shared/log');
    }, 60_000);
  }
});
