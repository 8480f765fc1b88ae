/**
 * What `--fix --quiet` prints, for cron (which mails any output): each change, then one compact
 * line per finding still at or above --fail-on (`path: severity LC00x rule: message`) and the
 * summary; nothing at all when nothing changed and nothing is left. Links another process
 * changed during the run are one count line, not a line each. -j 1 and -j 2 print the same.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../../src/audit/auditor.js';
import { fixPlanner } from '../../../src/fix/planner.js';
import { applyFixes } from '../../../src/fix/apply.js';
import { prettyReporter } from '../../../src/report/formats/pretty.js';
import type { ReportContext } from '../../../src/report/reporter.js';
import { runInfo } from '../../../src/report/run-info.js';
import { settingsFrom } from '../../../src/config/settings.js';
import { ensureBuilt } from '../../support/build.js';
import { spawnCli } from '../../support/cli.js';
import { jail, removeDir } from '../../support/disk.js';

let base = '';
let R = '';
let app = '';
let locks = '';

const quietFix = (dir: string, extra: string[] = []): ReturnType<typeof spawnCli> => spawnCli([dir, '--root', R, '--fix', '--quiet', ...extra], { env: { LINKCHECK_LOCK_DIR: locks } });

beforeAll(() => {
  ensureBuilt();
  ({ base, R, app, locks } = jail('cron'));
});
afterAll(() => removeDir(base));

describe('--fix --quiet', () => {
  it('prints the changes, then a compact line per remaining error and the summary; then nothing once clean', () => {
    const dir = `${app}/one`;
    fs.mkdirSync(dir);
    for (const name of ['a', 'b']) {
      fs.writeFileSync(`${R}/data/${name}`, '');
      fs.symlinkSync(`${R}/data/${name}`, `${dir}/${name}`);
    }
    fs.symlinkSync('missing', `${dir}/gone`); // dangling: no fix, a person must act
    fs.symlinkSync('/nowhere', `${dir}/abs`); // absolute and dangling: an error and a warning
    const first = quietFix(dir);
    expect(first.code).toBe(1);
    expect(first.stdout.split('\n')).toEqual([
      // Paths as the pretty report names them: relative to the scanned path.
      `fixed a: ${R}/data/a -> ../../data/a`,
      `fixed b: ${R}/data/b -> ../../data/b`,
      expect.stringMatching(/^abs: error LC003 dangling: \S.*$/),
      expect.stringMatching(/^gone: error LC003 dangling: \S.*$/),
      expect.stringMatching(/^✖ 2 of 4 links have problems \(4 entries\): 3 findings \(2 errors, 1 warning\)/),
      '',
    ]);
    // Again: nothing to change, the errors are still there: they are said again (cron mails them again).
    const again = quietFix(dir);
    expect(again.code).toBe(1);
    expect(again.stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(again.stdout).toMatch(/^abs: error LC003 dangling: /);
    // --fail-on decides what is worth a line: warnings too, or nothing.
    const warn = quietFix(dir, ['--fail-on', 'warning']).stdout;
    expect(warn).toMatch(/^abs: warning LC001 absolute: /m);
    expect(warn.split('\n').filter((l) => / (error|warning) LC\d{3} /.test(l))).toHaveLength(3);
    expect(quietFix(dir, ['--fail-on', 'never']).stdout).toBe('');
    // Once the error is gone, a run prints nothing at all.
    fs.rmSync(`${dir}/gone`);
    fs.rmSync(`${dir}/abs`);
    const clean = quietFix(dir);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('');
  });

  it('says the same with -j 1 and -j 2 on a tree big enough to hand over', () => {
    const dir = `${app}/big`;
    const make = (): void => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      for (let i = 0; i < 2000; i++) fs.symlinkSync(i % 100 === 0 ? `/nowhere/${i}` : `${R}/data/a`, `${dir}/l${i}`);
    };
    make();
    const one = quietFix(dir, ['-j', '1', '--all']);
    make();
    const two = quietFix(dir, ['-j', '2', '--all']);
    expect(two.stdout).toBe(one.stdout);
    expect(one.stdout.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(1980);
    expect(one.stdout.split('\n').filter((l) => / error LC003 /.test(l))).toHaveLength(20);
    // And capped, as cron gets it by default: the same on both, 20 changes and where the rest are.
    make();
    const capped = quietFix(dir, ['-j', '1']);
    make();
    expect(quietFix(dir, ['-j', '2']).stdout).toBe(capped.stdout);
    expect(capped.stdout.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(20);
    expect(capped.stdout).toMatch(/^and 1,960 more \(no --journal was given: --all or --format json lists every change\)$/m);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('links another process changed during the run', () => {
  it('are one count line with --quiet, and a line each without', async () => {
    const dir = `${app}/raced`;
    fs.mkdirSync(dir);
    fs.writeFileSync(`${R}/data/a`, '');
    for (let i = 0; i < 10; i++) fs.symlinkSync(`${R}/data/a`, `${dir}/l${i}`);
    const settings = settingsFrom({ paths: [dir], root: R });
    const planner = new Auditor(settings, fixPlanner());
    for (const _ of planner.events());
    // Between the plan and the fix, a deploy rewrites four of the links.
    for (const i of [1, 3, 5, 7]) {
      fs.rmSync(`${dir}/l${i}`);
      fs.symlinkSync(`${R}/data/a/`, `${dir}/l${i}`);
    }
    const changes = await applyFixes(settings, planner.fixes);
    expect(changes.filter((c) => c.status === 'changed')).toHaveLength(6);
    expect(changes.filter((c) => c.concurrent)).toHaveLength(4);
    const render = (ctx: ReportContext): string => {
      const auditor = new Auditor(settings, fixPlanner());
      const reporter = prettyReporter(ctx);
      let out = reporter.begin({ root: settings.root, scanned: settings.scanned });
      for (const ev of auditor.events()) out += reporter.event(ev);
      return out + reporter.end(auditor.summary, changes);
    };
    const quiet = render({ color: false, quiet: true, mode: 'fix', failOn: 'error', run: runInfo('0.0.0', 0) });
    expect(quiet.split('\n').filter((l) => l.startsWith('fixed '))).toHaveLength(6);
    expect(quiet).not.toMatch(/^skipped /m);
    expect(quiet.split('\n').filter((l) => l.startsWith('left '))).toEqual(['left 4 links alone that another process changed during the run; the next run checks them again']);
    // Control: the full report names each.
    const loud = render({ color: false, quiet: false, mode: 'fix', failOn: 'error', run: runInfo('0.0.0', 0) });
    expect(loud.split('\n').filter((l) => l.startsWith('skipped ') && l.endsWith('(changed since the scan)'))).toHaveLength(4);
  });
});
