/**
 * contrib/systemd: the service, timer and path units pass `systemd-analyze verify`, fit together
 * (the path unit watches the directory of the example's LINKCHECK_TREE, ReadWritePaths covers
 * it), and the service's ExecStart, expanded the way systemd expands it with the example
 * /etc/default/linkcheck, runs the real CLI on the Capistrano story.
 *
 * `verify` checks that ExecStart's program exists and is executable but never runs it: the test
 * verifies copies whose ExecStart names this checkout's bin/linkcheck.js (the real entry point,
 * not a stub), since /usr/local/bin/linkcheck is not installed on a test machine. Only that path
 * differs from the shipped files.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { links, removeDir, tempDir } from '../support/disk.js';
import { cliKnows, dropOption, IN_CI, missingCommand, storyCopy, type StoryCopy } from '../support/integration.js';
import { BIN, REPO } from '../support/repo.js';

const DIR = `${REPO}/contrib/systemd`;
const UNITS = ['linkcheck-repair.service', 'linkcheck-repair.timer', 'linkcheck-repair.path'];
const INSTALLED_BIN = '/usr/local/bin/linkcheck';

type Unit = Record<string, Array<[string, string]>>;

/** A unit file's sections and their key=value lines, in order (keys repeat in systemd). */
function parseUnit(text: string): Unit {
  const out: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      out[section] ??= [];
      continue;
    }
    const kv = /^([A-Za-z0-9]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || section === '') throw new Error(`not a unit file line: ${line}`);
    out[section]!.push([kv[1]!, kv[2]!]);
  }
  return out;
}

const values = (u: Unit, section: string, key: string): string[] => (u[section] ?? []).filter(([k]) => k === key).map(([, v]) => v);
const one = (u: Unit, section: string, key: string): string => {
  const v = values(u, section, key);
  if (v.length !== 1) throw new Error(`[${section}] ${key}= appears ${v.length} times`);
  return v[0]!;
};

/** An EnvironmentFile as systemd reads it: KEY=value lines, comments, optional quotes. */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not an environment line: ${line}`);
    env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/**
 * ExecStart's words as systemd makes them (systemd.service "Command lines"): a word that is
 * exactly ${VAR} becomes one word, a word that is exactly $VAR splits on blanks (and vanishes
 * when empty), ${VAR} inside a word is replaced in place. Our lines use no quotes.
 */
function execWords(line: string, env: Record<string, string>): string[] {
  if (/["'\\]/.test(line)) throw new Error('quoted ExecStart lines are not handled here');
  const out: string[] = [];
  for (const w of line.split(/\s+/).filter(Boolean)) {
    const whole = /^\$\{(\w+)\}$/.exec(w);
    const split = /^\$(\w+)$/.exec(w);
    if (whole) out.push(env[whole[1]!] ?? '');
    else if (split) out.push(...(env[split[1]!] ?? '').split(/\s+/).filter(Boolean));
    else out.push(w.replace(/\$\{(\w+)\}/g, (_, k: string) => env[k] ?? ''));
  }
  return out;
}

const reason = process.platform !== 'linux' ? `systemd units need Linux, this is ${process.platform}` : missingCommand(['systemd-analyze']);

if (reason !== null && IN_CI) {
  it('has systemd-analyze (CI=true)', () => {
    throw new Error(`cannot verify the systemd units: ${reason}`);
  });
}

describe.skipIf(reason !== null)(`contrib/systemd passes systemd-analyze verify${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let dir = '';

  /** Copies of the units into a fresh directory, ExecStart's program replaced by `bin`. */
  const copies = (bin: string, edit: (name: string, text: string) => string = (_, t) => t): string[] => {
    removeDir(dir);
    dir = tempDir('systemd');
    return UNITS.map((name) => {
      const text = fs.readFileSync(`${DIR}/${name}`, 'utf8').split(INSTALLED_BIN).join(bin);
      fs.writeFileSync(`${dir}/${name}`, edit(name, text));
      return `${dir}/${name}`;
    });
  };

  const verify = (files: string[]) => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], { encoding: 'utf8', cwd: dir });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  beforeAll(() => ensureBuilt());
  afterAll(() => removeDir(dir));

  it('all three units verify with no complaint', () => {
    const files = copies(BIN);
    expect(fs.readFileSync(files[0]!, 'utf8')).toContain(`ExecStart=${BIN} `);
    expect(verify(files)).toEqual({ code: 0, out: '' });
  });

  // The verdict above means something only if verify speaks up about these.
  it.each([
    ['a misspelt key', 'linkcheck-repair.service', (t: string) => t.replace(/^NoNewPrivileges=/m, 'NoNewPrivilege=')],
    ['a bad calendar', 'linkcheck-repair.timer', (t: string) => t.replace(/^OnCalendar=.*$/m, 'OnCalendar=*:0/99x')],
    ['a relative path to watch', 'linkcheck-repair.path', (t: string) => t.replace(/^PathChanged=\//m, 'PathChanged=')],
    ['a hardening option misspelt', 'linkcheck-repair.service', (t: string) => t.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=strictest')],
  ])('verify complains about %s (positive control)', (_what, unit, edit) => {
    const original = fs.readFileSync(`${DIR}/${unit}`, 'utf8');
    expect(edit(original), 'the edit applies').not.toBe(original);
    const files = copies(BIN, (name, text) => (name === unit ? edit(text) : text));
    const r = verify(files);
    expect(r.out).toContain(unit);
  });

  it('and fails on a program that is not there (positive control)', () => {
    const r = verify(copies(`${REPO}/no-such-linkcheck`));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/no-such-linkcheck.*(not executable|No such file)/);
  });
});

