/**
 * No exit 1 without a word: for every cause of exit code 1 (a finding at or above --fail-on, a
 * failed check on a path that is not a link, a stale allow entry under --fail-on info, a fix
 * that failed and was put back), every format, with
 * and without --quiet, audit, --fix and --fix --dry-run (where the cause can occur), the output
 * names the cause. The link tree is built anew for each run, so
 * --fix meets the same tree every time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type FsPort, nodeFsPort } from '../../src/core/fs-port.js';
import { FORMATS } from '../../src/report/formats/by-name.js';
import { runCliInProcess } from '../support/cli.js';
import { diskSandbox } from '../support/sandbox.js';

const locks = fs.mkdtempSync(path.join(os.tmpdir(), 'linkcheck-locks-'));
afterAll(() => fs.rmSync(locks, { recursive: true, force: true }));

/** Each cause: its tree, its arguments, and what its output must name (per format). */
const CAUSES = {
  'an error finding': { tree: { a: { gone: { link: 'missing' } } }, args: [] as string[], config: null, names: /dangling|LC003/ },
  // A rollback: a warning --fix cannot take away.
  'a warning under --fail-on warning': {
    tree: { a: { releases: { '1': {}, '2': {} }, current: { link: 'releases/1' } } },
    args: ['--preset', 'deploy', '--fail-on', 'warning'],
    config: null,
    names: /deploy-layout|LC009/,
  },
  // On a path that is not a link: every format has a place for it too.
  'a failed --require on a path that is not there': { tree: { a: { releases: {} } }, args: ['--require', 'current'], config: null, names: /requirement|LC008/ },
  'a stale allow entry under --fail-on info': {
    tree: { a: { ok: { link: '../a' } } },
    args: ['--fail-on', 'info'],
    config: { allow: [{ path: 'nothing/*', rules: ['dangling'], reason: 'r' }] },
    names: /stale|matched no finding/,
  },
  // Only an info finding (a text with //), so the failed fix is the one cause: the disk tells the
  // fixer's check a wrong text once, right after its rename, and the fixer puts the old one back.
  'a fix that failed and was put back': {
    tree: { a: { data: { f: 'x' }, l: { link: './data//f' } } },
    args: [],
    config: null,
    names: /failed|fix_failures/,
    modes: ['fix'],
    fs: lyingOnce,
  },
} as const;

/** What a SARIF viewer shows of a log: its results and the tool's notifications (not the rules' documentation, not properties). */
function sarifSays(log: string): unknown {
  type Invocation = { toolExecutionNotifications?: unknown[]; toolConfigurationNotifications?: unknown[] };
  const doc = JSON.parse(log) as { runs: Array<{ results: unknown[]; invocations?: Invocation[] }> };
  return doc.runs.map((run) => ({
    results: run.results,
    notifications: (run.invocations ?? []).map((i) => [i.toolExecutionNotifications ?? [], i.toolConfigurationNotifications ?? []]),
  }));
}

const MODES = { audit: [], fix: ['--fix'], 'dry-run': ['--fix', '--dry-run'] } as const;

/** The real disk, but `a/l` reads as another text once, right after it is renamed onto. */
function lyingOnce(base: string): FsPort {
  const port = nodeFsPort();
  const link = `${base}/a/l`;
  let armed = false;
  // Not `real`: the fixer then reaches directories by path through this port (see fix/gate.ts).
  return Object.assign(Object.create(port) as FsPort, {
    real: false,
    rename(from: string, to: string) {
      port.rename(from, to);
      if (to === link) armed = true;
    },
    readlink(p: string) {
      if (!armed || p !== link) return port.readlink(p);
      armed = false;
      return 'elsewhere';
    },
  });
}

describe('every exit 1 says why', () => {
  for (const [cause, c] of Object.entries(CAUSES))
    for (const format of FORMATS)
      for (const quiet of [false, true])
        for (const [mode, flags] of Object.entries(MODES).filter(([m]) => !('modes' in c) || (c.modes as readonly string[]).includes(m)))
          it(`${cause}, --format ${format}${quiet ? ' --quiet' : ''}, ${mode}`, async () => {
            const sb = diskSandbox(c.tree);
            try {
              const config = path.join(sb.base, 'config.json');
              fs.writeFileSync(config, JSON.stringify(c.config ?? {}));
              const argv = [`${sb.base}/a`, '--format', format, '--config', config, ...c.args, ...flags, ...(quiet ? ['--quiet'] : [])];
              const r = await runCliInProcess(argv, { fs: 'fs' in c ? c.fs(sb.base) : sb.fs, env: { LINKCHECK_LOCK_DIR: locks } });
              expect(r.code, r.stderr).toBe(1);
              expect(r.stdout + r.stderr, 'an exit 1 with no word').not.toBe('');
              expect(r.stdout + r.stderr).toMatch(c.names);
              // SARIF names every rule in its driver: the cause must be in what the run says of itself.
              if (format === 'sarif') expect(JSON.stringify(sarifSays(r.stdout))).toMatch(c.names);
            } finally {
              sb.cleanup();
            }
          });
});
