/**
 * The cron line at deploy scale: `--fix --quiet --journal J` over 20,000 fixable links mails
 * --max-changes `fixed` lines and one line pointing at `undo J --list`, nothing else; 20,000
 * broken links make a pretty report a person can read (the cap, the counts, the table) while
 * `--all` and compact list them all; `--dry-run` previews the cron mail line for line without
 * touching the journal; an interrupted run (SIGINT, SIGTERM) says what it changed, capped the same
 * way, and its run is listed as interrupted and undone whole. Expectations come from the JSON
 * report and the journal, never from counting on what the code prints.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { type SpawnResult, spawnCli } from '../support/cli.js';
import { jail, links, removeDir, sleep } from '../support/disk.js';
import { BIN, REPO } from '../support/repo.js';
import { type JournalChange, journalChanges } from '../support/journal.js';

const N = 20_000;
const CAP_LINKS = 10;
const CAP_CHANGES = 20;
const NOWHERE = '/lc-scale-nowhere';

let base = '';
let R = '';
let locks = '';
let journals = 0;

const cli = (args: string[]): SpawnResult => spawnCli(args, { env: { LINKCHECK_LOCK_DIR: locks } });
const lines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));
/** `20000` as `20,000`, written here without toLocaleString. */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const freshJournal = (): string => `${base}/journal-${journals++}`;


interface Report {
  links: Array<{ path: string; findings: Array<{ rule: string; code: string; severity: 'error' | 'warning' | 'info' }>; fix: object | null }>;
  summary: { links: number; findings: Record<'error' | 'warning' | 'info', number>; rules: Record<string, number>; problems: number; fixable: number };
}
const report = (dir: string): Report => {
  const r = cli([dir, '--root', R, '--no-config', '--format', 'json']);
  expect(r.code, r.stderr).not.toBe(2);
  return JSON.parse(r.stdout) as Report;
};

/** A fresh directory `name` under the root with `n` links made by `text(i)`. */
function tree(name: string, n: number, text: (i: number) => string): string {
  const dir = `${R}/${name}`;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  for (let i = 0; i < n; i++) fs.symlinkSync(text(i), `${dir}/l${i}`);
  return dir;
}
/** Capistrano's links: absolute host paths into the root, every one fixable. */
const deployed = (name: string, n = N): string => tree(name, n, (i) => `${R}/data/f${i}`);

/** `fixed l7: /host/path -> ../data/f7`, as the pretty format names a journal's change. */
const fixedLine = (dir: string, c: JournalChange): string => `fixed ${path.relative(dir, c.path)}: ${c.old} -> ${c.new}`;

/** `undo J --list`: the rows under the header, split on runs of spaces. */
function runs(j: string): string[][] {
  const r = cli(['undo', j, '--list']);
  expect(r.code, r.stderr).toBe(0);
  const rows = lines(r.stdout);
  expect(rows[0]).toMatch(/^run\s+started\s+changes\s+state\s+host\s+user\s+version\s+root$/);
  return rows.slice(1).map((row) => row.split(/\s+/));
}

beforeAll(() => {
  ensureBuilt();
  ({ base, R, locks } = jail('quiet-fix-scale'));
  for (let i = 0; i < N; i++) fs.writeFileSync(`${R}/data/f${i}`, '');
});
afterAll(() => removeDir(base));

