/**
 * `--quiet` prints only what is at or above --fail-on, and nothing at all when the exit code is 0
 * (pretty and compact); the pretty format lists at most --max-links problem links per rule and
 * --max-changes changes, counts the rest on one line each (en-US thousands separators), and shows
 * a per-rule table when the cap held links back and more than one rule fired; `--all` lifts both
 * caps; compact, json, ndjson and sarif are never capped. Every expectation is computed from the
 * JSON report of the same tree (or from an uncapped run); the CLI runs in-process on a real jail,
 * and the built one is held to the same bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { type InProcessResult, runCliInProcess, spawnCli } from '../support/cli.js';
import { jail, removeDir } from '../support/disk.js';

type Severity = 'error' | 'warning' | 'info';
interface Finding {
  rule: string;
  code: string;
  severity: Severity;
}
interface LinkJson {
  path: string;
  target: string;
  findings: Finding[];
  fix: { target: string } | null;
}
interface Report {
  links: LinkJson[];
  summary: { links: number; findings: Record<Severity, number>; rules: Record<string, number>; problems: number; fixable: number };
}

let base = '';
let R = '';
let locks = '';

/** The CLI run in this process on the disk (the fast tier's way; one test below holds the built CLI to the same bytes). */
const cli = (args: string[]): Promise<InProcessResult> => runCliInProcess(args, { env: { LINKCHECK_LOCK_DIR: locks } });
/** An audit of `dir` in the jail, no config file read. */
const audit = (dir: string, ...args: string[]): Promise<InProcessResult> => cli([dir, '--root', R, '--no-config', ...args]);
const report = async (dir: string): Promise<Report> => {
  const r = await audit(dir, '--format', 'json');
  expect(r.code, r.stderr).not.toBe(2);
  return JSON.parse(r.stdout) as Report;
};

/** `20000` as `20,000`, written here without toLocaleString. */
const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const lines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));

/** Where the data the jail's absolute links name lives (a name no host has at /). */
const DATA = 'lc-quiet-data';
const NOWHERE = '/lc-quiet-nowhere';

/** A fresh directory `name` under the root with these links (name -> text). */
function tree(name: string, entries: Array<[string, string]>): string {
  const dir = `${R}/${name}`;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  for (const [link, text] of entries) fs.symlinkSync(text, `${dir}/${link}`);
  return dir;
}

/** A pretty report taken apart: link blocks (name and rules line), `... and N more` lines, table rows, the summary. */
interface Pretty {
  blocks: Array<{ name: string; rules: Array<{ severity: Severity; code: string; rule: string }> }>;
  more: Map<string, { n: number; rule: string }>;
  table: Array<{ n: number; code: string; rule: string; how: string }>;
  summary: string | undefined;
  other: string[];
}

function parsePretty(out: string): Pretty {
  const p: Pretty = { blocks: [], more: new Map(), table: [], summary: undefined, other: [] };
  const all = lines(out);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^(\S+) -> /.exec(line))) {
      const rules = all[++i]!;
      expect(rules, `the rules line after ${line}`).toMatch(/^ {2}(error|warning|info) /);
      p.blocks.push({ name: m[1]!, rules: parseRules(rules) });
    } else if ((m = /^\.\.\. and ([\d,]+) more links with (LC\d{3}) (\S+) \(--all lists them\)$/.exec(line))) {
      expect(p.more.has(m[2]!), `two lines for ${m[2]}`).toBe(false);
      p.more.set(m[2]!, { n: Number(m[1]!.replace(/,/g, '')), rule: m[3]! });
    } else if ((m = /^ +([\d,]+) {2}(LC\d{3}) {2}(\S+) +(\S.*)$/.exec(line))) {
      p.table.push({ n: Number(m[1]!.replace(/,/g, '')), code: m[2]!, rule: m[3]!, how: m[4]! });
    } else if (/^[✖!✔] /.test(line)) {
      expect(p.summary, 'two summary lines').toBeUndefined();
      p.summary = line;
    } else if (line !== '' && !/^ {2}(would fix|no fix)/.test(line)) p.other.push(line);
  }
  return p;
}