describe('contrib/systemd units fit together', () => {
  const unit = (name: string): Unit => parseUnit(fs.readFileSync(`${DIR}/${name}`, 'utf8'));
  const service = unit('linkcheck-repair.service');
  const timer = unit('linkcheck-repair.timer');
  const path = unit('linkcheck-repair.path');
  const env = parseEnvironmentFile(fs.readFileSync(`${DIR}/linkcheck.default`, 'utf8'));

  it('the service is a oneshot repair reading /etc/default/linkcheck, hardened but able to write the tree', () => {
    expect(one(service, 'Service', 'Type')).toBe('oneshot');
    expect(one(service, 'Service', 'EnvironmentFile')).toBe('/etc/default/linkcheck');
    const words = execWords(one(service, 'Service', 'ExecStart'), env);
    expect(words[0]).toBe(INSTALLED_BIN);
    expect(words.slice(1, 4)).toEqual([env.LINKCHECK_TREE, '--root', env.LINKCHECK_ROOT]);
    expect(words).toEqual(expect.arrayContaining(['--fix', '--quiet', '--journal', '--wait']));
    expect(words[words.indexOf('--journal') + 1]).toMatch(/^\/var\/lib\/linkcheck\//);
    expect(one(service, 'Service', 'StateDirectory')).toBe('linkcheck');
    expect(one(service, 'Service', 'ProtectSystem')).toBe('strict');
    for (const k of ['PrivateTmp', 'NoNewPrivileges', 'PrivateDevices', 'PrivateNetwork']) expect(one(service, 'Service', k), k).toBe('yes');
    // ReadWritePaths takes no environment: it must name the example's tree or a parent of it.
    const writable = values(service, 'Service', 'ReadWritePaths').flatMap((v) => v.split(/\s+/)).map((p) => p.replace(/^-/, ''));
    expect(writable.some((p) => env.LINKCHECK_TREE === p || env.LINKCHECK_TREE!.startsWith(`${p}/`)), writable.join(' ')).toBe(true);
    // Node's JIT needs writable+executable memory: this option would kill it at start.
    expect(values(service, 'Service', 'MemoryDenyWriteExecute')).toEqual([]);
  });

  it('the timer and the path unit start the service and are enabled by their targets', () => {
    expect(one(timer, 'Timer', 'Unit')).toBe('linkcheck-repair.service');
    expect(one(timer, 'Install', 'WantedBy')).toBe('timers.target');
    expect(one(path, 'Path', 'Unit')).toBe('linkcheck-repair.service');
    expect(one(path, 'Install', 'WantedBy')).toBe('paths.target');
  });

  it('the path unit watches the directory where a deploy renames `current`, the tree of /etc/default/linkcheck', () => {
    // inotify follows a symlink: a watch on .../current would watch the release it points to and
    // miss the rename of the link itself. The directory sees IN_MOVED_TO (see the unit's comment).
    expect(values(path, 'Path', 'PathChanged')).toEqual([env.LINKCHECK_TREE]);
  });
});

describe('the service ExecStart, expanded from the example /etc/default/linkcheck, runs the real CLI', () => {
  let story: StoryCopy | null = null;
  afterEach(() => story?.cleanup());
  const withWait = cliKnows('--wait');

  it(`repairs the Capistrano story, then finds nothing to do${withWait ? '' : ' (this build has no --wait: run without it)'}`, () => {
    ensureBuilt();
    story = storyCopy('systemd-exec');
    const s = story;
    const service = parseUnit(fs.readFileSync(`${DIR}/linkcheck-repair.service`, 'utf8'));
    const env = parseEnvironmentFile(s.local(fs.readFileSync(`${DIR}/linkcheck.default`, 'utf8')));
    env.LINKCHECK_FIX_FLAGS = '--exclude cache -x';
    let words = execWords(s.local(one(service, 'Service', 'ExecStart')), env);
    if (!withWait) words = dropOption(words, '--wait');
    expect(words.slice(-3)).toEqual(['--exclude', 'cache', '-x']);
    const runIt = () => spawnSync(words[0]!, words.slice(1), { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

    expect([...links(s.tree).values()].filter((t) => t.startsWith('/')).length, 'positive control: links to repair').toBeGreaterThanOrEqual(4);
    const first = runIt();
    expect(first.status, `${first.stdout}${first.stderr}`).toBe(0);
    expect(first.stdout).toMatch(/^fixed (.*\/)?current: /m);
    for (const [p, t] of links(s.tree)) expect(t.startsWith('/'), `${p} -> ${t}`).toBe(false);
    expect(fs.existsSync(`${s.state}/journal`)).toBe(true);

    const second = runIt();
    expect({ code: second.status, out: `${second.stdout}${second.stderr}` }).toEqual({ code: 0, out: '' });
  });
});
