import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';
import type { LinkRecord, Summary } from '../../src/audit/records.js';
import { emptySummary } from '../../src/audit/summary.js';
import type { AppliedChange } from '../../src/fix/applied-change.js';
import { nodeFsPort } from '../../src/core/fs-port.js';
import { labelValue, prometheusReporter } from '../../src/report/formats/prometheus.js';
import type { ReportContext } from '../../src/report/reporter.js';
import { runInfo } from '../../src/report/run-info.js';
import { rules } from '../../src/rules/registry.js';
import { ensureBuilt } from '../support/build.js';
import { runCliInProcess, spawnCli } from '../support/cli.js';
import { tempDir } from '../support/disk.js';
import { missingTool, requireTool, shimDir, toolGate } from '../support/integration.js';
import { randomTree } from '../support/random-tree.js';
import { REPO } from '../support/repo.js';
import { diskSandbox } from '../support/sandbox.js';
import { materialiseRandom } from '../support/tree.js';

/** One sample of the text format: name, labels (unescaped) and value. Written here apart from src/report/formats/prometheus.ts. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let l: RegExpExecArray | null;
    let end = 0;
    while ((l = re.exec(m[2]!)) !== null) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      end = re.lastIndex;
    }
    expect(end, `labels of ${line}`).toBe(m[2]!.length);
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);

const promtool = missingTool('promtool');
const gate = toolGate(promtool);

/** `promtool check metrics` on `text`: its exit code and what it said. */
function checkMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('label values', () => {
  it('escape backslash, double quote and line feed, and show bytes that are not UTF-8 as \\xNN', () => {
    expect(labelValue('/srv/lighty')).toBe('/srv/lighty');
    expect(labelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    // 0xff is never UTF-8; 'é' as UTF-8 bytes (c3 a9) stays é; a lone c3 is shown.
    expect(labelValue('x\xffy\xc3\xa9z\xc3')).toBe('x\\\\xffyéz\\\\xc3');
    // Astral characters stay whole (their low surrogate is not a lone one).
    expect(labelValue(Buffer.from('\u{1F600}', 'utf8').toString('latin1'))).toBe('\u{1F600}');
  });
});

describe('the prometheus reporter, fed by hand', () => {
  const ctx: ReportContext = { color: false, quiet: false, mode: 'fix', run: { ...runInfo('9.8.7', 1_700_000_000_000) } };
  const link = (findings: LinkRecord['findings']): LinkRecord =>
    ({ path: '/j/l', target: '/x', inside: '/l', findings, fix: null, noFix: null }) as unknown as LinkRecord;
  const summary: Summary = { ...emptySummary(), links: 3, entries: 9, directories: 2, unreadable: 1, problems: 2, fixable: 1 };
  const changes: AppliedChange[] = [
    { path: '/j/a', old: '/x', new: 'x', status: 'changed', reason: null },
    { path: '/j/b', old: '/x', new: 'x', status: 'changed', reason: null },
    { path: '/j/c', old: '/x', new: 'x', status: 'failed', reason: 'did not verify' },
    { path: '/j/d', old: '/x', new: 'x', status: 'skipped', reason: 'changed since the scan' },
  ];
  const render = (): string => {
    const r = prometheusReporter(ctx, () => 1_700_000_001_500);
    let out = r.begin({ root: '/srv/ro"o\\t\n\xff', scanned: ['/srv/ro"o\\t\n\xff/www'] });
    out += r.event({ type: 'link', link: link([{ rule: 'absolute', code: 'LC001', severity: 'error', message: 'm' }, { rule: 'view-mismatch', code: 'LC005', severity: 'warning', message: 'm' }]) });
    out += r.event({ type: 'link', link: link([{ rule: 'absolute', code: 'LC001', severity: 'warning', message: 'm' }]) });
    out += r.event({ type: 'unreadable', entry: { path: '/j/u', errno: 'EACCES', finding: { rule: 'unreadable', code: 'LC007', severity: 'warning', message: 'm' } } });
    return out + r.end(summary, changes);
  };

  it('counts findings by rule and severity, fixes, failures, and times the run with the clock it is given', () => {
    const text = render();
    const s = parseSamples(text);
    expect(value(s, 'linkcheck_findings', { rule: 'absolute', severity: 'error' })).toEqual([1]);
    expect(value(s, 'linkcheck_findings', { rule: 'absolute', severity: 'warning' })).toEqual([1]);
    expect(value(s, 'linkcheck_findings', { code: 'LC005', severity: 'warning' })).toEqual([1]);
    expect(value(s, 'linkcheck_findings', { rule: 'unreadable', severity: 'warning' })).toEqual([1]);
    // A rule that did not fire still has its series, at 0, at its default severity.
    for (const r of rules) expect(value(s, 'linkcheck_findings', { rule: r.id, severity: r.severity }), r.id).toHaveLength(1);
    expect(value(s, 'linkcheck_findings', { rule: 'loop' })).toEqual([0]);
    expect(value(s, 'linkcheck_links')).toEqual([3]);
    expect(value(s, 'linkcheck_unreadable_entries')).toEqual([1]);
    expect(value(s, 'linkcheck_fixed_links')).toEqual([2]);
    expect(value(s, 'linkcheck_fix_failures')).toEqual([1]);
    expect(value(s, 'linkcheck_fix_skipped')).toEqual([1]);
    expect(value(s, 'linkcheck_last_run_timestamp_seconds')).toEqual([1_700_000_001.5]);
    expect(value(s, 'linkcheck_run_duration_seconds')).toEqual([1.5]);
    expect(value(s, 'linkcheck_build_info', { version: '9.8.7', mode: 'fix' })).toEqual([1]);
    // Every sample names its root and tree, escaped so the file stays one sample a line.
    for (const x of s) expect(x.labels).toMatchObject({ root: '/srv/ro"o\\t\n\\xff', tree: '/srv/ro"o\\t\n\\xff/www' });
    // HELP and TYPE once per metric, before its samples.
    const names = [...new Set(s.map((x) => x.name))];
    for (const n of names) {
      expect(text.split('\n').filter((l) => l.startsWith(`# HELP ${n} `))).toHaveLength(1);
      expect(text).toContain(`# TYPE ${n} gauge\n${n}{`);
    }
  });

  it.skipIf(gate.skip)(`passes promtool check metrics${gate.label}`, () => {
    requireTool(promtool);
    const r = checkMetrics(render());
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
    // The control: a raw newline inside a label value is what the escaping prevents.
    const raw = render().replace('\\n', '\n');
    expect(checkMetrics(raw).status).not.toBe(0);
  });
});

describe.skipIf(gate.skip)(`--format prometheus from the real CLI${gate.label}`, () => {
  beforeAll(() => {
    requireTool(promtool);
    ensureBuilt();
  });

  it('passes promtool and says what the json report says, on an adversarial tree under a hostile root name', () => {
    const tree = materialiseRandom(randomTree(1314, { links: 400 }), 'linkcheck-prom-');
    const outer = tempDir('prom-root');
    try {
      // The root's own name has a quote, a backslash, a newline and a byte that is not UTF-8;
      // the command line reaches it through a plain alias, and linkcheck reports real paths.
      const hostile = Buffer.concat([Buffer.from(`${outer}/ro"o\\t\n`), Buffer.from([0xff])]);
      fs.renameSync(tree.root, hostile);
      fs.symlinkSync(hostile, `${outer}/alias`);
      const root = `${outer}/alias`;
      // With a trailing slash the scan path leads through the alias, as `ls alias/` would.
      const prom = spawnCli([`${root}/`, '--root', root, '--format', 'prometheus', '--fail-on', 'never']);
      const json = spawnCli([`${root}/`, '--root', root, '--format', 'json', '--fail-on', 'never']);
      expect(prom.stderr + json.stderr).toBe('');
      expect(prom.code).toBe(0);
      const check = checkMetrics(prom.stdout);
      expect(check.output).toBe('');
      expect(check.status).toBe(0);
      const s = parseSamples(prom.stdout);
      const sum: Summary = JSON.parse(json.stdout).summary;
      expect(new Set(s.map((x) => x.labels.root))).toEqual(new Set([`${outer}/ro"o\\t\n\\xff`]));
      expect(value(s, 'linkcheck_links')).toEqual([sum.links]);
      expect(sum.links).toBeGreaterThan(300);
      expect(value(s, 'linkcheck_entries')).toEqual([sum.entries]);
      expect(value(s, 'linkcheck_problem_links')).toEqual([sum.problems]);
      expect(value(s, 'linkcheck_fixable_links')).toEqual([sum.fixable]);
      expect(value(s, 'linkcheck_unreadable_entries')).toEqual([sum.unreadable]);
      for (const r of rules) expect(value(s, 'linkcheck_findings', { rule: r.id }).reduce((a, b) => a + b, 0), r.id).toBe(sum.rules[r.id] ?? 0);
      for (const sev of ['error', 'warning', 'info'] as const)
        expect(value(s, 'linkcheck_findings', { severity: sev }).reduce((a, b) => a + b, 0), sev).toBe(sum.findings[sev]);
      for (const view of ['chroot', 'host'] as const)
        for (const [status, n] of Object.entries(sum[view])) expect(value(s, 'linkcheck_link_status', { view, status }), `${view} ${status}`).toEqual([n]);
      const duration = value(s, 'linkcheck_run_duration_seconds')[0]!;
      expect(duration).toBeGreaterThan(0);
      expect(duration).toBeLessThan(60);
      expect(Math.abs(value(s, 'linkcheck_last_run_timestamp_seconds')[0]! - Date.now() / 1000)).toBeLessThan(60);
    } finally {
      fs.rmSync(outer, { recursive: true, force: true });
      tree.cleanup();
    }
  });

  it('after --fix, counts the links it fixed and what is left', async () => {
    const sb = diskSandbox(capistrano);
    try {
      const root = `${sb.base}/${JAIL}`;
      const r = await runCliInProcess([root + APP, '--root', root, '--fix', '--format', 'prometheus'], { fs: nodeFsPort() });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(checkMetrics(r.stdout).status).toBe(0);
      const s = parseSamples(r.stdout);
      expect(value(s, 'linkcheck_fixed_links')).toEqual([4]);
      expect(value(s, 'linkcheck_fix_failures')).toEqual([0]);
      expect(value(s, 'linkcheck_findings').reduce((a, b) => a + b, 0)).toBe(0);
      expect(value(s, 'linkcheck_build_info', { mode: 'fix' })).toEqual([1]);
    } finally {
      sb.cleanup();
    }
  });
});

describe.skipIf(gate.skip)(`the alert rules in docs/prometheus-alerts.yml${gate.label}`, () => {
  const rulesFile = path.join(REPO, 'docs', 'prometheus-alerts.yml');
  // Their unit tests sit apart, so that docs/ holds only rule files promtool checks as such.
  const dir = path.join(REPO, 'contrib', 'prometheus');
  beforeAll(() => requireTool(promtool));

  it('pass promtool check rules, and their own unit tests (promtool test rules)', () => {
    const check = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'linkcheck.rules.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(test.stdout + test.stderr).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });

  it('use only metrics that linkcheck writes', () => {
    const used = new Set(fs.readFileSync(rulesFile, 'utf8').match(/\blinkcheck_[a-z_]+/g));
    const text = spawnCli([path.join(REPO, 'fixtures'), '--format', 'prometheus', '--fail-on', 'never']).stdout;
    const written = new Set(parseSamples(text).map((s) => s.name));
    expect(used.size).toBeGreaterThan(3);
    for (const m of used) expect(written, m).toContain(m);
  });
});

describe.skipIf(gate.skip)(`linkcheck-metrics.service's command${gate.label}`, () => {
  beforeAll(() => {
    requireTool(promtool);
    ensureBuilt();
  });

  it('writes a textfile that passes promtool, for paths with spaces and quotes, and keeps the last one when linkcheck fails', () => {
    const unit = fs.readFileSync(path.join(REPO, 'contrib', 'prometheus', 'linkcheck-metrics.service'), 'utf8');
    const exec = /^ExecStart=\/bin\/sh -c '(.*)'$/m.exec(unit);
    expect(exec, 'ExecStart runs one sh -c script').not.toBeNull();
    // systemd turns $$ into $ before the shell sees the script.
    const script = exec![1]!.replace(/\$\$/g, '$');
    const work = tempDir('unit');
    try {
      const sb = diskSandbox(capistrano);
      const bin = shimDir(work);
      const textfiles = path.join(work, "text files 'x'");
      fs.mkdirSync(textfiles);
      const root = path.join(work, 'jail "one"');
      fs.renameSync(`${sb.base}/${JAIL}`, root);
      sb.cleanup();
      const env = { PATH: `${bin}:/usr/bin:/bin`, LINKCHECK_TREE: root + APP, LINKCHECK_ROOT: root, LINKCHECK_TEXTFILE_DIR: textfiles };
      const ok = spawnSync('/bin/sh', ['-c', script], { env, encoding: 'utf8' });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(fs.readdirSync(textfiles)).toEqual(['linkcheck.prom']);
      const text = fs.readFileSync(path.join(textfiles, 'linkcheck.prom'), 'utf8');
      expect(checkMetrics(text).status).toBe(0);
      expect(value(parseSamples(text), 'linkcheck_problem_links', { root })).toEqual([4]);
      // A root that is not there: exit code 2, no temporary file left, the last good file kept.
      const bad = spawnSync('/bin/sh', ['-c', script], { env: { ...env, LINKCHECK_ROOT: path.join(work, 'gone') }, encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/^linkcheck: /);
      expect(fs.readdirSync(textfiles)).toEqual(['linkcheck.prom']);
      expect(fs.readFileSync(path.join(textfiles, 'linkcheck.prom'), 'utf8')).toBe(text);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

const systemdAnalyze = missingTool('systemd-analyze');
const unitGate = toolGate(systemdAnalyze);

describe.skipIf(unitGate.skip)(`the metrics unit and its drop-in${unitGate.label}`, () => {
  /** What `systemd-analyze verify` says about the unit and the drop-in, beside a stand-in repair service. */
  const verify = (edit: (dir: string) => void = () => {}): { status: number | null; stderr: string } => {
    requireTool(systemdAnalyze);
    const dir = tempDir('units');
    try {
      fs.cpSync(path.join(REPO, 'contrib', 'prometheus'), dir, { recursive: true });
      // The repair service is written elsewhere (contrib/systemd/); the drop-in needs one to apply to.
      fs.writeFileSync(path.join(dir, 'linkcheck-repair.service'), '[Unit]\nDescription=stand-in\n[Service]\nType=oneshot\nExecStart=/bin/true\n');
      edit(dir);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', './linkcheck-metrics.service', './linkcheck-repair.service'], { cwd: dir, encoding: 'utf8' });
      return { status: r.status, stderr: r.stderr };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('pass systemd-analyze verify without a word, and a misspelt key does not (control)', () => {
    const ok = verify();
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const conf = path.join('linkcheck-repair.service.d', 'linkcheck-metrics.conf');
    const bad = verify((dir) => fs.appendFileSync(path.join(dir, conf), 'Befor=nothing.service\n'));
    expect(bad.stderr).toMatch(/linkcheck-metrics\.conf:\d+: Unknown key/);
  });
});