/** `  error LC001 absolute, LC003 dangling · warning LC005 view-mismatch` as its findings. */
function parseRules(line: string): Array<{ severity: Severity; code: string; rule: string }> {
  const out: Array<{ severity: Severity; code: string; rule: string }> = [];
  for (const group of line.trim().split(' · ')) {
    const m = /^(error|warning|info) (.*)$/.exec(group);
    expect(m, `a rules group: ${group}`).not.toBeNull();
    for (const one of m![2]!.split(', ')) {
      const r = /^(LC\d{3}) (\S+)$/.exec(one);
      expect(r, `a rule: ${one}`).not.toBeNull();
      out.push({ severity: m![1] as Severity, code: r![1]!, rule: r![2]! });
    }
  }
  return out;
}

const problemLinks = (rep: Report): LinkJson[] => rep.links.filter((l) => l.findings.length > 0);
const key = (f: { severity: string; code: string; rule: string }): string => `${f.severity} ${f.code} ${f.rule}`;

/**
 * What the cap lists, from the JSON report (in its order): a link is listed while any of its rules
 * has had fewer than `cap` links listed; a link not listed counts under each of its rules.
 */
function expectedCap(rep: Report, dir: string, cap: number): { listed: string[]; more: Map<string, number> } {
  const listedPerRule = new Map<string, number>();
  const more = new Map<string, number>();
  const listed: string[] = [];
  for (const l of problemLinks(rep)) {
    const codes = [...new Set(l.findings.map((f) => f.code))];
    const room = codes.some((c) => (listedPerRule.get(c) ?? 0) < cap);
    for (const c of codes) {
      const into = room ? listedPerRule : more;
      into.set(c, (into.get(c) ?? 0) + 1);
    }
    if (room) listed.push(path.relative(dir, l.path));
  }
  return { listed, more };
}

/** Findings per rule code, counted from the report's links: { n, rule, by severity }. */
function perRule(rep: Report): Map<string, { n: number; rule: string; by: Record<Severity, number> }> {
  const out = new Map<string, { n: number; rule: string; by: Record<Severity, number> }>();
  for (const l of rep.links)
    for (const f of l.findings) {
      const row = out.get(f.code) ?? { n: 0, rule: f.rule, by: { error: 0, warning: 0, info: 0 } };
      row.n++;
      row.by[f.severity]++;
      out.set(f.code, row);
    }
  return out;
}

beforeAll(async () => {
  ensureBuilt();
  ({ base, R, locks } = jail('quiet-caps'));
  fs.mkdirSync(`${R}/${DATA}`);
  for (const f of ['f1', 'f2', 'f3']) fs.writeFileSync(`${R}/${DATA}/${f}`, f);
});
afterAll(() => removeDir(base));

