import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { tempDir } from '../support/disk.js';
import { missingTool, requireTool, shimDir, toolGate } from '../support/integration.js';
import { REPO } from '../support/repo.js';
import { diskSandbox } from '../support/sandbox.js';

type Step = { name?: string; run?: string; uses?: string; with?: Record<string, string> };
type Task = Record<string, unknown> & { name: string; loop?: unknown; when?: unknown };

const read = (p: string): string => fs.readFileSync(path.join(REPO, p), 'utf8');

/** The long options linkcheck's --help lists. */
function helpOptions(): Set<string> {
  const help = spawnCli(['audit', '--help']).stdout + spawnCli(['undo', '--help']).stdout;
  return new Set(help.match(/(?<=^\s+(?:-\w, )?)--[a-z-]+/gm));
}

describe('the code-scanning workflow example', () => {
  const file = 'contrib/github/linkcheck-code-scanning.yml';
  const wf = parse(read(file)) as { jobs: Record<string, { permissions: Record<string, string>; env?: Record<string, string>; steps: Step[] }> };
  const [job] = Object.values(wf.jobs);
  beforeAll(() => ensureBuilt());

  it('runs linkcheck with --format sarif into a file, then uploads that file to code scanning', () => {
    const steps = job!.steps;
    const scan = steps.findIndex((s) => /\blinkcheck\b.*--format sarif/.test(s.run ?? ''));
    expect(scan, 'a step runs linkcheck --format sarif').toBeGreaterThanOrEqual(0);
    const out = /--format sarif\b.*>\s*(\S+)/.exec(steps[scan]!.run!)?.[1];
    expect(out, 'the SARIF goes to a file').toBeDefined();
    // Findings must not stop the job before the upload.
    expect(steps[scan]!.run).toMatch(/--fail-on never/);
    const upload = steps.findIndex((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
    expect(upload, 'upload-sarif comes after the scan').toBeGreaterThan(scan);
    expect(steps[upload]!.with!.sarif_file).toBe(out);
    expect(job!.permissions['security-events']).toBe('write');
  });

  it("has linkcheck commands that work: the scan step's, run on a tree, writes a SARIF log", () => {
    const work = tempDir('wf');
    const sb = diskSandbox(capistrano);
    try {
      const bin = shimDir(work);
      const options = helpOptions();
      for (const s of job!.steps.filter((x) => /\blinkcheck /.test(x.run ?? '') && !/npm install/.test(x.run!))) {
        for (const o of s.run!.match(/--[a-z-]+/g) ?? []) expect(options, `${s.name}: ${o}`).toContain(o);
      }
      const scan = job!.steps.find((s) => /--format sarif/.test(s.run ?? ''))!;
      const tree = `${sb.base}/${JAIL}`;
      const r = spawnSync('/bin/sh', ['-c', scan.run!], { cwd: work, env: { ...job!.env, TREE: tree, PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const log = JSON.parse(fs.readFileSync(path.join(work, 'linkcheck.sarif'), 'utf8'));
      expect(log.runs[0].results.length).toBeGreaterThan(0);
      expect(log.runs[0].originalUriBaseIds.TREE.uri).toBe(`file://${tree}/`);
    } finally {
      sb.cleanup();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

const playbook = 'contrib/ansible/linkcheck.yml';
const ansible = missingTool('ansible-playbook');
const gate = toolGate(ansible);

describe('the Ansible playbook', () => {
  const plays = parse(read(playbook)) as { hosts: string; vars: Record<string, unknown>; tasks: Task[] }[];
  const hostsPlay = plays.find((p) => p.hosts === 'linkcheck')!;
  const copies = (t: Task): Record<string, string> | undefined => t['ansible.builtin.copy'] as Record<string, string> | undefined;

  it.skipIf(gate.skip)(`passes ansible-playbook --syntax-check, and a broken copy does not (control)${gate.label}`, () => {
    requireTool(ansible);
    const work = tempDir('ansible');
    const check = (file: string): ReturnType<typeof spawnSync> =>
      spawnSync('ansible-playbook', ['--syntax-check', '-i', path.join(REPO, 'contrib/ansible/hosts.example'), file], {
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp'), ANSIBLE_NOCOLOR: '1' },
      });
    try {
      const ok = check(path.join(REPO, playbook));
      expect(ok.stdout + '' + ok.stderr).toContain('playbook:');
      expect(ok.status).toBe(0);
      fs.cpSync(path.join(REPO, 'contrib/ansible'), path.join(work, 'copy'), { recursive: true });
      const broken = path.join(work, 'copy', 'linkcheck.yml');
      fs.writeFileSync(broken, fs.readFileSync(broken, 'utf8').replace('ansible.builtin.template:', 'ansible.builtin.templat:'));
      expect(check(broken).status).not.toBe(0);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('rolls out the repair units from contrib/systemd, /etc/default/linkcheck and the metrics units', () => {
    const unitCopy = hostsPlay.tasks.find((t) => copies(t)?.src?.includes('/systemd/'))!;
    expect(copies(unitCopy)!.src).toBe('{{ linkcheck_checkout }}/contrib/systemd/{{ item }}');
    expect(hostsPlay.vars.linkcheck_checkout).toBe('{{ playbook_dir }}/../..');
    expect(hostsPlay.vars.linkcheck_units).toEqual(['linkcheck-repair.service', 'linkcheck-repair.timer', 'linkcheck-repair.path']);
    expect(unitCopy.loop).toBe('{{ linkcheck_units }}');
    const template = hostsPlay.tasks.find((t) => t['ansible.builtin.template'])!['ansible.builtin.template'] as Record<string, string>;
    expect(template.dest).toBe('/etc/default/linkcheck');
    expect(fs.existsSync(path.join(REPO, 'contrib/ansible', template.src!))).toBe(true);
    const metrics = hostsPlay.tasks.find((t) => copies(t)?.src?.includes('/prometheus/'))!;
    for (const f of metrics.loop as string[]) expect(fs.existsSync(path.join(REPO, 'contrib/prometheus', f)), f).toBe(true);
    const started = hostsPlay.tasks.filter((t) => (t['ansible.builtin.systemd'] as { state?: string } | undefined)?.state === 'started');
    expect(started.flatMap((t) => (t.loop as string[] | undefined) ?? [])).toEqual(['linkcheck-repair.timer', 'linkcheck-repair.path']);
    const rules = plays.find((p) => p.hosts === 'prometheus')!.tasks.find((t) => copies(t))!;
    expect(copies(rules)!.validate).toBe('promtool check rules %s');
    expect(copies(rules)!.src).toBe('{{ linkcheck_checkout }}/docs/prometheus-alerts.yml');
    expect(fs.existsSync(path.join(REPO, 'docs/prometheus-alerts.yml'))).toBe(true);
  });

  // contrib/systemd/ is written separately; once it is in the tree, the playbook's files must be there.
  const units = fs.existsSync(path.join(REPO, 'contrib/systemd'));
  it.skipIf(!units)(`finds the repair units it copies in contrib/systemd${units ? '' : ' (skipped: contrib/systemd/ is not in this tree yet)'}`, () => {
    for (const u of hostsPlay.vars.linkcheck_units as string[]) expect(fs.existsSync(path.join(REPO, 'contrib/systemd', u)), u).toBe(true);
    for (const u of hostsPlay.vars.linkcheck_units as string[]) expect(read(`contrib/systemd/${u}`), u).not.toBe('');
    expect(read('contrib/systemd/linkcheck-repair.service')).toMatch(/^EnvironmentFile=-?\/etc\/default\/linkcheck$/m);
  });

  it.skipIf(gate.skip)(`renders /etc/default/linkcheck so that sh reads back the exact paths${gate.label}`, () => {
    requireTool(ansible);
    const work = tempDir('ansible');
    try {
      const vars = { linkcheck_tree: '/srv/my "jail"/var/www/$HOME `id` \\x', linkcheck_root: "/srv/my \"jail\"/it's", linkcheck_textfile_dir: '/var/lib/node exporter' };
      fs.writeFileSync(path.join(work, 'vars.json'), JSON.stringify(vars));
      const dest = path.join(work, 'linkcheck.default');
      const r = spawnSync(
        'ansible',
        ['localhost', '-i', 'localhost,', '-c', 'local', '-m', 'ansible.builtin.template', '-a', `src=${path.join(REPO, 'contrib/ansible/templates/linkcheck.default.j2')} dest=${dest}`, '-e', `@${path.join(work, 'vars.json')}`],
        { encoding: 'utf8', env: { ...process.env, ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp'), ANSIBLE_NOCOLOR: '1', ANSIBLE_PYTHON_INTERPRETER: 'auto_silent' } },
      );
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const back = spawnSync('/bin/sh', ['-c', `. "$1"; printf '%s\\0' "$LINKCHECK_TREE" "$LINKCHECK_ROOT" "$LINKCHECK_TEXTFILE_DIR"`, 'sh', dest], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', HOME: '/nowhere' },
      });
      expect(back.status).toBe(0);
      expect(back.stdout.split('\0').slice(0, 3)).toEqual([vars.linkcheck_tree, vars.linkcheck_root, vars.linkcheck_textfile_dir]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('docs/ci-and-fleets.md', () => {
  const doc = read('docs/ci-and-fleets.md');
  let work = '';
  beforeAll(() => {
    work = tempDir('doc');
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('links only to files that exist', () => {
    const links = [...doc.matchAll(/\]\(((?!https?:|#)[^)#]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(5);
    for (const l of links) expect(fs.existsSync(path.join(REPO, 'docs', l)), l).toBe(true);
  });

  it('has YAML that parses, and linkcheck commands with options linkcheck has', () => {
    const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(yamlBlocks.length).toBeGreaterThan(0);
    for (const y of yamlBlocks) expect(() => parse(y)).not.toThrow();
    const options = helpOptions();
    // --output is written on another branch; the doc names it as the one-command form.
    const expected = new Set([...options, '--output']);
    const used = [...doc.matchAll(/\blinkcheck "?[$/][^\n`]*/g)].flatMap((m) => m[0].match(/--[a-z-]+/g) ?? []);
    expect(used).toContain('--format');
    for (const o of used) expect(expected, o).toContain(o);
  });

  it('shows a cron repair line that writes metrics promtool accepts, fixes included', () => {
    const cron = /^\*\/15 \* \* \* \* root (linkcheck .*)$/m.exec(doc)![1]!;
    const sb = diskSandbox(capistrano);
    try {
      const bin = shimDir(work);
      const textfiles = path.join(work, 'textfiles');
      fs.mkdirSync(textfiles);
      const root = `${sb.base}/${JAIL}`;
      const places: Record<string, string> = {
        '/srv/lighty/var/www/rails': root + APP,
        '/srv/lighty': root,
        '/var/lib/prometheus/node-exporter': textfiles,
        '/var/log/linkcheck.journal': path.join(work, 'journal'),
      };
      const cmd = cron.replace(/\/srv\/lighty\/var\/www\/rails|\/srv\/lighty|\/var\/lib\/prometheus\/node-exporter|\/var\/log\/linkcheck\.journal/g, (p) => places[p]!);
      expect(cmd).not.toBe(cron);
      const r = spawnSync('/bin/sh', ['-c', cmd], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const text = fs.readFileSync(path.join(textfiles, 'linkcheck.prom'), 'utf8');
      expect(text).toMatch(/^linkcheck_fixed_links\{[^}]*\} 4$/m);
      const promtool = missingTool('promtool');
      if (promtool === null || process.env.CI === 'true') {
        requireTool(promtool);
        expect(spawnSync('promtool', ['check', 'metrics'], { input: text }).status).toBe(0);
      }
    } finally {
      sb.cleanup();
    }
  });
});
