/**
 * --fix on two threads: the planning pass and the report after the fix run on one audit thread
 * (src/run/threads.ts, AuditThread), each pass with a judge and report of its own. The report, the
 * exit code and the links left on disk are those of the one-thread run. The tree holds 3,000
 * links, so -j 2 hands both passes to the second thread (the last test sees it started once).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../support/build.js';
import { spawnCli } from '../../support/cli.js';
import { diskSandbox, type Sandbox } from '../../support/sandbox.js';
import { deployTree } from '../../support/tree.js';

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

describe('-j 2 and the audit thread', () => {
  // Node's own debug log names each worker thread it creates (NODE_DEBUG=worker, on stderr).
  const created = (stderr: string): number => stderr.split('\n').filter((l) => /created Worker with ID \d+/.test(l)).length;

  it('--fix starts one audit thread for both passes with -j 2, none with -j 1', () => {
    for (const [jobs, threads] of [['1', 0], ['2', 1]] as const) {
      const sb = diskSandbox(deployTree());
      boxes.push(sb);
      const app = `${sb.base}/app`;
      const r = spawnCli([app, '--root', app, '--fix', '--quiet', '-j', jobs], { env: { NODE_DEBUG: 'worker', LINKCHECK_LOCK_DIR: `${sb.base}/locks` } });
      // The links to shared/gone dangle in both views: left as they are, errors.
      expect(r.code, r.stderr.slice(-2000)).toBe(1);
      expect(created(r.stderr), `-j ${jobs}:\n${r.stderr.slice(0, 2000)}`).toBe(threads);
    }
  }, 60_000);
});