describe('--quiet on a tree with warnings only', () => {
  let dir = '';
  beforeAll(async () => {
    // Absolute links that resolve in the jail, not on the host: warnings (checked below, not assumed).
    dir = tree('warn', [
      ['w1', `/${DATA}/f1`],
      ['w2', `/${DATA}/f2`],
    ]);
  });

  it('the tree has warnings and no error (the premise of the tests below)', async () => {
    const rep = await report(dir);
    expect(rep.summary.findings.error).toBe(0);
    expect(rep.summary.findings.warning).toBeGreaterThan(0);
    expect(problemLinks(rep).map((l) => path.relative(dir, l.path)).sort()).toEqual(['w1', 'w2']);
  });

  it('--quiet prints nothing and exits 0, pretty and compact; without --quiet they do print', async () => {
    for (const format of ['pretty', 'compact']) {
      const quiet = await audit(dir, '--format', format, '--quiet');
      expect({ format, code: quiet.code, stdout: quiet.stdout, stderr: quiet.stderr }).toEqual({ format, code: 0, stdout: '', stderr: '' });
      const loud = await audit(dir, '--format', format);
      expect(loud.code, loud.stderr).toBe(0);
      expect(loud.stdout, `${format} without --quiet`).toMatch(/\bwarning\b/);
    }
  });

  it('--quiet --fail-on warning prints the warnings and exits 1', async () => {
    const rep = await report(dir);
    const warnings = problemLinks(rep);

    const pretty = await audit(dir, '--quiet', '--fail-on', 'warning');
    expect(pretty.code, pretty.stderr).toBe(1);
    const p = parsePretty(pretty.stdout);
    expect(p.blocks.map((b) => b.name)).toEqual(warnings.map((l) => path.relative(dir, l.path)));
    for (const [i, b] of p.blocks.entries()) expect(b.rules.map(key).sort(), b.name).toEqual(warnings[i]!.findings.map(key).sort());
    expect(p.summary).toBe(lines((await audit(dir)).stdout).at(-1));
    expect(p.other).toEqual([]);

    const compact = await audit(dir, '--format', 'compact', '--quiet', '--fail-on', 'warning');
    expect(compact.code, compact.stderr).toBe(1);
    expect(lines(compact.stdout)).toHaveLength(rep.summary.findings.warning);
    expect(compact.stdout).toBe((await audit(dir, '--format', 'compact')).stdout);
  });

  it('compact --quiet names a stale allow entry only under --fail-on info', async () => {
    const config = `${base}/stale.json`;
    fs.writeFileSync(config, JSON.stringify({ allow: [{ path: 'nothing/*', rules: ['dangling'], reason: 'r' }] }));
    const stale = /^allow entry #1: info stale-allow: /m;
    const loud = await cli([dir, '--root', R, '--config', config, '--format', 'compact']);
    expect(loud.stdout, 'the control: without --quiet the entry is named').toMatch(stale);
    const quiet = await cli([dir, '--root', R, '--config', config, '--format', 'compact', '--quiet']);
    expect({ code: quiet.code, stdout: quiet.stdout }).toEqual({ code: 0, stdout: '' });
    const info = await cli([dir, '--root', R, '--config', config, '--format', 'compact', '--quiet', '--fail-on', 'info']);
    expect(info.code, info.stderr).toBe(1);
    expect(info.stdout).toMatch(stale);
  });
});

describe('--quiet on a tree with errors and warnings', () => {
  let dir = '';
  let rep: Report;
  beforeAll(async () => {
    dir = tree('mixed', [
      ['w1', `/${DATA}/f1`], // works in the jail only: warnings
      ['w2', `/${DATA}/f2`],
      ['d1', `${NOWHERE}/x`], // dangles everywhere: an error and a warning
      ['d2', `../${DATA}/none`], // dangles, relative
      ['h1', `${R}/${DATA}/f3`], // a host path into the root: dangles in the jail
      ['lp', 'lp'],
    ]);
    rep = await report(dir);
  });

  it('the tree has both (the premise)', async () => {
    expect(rep.summary.findings.error).toBeGreaterThan(0);
    expect(rep.summary.findings.warning).toBeGreaterThan(0);
    // Some link has warnings only, and some link with an error has a warning too.
    expect(problemLinks(rep).some((l) => l.findings.every((f) => f.severity === 'warning'))).toBe(true);
    expect(problemLinks(rep).some((l) => l.findings.some((f) => f.severity === 'error') && l.findings.some((f) => f.severity === 'warning'))).toBe(true);
  });

  it('pretty --quiet: a block per link with an error, its rules line the errors only, then the summary', async () => {
    const r = await audit(dir, '--quiet');
    expect(r.code, r.stderr).toBe(1);
    const p = parsePretty(r.stdout);
    const withErrors = problemLinks(rep).filter((l) => l.findings.some((f) => f.severity === 'error'));
    expect(p.blocks.map((b) => b.name)).toEqual(withErrors.map((l) => path.relative(dir, l.path)));
    for (const [i, b] of p.blocks.entries()) {
      expect(b.rules.map((x) => x.severity), b.name).not.toContain('warning');
      expect(b.rules.map(key).sort(), b.name).toEqual(
        withErrors[i]!.findings
          .filter((f) => f.severity === 'error')
          .map(key)
          .sort(),
      );
    }
    expect(r.stdout).not.toMatch(/\bwarning (LC\d{3})/);
    // The summary line is the whole run's, as without --quiet; the cap held nothing back: no table.
    const loud = parsePretty((await audit(dir)).stdout);
    expect(p.summary).toBeDefined();
    expect(p.summary).toBe(loud.summary);
    expect(lines(r.stdout).at(-1)).toBe(p.summary);
    expect([p.table, p.more.size, p.other]).toEqual([[], 0, []]);
    expect([loud.table, loud.more.size]).toEqual([[], 0]);
  });

  it('compact --quiet: the error lines of the full compact report, nothing else', async () => {
    const r = await audit(dir, '--format', 'compact', '--quiet');
    expect(r.code, r.stderr).toBe(1);
    const got = lines(r.stdout);
    expect(got).toHaveLength(rep.summary.findings.error);
    for (const l of got) expect(l).toMatch(/^\S+: error LC\d{3} /);
    expect(got).toEqual(lines((await audit(dir, '--format', 'compact')).stdout).filter((l) => /^\S+: error /.test(l)));
  });

  it('--quiet --fail-on never prints nothing and exits 0, whatever the tree holds', async () => {
    for (const format of ['pretty', 'compact']) {
      const r = await audit(dir, '--format', format, '--quiet', '--fail-on', 'never');
      expect({ format, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ format, code: 0, stdout: '', stderr: '' });
    }
  });
});