describe('--fix --quiet --journal J over 20,000 fixable links', () => {
  it('prints 20 `fixed` lines and `and 19,980 more; linkcheck undo J --list shows the run`, nothing else; the run is listed whole', () => {
    const dir = deployed('cron');
    const before = report(dir);
    expect(before.summary.fixable).toBe(N);
    const j = freshJournal();
    const r = cli([dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const changes = journalChanges(j);
    expect(changes).toHaveLength(N);
    const out = lines(r.stdout);
    expect(out.length).toBeLessThanOrEqual(CAP_CHANGES + 2);
    expect(out.slice(0, CAP_CHANGES)).toEqual(changes.slice(0, CAP_CHANGES).map((c) => fixedLine(dir, c)));
    expect(out.slice(CAP_CHANGES)).toEqual([`and ${thousands(changes.length - CAP_CHANGES)} more; linkcheck undo ${j} --list shows the run`]);
    expect(out.at(-1)).toBe(`and 19,980 more; linkcheck undo ${j} --list shows the run`);
    // What the journal says was changed is what the disk holds.
    const now = links(dir);
    for (const c of changes) expect(now.get(c.path), c.path).toBe(c.new);

    const rows = runs(j);
    expect(rows).toHaveLength(1);
    expect([rows[0]![2], rows[0]![3], rows[0]![7]]).toEqual([String(N), 'complete', R]);

    // The next cron run has nothing to do: no mail.
    const again = cli([dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j]);
    expect({ code: again.code, stdout: again.stdout, stderr: again.stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 300_000);
});

describe('20,000 broken links (dangling in the jail, not fixable)', () => {
  let dir = '';
  let rep: Report;
  beforeAll(() => {
    dir = tree('broken', N, (i) => `${NOWHERE}/x${i}`);
    rep = report(dir);
  }, 120_000);

  it('the tree is what the tests count on: every link a problem, none fixable', () => {
    expect(rep.summary.problems).toBe(N);
    expect(rep.summary.fixable).toBe(0);
    expect(rep.summary.findings.error).toBeGreaterThanOrEqual(N);
  });

  it('the default pretty report is under 200 lines: the cap, one count line per rule, the table, the summary', () => {
    const r = cli([dir, '--root', R, '--no-config']);
    expect(r.code, r.stderr).toBe(1);
    const out = lines(r.stdout);
    expect(out.length).toBeLessThan(200);
    const heads = out.filter((l) => / -> /.test(l) && !l.startsWith(' '));
    expect(heads.length).toBeGreaterThan(0);
    expect(heads.length).toBeLessThanOrEqual(CAP_LINKS * Object.keys(rep.summary.rules).length);
    // Per rule: the links it has, less those listed, counted on one line.
    const byRule = new Map<string, { rule: string; links: Set<string>; n: number }>();
    for (const l of rep.links)
      for (const f of l.findings) {
        const row = byRule.get(f.code) ?? { rule: f.rule, links: new Set<string>(), n: 0 };
        row.links.add(path.relative(dir, l.path));
        row.n++;
        byRule.set(f.code, row);
      }
    const listed = new Set(heads.map((h) => h.split(' -> ')[0]!));
    for (const [code, row] of byRule) {
      const shown = [...row.links].filter((n) => listed.has(n)).length;
      expect(shown, code).toBeGreaterThanOrEqual(CAP_LINKS);
      expect(out, code).toContain(`... and ${thousands(row.links.size - shown)} more links with ${code} ${row.rule} (--all lists them)`);
    }
    expect(out).toContain(`... and ${thousands(N - CAP_LINKS)} more links with LC003 dangling (--all lists them)`);
    // The table: each rule's count as the JSON summary has it.
    const table = out.filter((l) => /^ +[\d,]+ {2}LC\d{3} {2}/.test(l));
    expect(table).toHaveLength(byRule.size);
    for (const t of table) {
      const [, n, code, rule] = /^ +([\d,]+) {2}(LC\d{3}) {2}(\S+)/.exec(t)!;
      expect(Number(n!.replace(/,/g, '')), t).toBe(byRule.get(code!)!.n);
      expect(n, 'en-US separators').toBe(thousands(byRule.get(code!)!.n));
      if (rule! in rep.summary.rules) expect(Number(n!.replace(/,/g, '')), t).toBe(rep.summary.rules[rule!]);
    }
    // The summary last (its counts are the whole run's; how it writes them is not this test's).
    expect(out.at(-1)).toMatch(new RegExp(`^✖ (${N}|${thousands(N)}) of (${N}|${thousands(N)}) links have problems`));

    const quiet = cli([dir, '--root', R, '--no-config', '--quiet']);
    expect(quiet.code).toBe(1);
    expect(lines(quiet.stdout).length).toBeLessThan(200);
    expect(lines(quiet.stdout).at(-1)).toBe(out.at(-1));
  }, 120_000);

  it('--all lists every link once; compact has a line per finding', () => {
    const all = cli([dir, '--root', R, '--no-config', '--all']);
    expect(all.code, all.stderr).toBe(1);
    const names = lines(all.stdout)
      .filter((l) => / -> /.test(l) && !l.startsWith(' '))
      .map((h) => h.split(' -> ')[0]!);
    expect(names).toHaveLength(N);
    expect(names.sort()).toEqual(rep.links.map((l) => path.relative(dir, l.path)).sort());
    expect(all.stdout).not.toMatch(/more links with/);

    const compact = cli([dir, '--root', R, '--no-config', '--format', 'compact']);
    expect(compact.code, compact.stderr).toBe(1);
    const total = rep.summary.findings.error + rep.summary.findings.warning + rep.summary.findings.info;
    expect(lines(compact.stdout)).toHaveLength(total);
    expect(total).toBe(rep.links.reduce((n, l) => n + l.findings.length, 0));
  }, 120_000);
});

describe('the cron line with --dry-run', () => {
  it('touches no journal, says so on stderr, and previews the real run line for line', () => {
    const fixable = 30;
    const dir = deployed('preview', fixable);
    fs.symlinkSync(`${NOWHERE}/y`, `${dir}/gone`); // no fix: left for a person
    fs.symlinkSync('loop', `${dir}/loop`);
    const j = freshJournal();
    const args = [dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j];
    const note = `linkcheck: --dry-run: the journal ${j} was not touched (the real run appends its changes there)\n`;

    const dry = cli([...args, '--dry-run']);
    const dryAll = cli([...args, '--dry-run', '--all']);
    for (const r of [dry, dryAll]) {
      expect(r.stderr).toBe(note);
      expect(fs.existsSync(j)).toBe(false);
    }
    expect(links(dir).get(`${dir}/l0`)).toBe(`${R}/data/f0`);

    const real = cli(args);
    expect(real.code, real.stderr).toBe(1); // gone and loop are left
    expect(real.stderr).toBe('');
    const changes = journalChanges(j);
    expect(changes).toHaveLength(fixable);

    const verb = (out: string, v: string): string[] => lines(out).filter((l) => l.startsWith(`${v} `));
    const left = (out: string): string[] => lines(out).filter((l) => /^\S+: (error|warning|info) LC\d{3} /.test(l));
    // The plan the dry run shows is what the real run then did, line for line and in order.
    const planned = verb(dry.stdout, 'would fix');
    expect(planned).toHaveLength(CAP_CHANGES);
    expect(planned.map((l) => l.replace(/^would fix /, 'fixed '))).toEqual(verb(real.stdout, 'fixed'));
    expect(verb(dryAll.stdout, 'would fix').map((l) => l.replace(/^would fix /, 'fixed '))).toEqual(changes.map((c) => fixedLine(dir, c)));
    // Where the rest are: the dry run's own words, the real run's journal.
    expect(lines(dry.stdout)).toContain(`and ${thousands(fixable - CAP_CHANGES)} more; --all lists every planned change`);
    expect(lines(real.stdout)).toContain(`and ${thousands(changes.length - CAP_CHANGES)} more; linkcheck undo ${j} --list shows the run`);
    // What would be left is what is left: the links without a fix, at or above --fail-on.
    const wouldBeLeft = left(dry.stdout);
    expect(wouldBeLeft.length).toBeGreaterThan(0);
    expect(wouldBeLeft.map((l) => l.split(':')[0])).toEqual(expect.arrayContaining(['gone', 'loop']));
    for (const l of wouldBeLeft) expect(l).toMatch(/^(gone|loop): error /);
    expect(wouldBeLeft).toEqual(left(real.stdout));
    // Something is left: both end with the summary line.
    for (const r of [dry, real]) expect(lines(r.stdout).at(-1)).toMatch(/^✖ /);
    // Nothing else in either.
    for (const [r, words] of [
      [dry, /^(would fix |and \d|\S+: error |✖ )/],
      [real, /^(fixed |and \d|\S+: error |✖ )/],
    ] as const)
      for (const l of lines(r.stdout)) expect(l).toMatch(words);
  }, 120_000);

  it('a tree --fix would leave clean: the plan and no summary line', () => {
    const dir = deployed('preview-clean', 5);
    const j = freshJournal();
    const dry = cli([dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j, '--dry-run']);
    expect(fs.existsSync(j)).toBe(false);
    expect(lines(dry.stdout)).toHaveLength(5);
    for (const l of lines(dry.stdout)) expect(l).toMatch(/^would fix l\d: /);
    const real = cli([dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j]);
    expect(real.code, real.stderr).toBe(0);
    expect(lines(real.stdout)).toEqual(lines(dry.stdout).map((l) => l.replace(/^would fix /, 'fixed ')));
  }, 120_000);
});

describe('an interrupted --fix --quiet --journal J', () => {
  let dir = '';
  beforeAll(() => {
    dir = deployed('interrupted');
  }, 120_000);

  /** Runs the fix, signals it once the journal holds `after` changes, and waits for it to end. */
  async function interrupt(j: string, signal: NodeJS.Signals, extra: string[], after: number): Promise<SpawnResult & { sentAt: number }> {
    const child = spawn(process.execPath, [BIN, dir, '--root', R, '--no-config', '--fix', '--quiet', '--journal', j, ...extra], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', LINKCHECK_LOCK_DIR: locks },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, sig) => resolve({ code, signal: sig }));
    });
    let exited = false;
    void done.then(() => (exited = true));
    const deadline = Date.now() + 120_000;
    let sentAt = -1;
    while (!exited && Date.now() < deadline) {
      const n = journalChanges(j).length;
      if (n >= after) {
        sentAt = n;
        child.kill(signal);
        break;
      }
      await sleep(3);
    }
    if (sentAt < 0) child.kill('SIGKILL');
    const end = await done;
    expect(sentAt, `the run ended (or hung) before the journal held ${after} changes: make the tree bigger; stderr: ${stderr}`).toBeGreaterThanOrEqual(after);
    return { ...end, stdout, stderr, sentAt };
  }

  for (const [signal, format] of [
    ['SIGINT', 'pretty'],
    ['SIGTERM', 'compact'],
  ] as const)
    it(`${signal}, --format ${format}: exit 130, the changes so far capped, the run listed as interrupted and undone whole`, async () => {
      const j = freshJournal();
      const r = await interrupt(j, signal, format === 'pretty' ? [] : ['--format', format], CAP_CHANGES + 5);
      expect(r.code, r.stderr).toBe(130);
      const changes = journalChanges(j);
      expect(changes.length).toBeGreaterThanOrEqual(r.sentAt);
      expect(changes.length, 'the signal landed before the run finished').toBeLessThan(N);

      // Pretty: the changes on stdout; the other formats: on stderr, before the one line that says why.
      const listing = format === 'pretty' ? lines(r.stdout) : lines(r.stderr).slice(0, -1);
      const why = format === 'pretty' ? lines(r.stderr) : lines(r.stderr).slice(-1);
      if (format !== 'pretty') expect(r.stdout).toBe('');
      expect(why).toHaveLength(1);
      expect(why[0]).toMatch(new RegExp(`^linkcheck: interrupted by ${signal}: `));
      const said = /(\d+) changed so far/.exec(why[0]!);
      if (said) expect(Number(said[1])).toBe(changes.length);

      const shown = Math.min(CAP_CHANGES, changes.length);
      expect(listing.slice(0, shown)).toEqual(changes.slice(0, shown).map((c) => fixedLine(dir, c)));
      const more = listing.slice(shown);
      expect(more).toHaveLength(1);
      const m = /^and ([\d,]+) more; linkcheck undo (.+) --list shows the run$/.exec(more[0]!);
      expect(m, more[0]).not.toBeNull();
      expect(m![2]).toBe(j);
      expect(CAP_CHANGES + Number(m![1]!.replace(/,/g, ''))).toBe(changes.length);
      expect(m![1]).toBe(thousands(changes.length - CAP_CHANGES));

      // The disk holds exactly the journal's changes: those links relative, the rest as deployed.
      const now = links(dir);
      const changed = new Set(changes.map((c) => c.path));
      const relative = [...now].filter(([, t]) => !t.startsWith('/')).map(([p]) => p);
      expect(relative.sort()).toEqual([...changed].sort());

      const rows = runs(j);
      expect(rows).toHaveLength(1);
      expect([rows[0]![2], rows[0]![3]]).toEqual([String(changes.length), 'interrupted']);

      const undo = cli(['undo', j, '--last']);
      expect(undo.code, undo.stderr).toBe(0);
      expect(undo.stdout).toContain(`restored ${changes.length}, skipped 0 of ${changes.length} journal entries`);
      for (const [p, t] of links(dir)) expect(t, p).toBe(`${R}/data/f${path.basename(p).slice(1)}`);
    }, 300_000);
});