describe('--max-links: problem links listed per rule, the rest counted', () => {
  const N = 1200;
  let dir = '';
  let rep: Report;
  beforeAll(async () => {
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < N; i++) entries.push([`n${i}`, `${NOWHERE}/x${i}`]); // absolute and dangling
    entries.push(['lp1', 'lp2'], ['lp2', 'lp1'], ['lp3', 'lp3']); // loops
    entries.push(['v1', `/${DATA}/f1`], ['v2', `/${DATA}/f2`]); // jail only: absolute and view-mismatch
    dir = tree('many', entries);
    rep = await report(dir);
  });

  it('the tree is what the tests below count on (the premise)', async () => {
    const rules = perRule(rep);
    expect(rules.get('LC003')?.n).toBe(N);
    expect(rules.size).toBeGreaterThan(2);
    expect(problemLinks(rep)).toHaveLength(N + 5);
  });

  it('default: 10 links of the dominant rule, one `and N more` line per rule, the per-rule table, the summary', async () => {
    const r = await audit(dir);
    expect(r.code, r.stderr).toBe(1);
    const p = parsePretty(r.stdout);
    const want = expectedCap(rep, dir, 10);
    expect(p.blocks.map((b) => b.name)).toEqual(want.listed);
    // The dangling rule has no other rule to list its links for it: exactly the cap.
    expect(p.blocks.filter((b) => b.rules.some((x) => x.code === 'LC003'))).toHaveLength(10);
    const rules = perRule(rep);
    for (const [code, row] of rules) expect(p.blocks.filter((b) => b.rules.some((x) => x.code === code)).length, code).toBeGreaterThanOrEqual(Math.min(10, row.n));
    // `... and N more` with N from the report, en-US separators.
    expect(new Map([...p.more].map(([code, m]) => [code, m.n]))).toEqual(want.more);
    for (const [code, m] of p.more) {
      expect(m.rule).toBe(rules.get(code)!.rule);
      expect(r.stdout).toContain(`... and ${thousands(want.more.get(code)!)} more links with ${code} ${m.rule} (--all lists them)\n`);
    }
    expect(r.stdout).toContain(`... and ${thousands(N - 10)} more links with LC003 dangling`);
    // The table: every rule that fired, its count as the JSON summary has it, most frequent first.
    expect(p.table.map((t) => t.code).sort()).toEqual([...rules.keys()].sort());
    for (const t of p.table) {
      expect(t.n, t.code).toBe(rules.get(t.code)!.n);
      if (t.rule in rep.summary.rules) expect(t.n, t.code).toBe(rep.summary.rules[t.rule]);
      const by = rules.get(t.code)!.by;
      const sev = (['error', 'warning', 'info'] as const).filter((s) => by[s] > 0);
      expect(t.how, t.code).toBe(sev.length === 1 ? sev[0] : sev.map((s) => `${thousands(by[s])} ${s}`).join(', '));
    }
    expect(p.table.map((t) => t.n)).toEqual(p.table.map((t) => t.n).sort((a, b) => b - a));
    expect(r.stdout).toMatch(new RegExp(`^ +${thousands(N)} {2}LC003 {2}dangling +error$`, 'm'));
    // Order: the blocks, the `more` lines, the table, the summary last.
    const at = (s: string): number => r.stdout.indexOf(s);
    expect(at('... and ')).toBeGreaterThan(r.stdout.lastIndexOf(' -> '));
    expect(at(`${thousands(N)}  LC003`)).toBeGreaterThan(r.stdout.lastIndexOf('... and '));
    expect(lines(r.stdout).at(-1)).toBe(p.summary);
    expect(p.other).toEqual([]);
    expect(lines(r.stdout).length).toBeLessThan(100);
  });

  it('the built CLI prints the same bytes and exit codes as the in-process runs above', async () => {
    const mixed = `${R}/mixed`;
    for (const [where, args] of [
      [dir, []],
      [dir, ['--max-links', '3', '--format', 'compact', '--quiet']],
      [mixed, ['--quiet']],
      [`${R}/warn`, ['--quiet']],
      [dir, ['--max-links', 'abc']],
    ] as Array<[string, string[]]>) {
      const argv = [where, '--root', R, '--no-config', ...args];
      const spawned = spawnCli(argv, { env: { LINKCHECK_LOCK_DIR: locks } });
      const inProcess = await cli(argv);
      expect({ code: spawned.code, stdout: spawned.stdout, stderr: spawned.stderr }, argv.join(' ')).toEqual(inProcess);
    }
  });

  it('--max-links 3 lists by the same rule; --all lists every link once, with no count and no table', async () => {
    const three = parsePretty((await audit(dir, '--max-links', '3')).stdout);
    const want = expectedCap(rep, dir, 3);
    expect(three.blocks.map((b) => b.name)).toEqual(want.listed);
    expect(new Map([...three.more].map(([code, m]) => [code, m.n]))).toEqual(want.more);
    expect(three.table.length).toBeGreaterThan(1);

    const all = await audit(dir, '--all');
    expect(all.code, all.stderr).toBe(1);
    const p = parsePretty(all.stdout);
    const names = problemLinks(rep).map((l) => path.relative(dir, l.path));
    expect(p.blocks.map((b) => b.name)).toEqual(names);
    expect(new Set(p.blocks.map((b) => b.name)).size).toBe(names.length);
    expect([p.more.size, p.table, p.other]).toEqual([0, [], []]);
    expect(all.stdout).not.toMatch(/more links with/);
    expect(p.summary).toBe(parsePretty((await audit(dir)).stdout).summary);
  });

  it('one rule over the cap: the count line, no table', async () => {
    const one = tree(
      'one-rule',
      Array.from({ length: 15 }, (_, i): [string, string] => [`r${i}`, `..${NOWHERE}/x${i}`]),
    );
    const rep1 = await report(one);
    expect([...perRule(rep1).keys()]).toEqual(['LC003']);
    const p = parsePretty((await audit(one)).stdout);
    expect(p.blocks).toHaveLength(10);
    expect(new Map([...p.more].map(([code, m]) => [code, m.n]))).toEqual(new Map([['LC003', 5]]));
    expect(p.table).toEqual([]);
  });

  it('compact, json, ndjson and sarif are never capped', async () => {
    const total = rep.summary.findings.error + rep.summary.findings.warning + rep.summary.findings.info;
    const compact = await audit(dir, '--format', 'compact', '--max-links', '1');
    expect(lines(compact.stdout)).toHaveLength(total);
    const json = JSON.parse((await audit(dir, '--format', 'json', '--max-links', '1')).stdout) as Report;
    expect(problemLinks(json)).toHaveLength(problemLinks(rep).length);
    const nd = lines((await audit(dir, '--format', 'ndjson', '--max-links', '1')).stdout).filter((l) => l.startsWith('{"path":'));
    expect(nd).toHaveLength(rep.links.length);
    const sarif = JSON.parse((await audit(dir, '--format', 'sarif', '--max-links', '1')).stdout) as { runs: Array<{ results: unknown[] }> };
    expect(sarif.runs[0]!.results).toHaveLength(total);
  });

  it('a --max-links or --max-changes that is not a whole number is exit 2 and one line', async () => {
    for (const [opt, v] of [
      ['--max-links', 'abc'],
      ['--max-links', '-1'],
      ['--max-links', '2.5'],
      ['--max-changes', 'abc'],
    ] as const) {
      const r = await audit(dir, opt, v);
      expect(r.code, `${opt} ${v}`).toBe(2);
      expect(r.stdout, `${opt} ${v}`).toBe('');
      expect(lines(r.stderr), `${opt} ${v}`).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^linkcheck: .*${opt}.*${v.replace('.', '\\.')}`));
    }
  });
});

describe('--max-changes: changes listed, then where the rest are', () => {
  const N = 30;
  let J = '';
  /** A fresh tree of N host paths into the root (all fixable) and one link --fix cannot fix. */
  const deploy = (): string =>
    tree('fixme', [...Array.from({ length: N }, (_, i): [string, string] => [`h${i}`, `${R}/${DATA}/f${(i % 3) + 1}`]), ['gone', `${NOWHERE}/y`]]);
  const changeLines = (out: string, verb: string): string[] => lines(out).filter((l) => l.startsWith(`${verb} `));

  it('dry run: the first 20 planned changes of the full list, then `and N more; --all lists every planned change`', async () => {
    const dir = deploy();
    const rep = await report(dir);
    const fixable = rep.summary.fixable;
    expect(fixable).toBe(N);
    const all = await cli([dir, '--root', R, '--no-config', '--fix', '--dry-run', '--all']);
    const every = changeLines(all.stdout, 'would fix');
    expect(every).toHaveLength(fixable);
    expect(all.stdout).not.toMatch(/^and \d/m);

    const r = await cli([dir, '--root', R, '--no-config', '--fix', '--dry-run']);
    expect(changeLines(r.stdout, 'would fix')).toEqual(every.slice(0, 20));
    expect(lines(r.stdout)).toContain(`and ${thousands(fixable - 20)} more; --all lists every planned change`);
    const five = await cli([dir, '--root', R, '--no-config', '--fix', '--dry-run', '--max-changes', '5']);
    expect(changeLines(five.stdout, 'would fix')).toEqual(every.slice(0, 5));
    expect(lines(five.stdout)).toContain(`and ${thousands(fixable - 5)} more; --all lists every planned change`);
  });

  it('--fix without --journal: `(no --journal was given: ...)`; with --journal J: `linkcheck undo J --list shows the run`', async () => {
    const dir = deploy();
    const planned = changeLines((await cli([dir, '--root', R, '--no-config', '--fix', '--dry-run', '--all'])).stdout, 'would fix').map((l) => l.replace(/^would fix /, 'fixed '));
    const bare = await cli([dir, '--root', R, '--no-config', '--fix']);
    expect(bare.code, bare.stderr).toBe(1); // `gone` is left
    expect(changeLines(bare.stdout, 'fixed')).toEqual(planned.slice(0, 20));
    expect(lines(bare.stdout)).toContain(`and ${thousands(planned.length - 20)} more (no --journal was given: --all or --format json lists every change)`);

    deploy();
    J = `${base}/changes.journal`;
    const journaled = await cli([dir, '--root', R, '--no-config', '--fix', '--journal', J, '--max-changes', '7']);
    expect(journaled.code, journaled.stderr).toBe(1);
    const inJournal = fs
      .readFileSync(J, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{"path":'));
    expect(inJournal).toHaveLength(N);
    expect(changeLines(journaled.stdout, 'fixed')).toEqual(planned.slice(0, 7));
    expect(lines(journaled.stdout)).toContain(`and ${thousands(inJournal.length - 7)} more; linkcheck undo ${J} --list shows the run`);

    deploy();
    const lifted = await cli([dir, '--root', R, '--no-config', '--fix', '--journal', J, '--all']);
    expect(changeLines(lifted.stdout, 'fixed')).toEqual(planned);
    expect(lifted.stdout).not.toMatch(/^and \d/m);
  });
});
