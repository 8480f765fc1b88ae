import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../support/build.js';
import { runCliInProcess } from '../support/cli.js';
import { randomTree } from '../support/random-tree.js';
import { diskSandbox, memfsSandbox } from '../support/sandbox.js';
import { materialiseRandom } from '../support/tree.js';
import { fitted } from '../../src/report/formats/pretty.js';
import { pathNamer, reportWidth, scanLabels } from '../../src/report/display-path.js';
import { commandLike } from '../../src/cli/suggest.js';
import { RESERVED } from '../../src/cli/help.js';
import { REPO } from '../support/repo.js';
import { APP, capistrano, JAIL } from '../../fixtures/capistrano.js';

const repo = REPO;

describe('--help', () => {
  it('shows the scan usage, every scan option, the commands, the three jobs and the exit codes', async () => {
    const h = await runCliInProcess(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: linkcheck <path\.\.\.> \[--root <dir>\] \[options\]$/m);
    for (const opt of ['--root <dir>', '--fix', '--format <format>', '--fail-on', '--exclude', '--one-file-system', '--quiet', '--no-color', '--dry-run', '--fix-scope', '--journal', '--jobs', '--absolute-paths', '--version', '--help'])
      expect(h.stdout, opt).toContain(opt);
    expect(h.stdout).toContain('compact');
    for (const cmd of ['rules', 'explain <rule>', 'undo [options] <journal>']) expect(h.stdout).toContain(`  ${cmd}`);
    expect(h.stdout).toMatch(/Examples:[\s\S]*--root \/srv\/lighty\n[\s\S]*--quiet && [\s\S]*\*\/15 \* \* \* \* root linkcheck [^\n]*--fix --quiet --journal/);
    expect(h.stdout).toMatch(/Exit codes:\n {2}0 +\S.*\n {2}1 +\S.*\n {2}2 +\S.*\n {2}70 +\S.*\n {2}75 +\S.*\n {2}130 +\S/);
    for (const name of RESERVED) expect(h.stdout).toContain(name);
    expect(h.stdout).toMatch(/Reserved names: audit, rules, explain, undo, help/);
  });

  it('"help" is a command too, and a command keeps its own page', async () => {
    const h = await runCliInProcess(['help', 'undo']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Usage: linkcheck undo \[options\] <journal>/);
    expect(h.stdout).not.toContain('--root');
  });
});

describe('a mistyped command', () => {
  it.each([
    ['explian', 'explain'],
    ['rulse', 'rules'],
    ['udno', 'undo'],
    ['Explain', 'explain'],
  ])('%s: exit 2, one line suggesting %s, nothing on stdout', async (word, meant) => {
    const sb = memfsSandbox({ d: {} });
    const r = await runCliInProcess([word, 'LC001'], { fs: sb.fs, cwd: sb.base });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`linkcheck: unknown command "${word}": did you mean ${meant}? (no path of that name exists either)\n`);
  });

  it('is still scanned when a directory of that name exists', async () => {
    const sb = memfsSandbox({ explian: { l: { link: '/nowhere' } } });
    const r = await runCliInProcess(['explian', '--format', 'json', '--fail-on', 'never'], { fs: sb.fs, cwd: sb.base });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).links).toHaveLength(1);
  });

  it('a word like no command stays a missing path', async () => {
    const sb = memfsSandbox({ d: {} });
    const r = await runCliInProcess(['nothing-here'], { fs: sb.fs, cwd: sb.base });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('linkcheck: path /base/nothing-here does not exist\n');
  });

  it('commandLike: one slip for short names, two for long ones; paths and options never', () => {
    expect(commandLike('undoo', RESERVED)).toBe('undo');
    expect(commandLike('exlpian', RESERVED)).toBe('explain');
    expect(commandLike('hepl', RESERVED)).toBe('help');
    expect(commandLike('uno', RESERVED)).toBe('undo');
    expect(commandLike('srv', RESERVED)).toBeNull();
    expect(commandLike('u', RESERVED)).toBeNull();
    expect(commandLike('./explian', RESERVED)).toBeNull();
    expect(commandLike('--rules', RESERVED)).toBeNull();
    expect(commandLike('var/undo', RESERVED)).toBeNull();
  });
});

describe('the pretty report names the link on the way', () => {
  // htdocs is a jail-style text through `current`, which Capistrano wrote as a host path.
  const sb = memfsSandbox({
    jail: {
      var: {
        www: {
          htdocs: { link: '/var/www/rails/current/public' },
          rails: {
            releases: { r1: { public: {}, REVISION: '1\n' } },
            current: { link: '{root}/jail/var/www/rails/releases/r1' },
            good: { link: 'releases/r1' },
            missing: { link: 'good/nothing' },
            file: { link: 'good/REVISION' },
            notdir: { link: 'file/sub' },
            deeper: { link: 'file/sub/x/' },
            slash: { link: 'file/' },
            chain: { link: 'htdocs2/x' },
            htdocs2: { link: '/var/www/rails/current/public' },
          },
        },
      },
    },
  });
  const root = `${sb.base}/jail`;
  const lines = async (): Promise<string[]> => (await runCliInProcess([`${root}/var/www`, '--root', root], { fs: sb.fs })).stdout.split('\n');

  it('"via X, which dangles" when that link itself dangles', async () => {
    expect(await lines()).toContain('htdocs -> /var/www/rails/current/public: dangles in the jail (via rails/current, which dangles: /base does not exist there)');
  });

  it('"via X:" when X resolves and what comes after it fails', async () => {
    const l = await lines();
    expect(l).toContain('rails/missing -> good/nothing: dangles in the jail (via rails/good: /var/www/rails/releases/r1/nothing does not exist there)');
    expect(l).toContain('rails/notdir -> file/sub: dangles in the jail (via rails/file: /var/www/rails/releases/r1/REVISION is not a directory there)')
    expect(l).toContain('rails/slash -> file/: dangles in the jail (via rails/file: /var/www/rails/releases/r1/REVISION is not a directory there)');
    expect(l).toContain('rails/deeper -> file/sub/x/: dangles in the jail (via rails/file: /var/www/rails/releases/r1/REVISION is not a directory there)');
  });

  it('blames the link that dangles, however deep in the chain', async () => {
    expect(await lines()).toContain('rails/chain -> htdocs2/x: dangles in the jail (via rails/current, which dangles: /base does not exist there)');
  });

  it('a link whose own text fails names no other link', async () => {
    expect(await lines()).toContain('rails/current -> /base/jail/var/www/rails/releases/r1: dangles in the jail (/base does not exist there)');
  });

  it('the fix reason of a jail-style text is not "host path into the root" (json says the same)', async () => {
    expect(await lines()).toContain('  would fix: rails/current/public (absolute: made relative; in the jail it reaches its target once the links on its way are fixed)');
    const doc = JSON.parse((await runCliInProcess([`${root}/var/www`, '--root', root, '--format', 'json'], { fs: sb.fs })).stdout);
    const why = (p: string): string => doc.links.find((l: { path: string }) => l.path === `${root}/var/www/${p}`).fix.why;
    expect(why('htdocs')).toBe('absolute: made relative; in the jail it reaches its target once the links on its way are fixed');
    expect(why('rails/current')).toBe('host path into the root: made relative so it resolves in the jail too');
  });
});

describe('the pretty headline for other kinds of breakage', () => {
  it('names both places, on the host side, when the two views land apart', async () => {
    // The jail holds a copy of the root's host path: a host-path text lands there in the jail.
    const sb = memfsSandbox({ jail: { t: {}, base: { jail: { t: {} } }, l: { link: '/base/jail/t' } } });
    const root = `${sb.base}/jail`;
    const r = await runCliInProcess([root, '--root', root], { fs: sb.fs });
    expect(r.stdout.split('\n')).toContain('l -> /base/jail/t: leads to base/jail/t in the jail but to t on the host');
  });

  it('says a link loops, or leaves the root, in the jail\'s words', async () => {
    const sb = memfsSandbox({ jail: { etc: { passwd: '' }, a: { link: 'b' }, b: { link: 'a' }, d: { up: { link: '../../etc/passwd' } } } });
    const root = `${sb.base}/jail`;
    const lines = (await runCliInProcess([root, '--root', root], { fs: sb.fs })).stdout.split('\n');
    expect(lines).toContain('a -> b: loops in the jail (cycle through /a, /b)');
    expect(lines).toContain('d/up -> ../../etc/passwd: leaves the root: its text climbs above the root with ..');
  });

  it('without --root the views are one: no "in the jail"', async () => {
    const sb = memfsSandbox({ t: { l: { link: 'nope' } } });
    const lines = (await runCliInProcess([`${sb.base}/t`], { fs: sb.fs })).stdout.split('\n');
    expect(lines).toContain('l -> nope: dangles (/base/t/nope does not exist)');
  });
});

describe('the bundled demo', () => {
  beforeAll(() => ensureBuilt());

  it('shows its four problem links in at most 20 lines of at most 100 columns', () => {
    // Piped, as here, the demo gives linkcheck the width of a usual terminal: 100 columns.
    const { COLUMNS: _c, ...env } = process.env;
    const r = spawnSync(process.execPath, [path.join(repo, 'scripts', 'demo.js')], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    const start = out.findIndex((l) => l.startsWith('$ linkcheck ')) + 2; // the demo prints a blank line after the command
    const end = out.findIndex((l, i) => i >= start && l.startsWith('(exit code'));
    const audit = out.slice(start, end);
    // Each link's headline says what breaks, on its line or (when the text would be cut past
    // recognition) on the next.
    const heads = audit.flatMap((l, i) => (/^\S.* -> /.test(l) ? [l + ' ' + (audit[i + 1] ?? '')] : []));
    expect(heads).toHaveLength(4);
    for (const h of heads) expect(h).toMatch(/( -> .*: |^.* -> \S+ +)(dangles|loops|leaves)/);
    expect(audit.length, audit.join('\n')).toBeLessThanOrEqual(20);
    expect(Math.max(...audit.map((l) => [...l].length)), audit.join('\n')).toBeLessThanOrEqual(100);
    expect(audit.at(-1)).toMatch(/^✖ 4 of 4 links have problems/);
    // A positive control: on a wider terminal the same audit is wider than 100 columns.
    const wide = spawnSync(process.execPath, [path.join(repo, 'scripts', 'demo.js')], { encoding: 'utf8', env: { ...env, COLUMNS: '200' } });
    expect(Math.max(...wide.stdout.split('\n').map((l) => [...l].length))).toBeGreaterThan(100);
  }, 30_000);

  it('writes no escape codes into a pipe, and bold headings when colour is asked for (control)', () => {
    const { FORCE_COLOR: _f, NO_COLOR: _n, ...env } = process.env;
    const piped = spawnSync(process.execPath, [path.join(repo, 'scripts', 'demo.js')], { encoding: 'utf8', env });
    expect(piped.status).toBe(0);
    expect(piped.stdout).not.toContain('\x1b');
    const forced = spawnSync(process.execPath, [path.join(repo, 'scripts', 'demo.js')], { encoding: 'utf8', env: { ...env, FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain('\x1b[1m== 1. Audit');
  }, 30_000);
});

describe('--format compact', () => {
  const countFindings = (doc: { links: Array<{ findings: unknown[] }>; unreadable: Array<{ findings: unknown[] }> }): number =>
    [...doc.links, ...doc.unreadable].reduce((n, l) => n + l.findings.length, 0);
  const LINE = /^[^\n]+: (error|warning|info) LC\d{3} [a-z-]+: [^\n]+$/;

  it.each([1, 2, 3])('one line per finding, as many as the json report has, on adversarial tree %i', async (seed) => {
    const t = materialiseRandom(randomTree(seed, { links: 150 }));
    try {
      const args = [t.root, '--root', t.root, '--fail-on', 'never'];
      const compact = await runCliInProcess([...args, '--format', 'compact']);
      const json = JSON.parse((await runCliInProcess([...args, '--format', 'json'])).stdout);
      const lines = compact.stdout.split('\n');
      expect(lines.pop()).toBe('');
      expect(countFindings(json)).toBeGreaterThan(20);
      expect(lines).toHaveLength(countFindings(json));
      for (const l of lines) expect(l).toMatch(LINE);
      expect(compact.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e]/);
      for (const l of lines) expect(l.startsWith(t.root)).toBe(false);
    } finally {
      t.cleanup();
    }
  });

  it('with several scanned paths, prefixes each as it was given, as find does', async () => {
    const sb = memfsSandbox({ jail: { a: { l: { link: '../nope' } }, b: { l: { link: '../nope' } } } });
    const r = await runCliInProcess(['./jail/a/', 'jail/b', '--root', 'jail', '--format', 'compact'], { fs: sb.fs, cwd: sb.base });
    expect(r.stdout).toBe('./jail/a/l: error LC003 dangling: dangles in the jail: /nope does not exist\njail/b/l: error LC003 dangling: dangles in the jail: /nope does not exist\n');
  });

  it('names paths relative to the scanned path, or host paths with --absolute-paths', async () => {
    const sb = memfsSandbox({ jail: { a: { l: { link: '../nope' } } } });
    const root = `${sb.base}/jail`;
    const rel = await runCliInProcess([root, '--root', root, '--format', 'compact'], { fs: sb.fs });
    expect(rel.stdout).toBe('a/l: error LC003 dangling: dangles in the jail: /nope does not exist\n');
    const abs = await runCliInProcess([root, '--root', root, '--format', 'compact', '--absolute-paths'], { fs: sb.fs });
    expect(abs.stdout).toBe(`${root}/a/l: error LC003 dangling: dangles in the jail: /nope does not exist\n`);
  });
});

describe('display helpers', () => {
  it('fitted shortens the middle of a text to fit, and leaves it whole without a width', () => {
    const t = '/srv/lighty/var/www/rails/releases/20070506135654';
    expect(fitted(t, undefined, 500)).toBe(t);
    expect(fitted(t, 100, 40)).toBe(t);
    const f = fitted(t, 60, 40);
    expect([...f]).toHaveLength(20);
    expect(f).toBe('/srv/ligh…0506135654');
    expect(f.startsWith('/srv/lig')).toBe(true);
    expect(f.endsWith('0506135654')).toBe(true);
    expect(fitted(t, 40, 40)).toBe('…');
  });

  it('pathNamer: relative to the one scanned path, labelled with several, host paths outside', () => {
    const one = pathNamer([['/srv/a', '']]);
    expect(one('/srv/a/current')).toBe('current');
    expect(one('/srv/a')).toBe('.');
    expect(one('/srv/ab/x')).toBe('/srv/ab/x');
    expect(one('/srv/a/new\nline')).toBe('new\\nline');
    const two = pathNamer(scanLabels(['./a/', '/srv/b'], ['/srv/a', '/srv/b'], (p) => (p === './a/' ? '/srv/a' : p)));
    expect(two('/srv/a/x')).toBe('./a/x');
    expect(two('/srv/b/y')).toBe('/srv/b/y');
    expect(pathNamer(undefined)('/srv/a/x')).toBe('/srv/a/x');
  });

  it('reportWidth: $COLUMNS, else the terminal, else none', () => {
    expect(reportWidth(true, 120, {})).toBe(120);
    expect(reportWidth(false, 120, {})).toBeUndefined();
    expect(reportWidth(false, undefined, { COLUMNS: '100' })).toBe(100);
    expect(reportWidth(true, 120, { COLUMNS: 'wide' })).toBe(120);
  });
});

describe('the pretty report around --fix and unreadable entries', () => {
  it('--fix --quiet prints only what changed, by relative path (cron mails only then); --dry-run the plan', async () => {
    const { capistrano, JAIL, APP } = await import('../../fixtures/capistrano.js');
    const sb = diskSandbox(capistrano);
    try {
      const root = `${sb.base}/${JAIL}`;
      const args = [root + APP, '--root', root, '--fix', '--quiet'];
      const plan = await runCliInProcess([...args, '--dry-run']);
      expect(plan.stdout.split('\n')[0]).toBe(`would fix current: ${root}${APP}/releases/20070506135654 -> releases/20070506135654`);
      const fixed = await runCliInProcess(args);
      expect(fixed.code).toBe(0);
      const lines = fixed.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toBe(`fixed current: ${root}${APP}/releases/20070506135654 -> releases/20070506135654`);
      expect(lines[3]).toBe('fixed releases/20070506135654/tmp/pids: /var/www/rails/shared/pids -> ../../../shared/pids');
      expect(await runCliInProcess(args)).toEqual({ code: 0, stdout: '', stderr: '' });
    } finally {
      sb.cleanup();
    }
  });

  it('an unreadable directory gets a headline and its rule, and counts in the summary', async () => {
    const sb = memfsSandbox({ jail: { locked: { l: { link: 'x' } }, ok: { l: { link: '../nope' } } } });
    const root = `${sb.base}/jail`;
    const fs = Object.create(sb.fs) as typeof sb.fs;
    fs.readdir = (dir) => {
      if (dir === `${root}/locked`) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return sb.fs.readdir(dir);
    };
    const r = await runCliInProcess([root, '--root', root], { fs });
    expect(r.stdout).toContain('locked: directory could not be read (EACCES); nothing below it was checked\n  error LC007 unreadable\n');
    expect(r.stdout).toContain('ok/l -> ../nope: dangles in the jail (/nope does not exist there)\n');
    expect(r.stdout).toMatch(/✖ 1 of 1 link has problems \(\d+ entries, 1 unreadable\): 2 findings \(2 errors\)\n$/);
    const compact = await runCliInProcess([root, '--root', root, '--format', 'compact'], { fs });
    expect(compact.stdout).toContain(`locked: error LC007 unreadable: directory ${root}/locked could not be read (EACCES); nothing below it was checked\n`);
  });
});

describe('a hint when --root looks forgotten', () => {
  const HINT = /^hint: no --root was given, but (.*): if a chrooted service reads this tree, give its jail root \(--root DIR\)/m;

  it("names a link that names the tree by its host path (Capistrano's), in the full and the quiet report; the exit code is the same", async () => {
    const sb = memfsSandbox(capistrano);
    try {
      const root = `${sb.base}/${JAIL}`;
      const app = root + APP;
      const full = await runCliInProcess([app], { fs: sb.fs });
      expect(full.stdout).toMatch(HINT);
      expect(HINT.exec(full.stdout)![1]).toMatch(/^absolute links name this tree by its host path \(current -> .*\/releases\//);
      const quiet = await runCliInProcess([app, '--quiet'], { fs: sb.fs });
      expect(quiet.stdout).toMatch(HINT);
      const json = await runCliInProcess([app, '--format', 'json'], { fs: sb.fs });
      expect(quiet.code).toBe(json.code);
      expect(full.code).toBe(json.code);
      // Given --root, no hint; and none in the machine formats.
      expect((await runCliInProcess([app, '--root', root], { fs: sb.fs })).stdout).not.toMatch(/^hint:/m);
      expect(json.stdout).not.toContain('hint:');
    } finally {
      sb.cleanup();
    }
  });

  it('says so for --preset deploy without a root, and nothing for a tree of relative links (control)', async () => {
    const sb = memfsSandbox({ app: { releases: { r1: {} }, current: { link: 'releases/r1' } } });
    try {
      const app = `${sb.base}/app`;
      expect((await runCliInProcess([app], { fs: sb.fs })).stdout).not.toMatch(/^hint:/m);
      const preset = await runCliInProcess([app, '--preset', 'deploy'], { fs: sb.fs });
      expect(HINT.exec(preset.stdout)?.[1]).toBe('the deploy preset is on');
    } finally {
      sb.cleanup();
    }
  });
});

describe('words without a jail', () => {
  it('a link that dangles or loops with no --root says so without "in the jail"; with --root, in the jail words (control)', async () => {
    const sb = memfsSandbox({ jail: { a: { gone: { link: '/nope' }, x: { link: 'y' }, y: { link: 'x' } } } });
    try {
      const bare = await runCliInProcess([`${sb.base}/jail`, '--format', 'compact'], { fs: sb.fs });
      expect(bare.stdout).toMatch(/a\/gone: error LC003 dangling: dangles: \/nope does not exist\n/);
      expect(bare.stdout).toMatch(/a\/x: error LC004 loop: loops: cycle through /);
      expect(bare.stdout).toMatch(/a\/gone: warning LC001 absolute: absolute link, and it does not resolve/);
      expect(bare.stdout).not.toContain('in the jail');
      const jailed = await runCliInProcess([`${sb.base}/jail`, '--root', `${sb.base}/jail`, '--format', 'compact'], { fs: sb.fs });
      expect(jailed.stdout).toMatch(/a\/gone: error LC003 dangling: dangles in the jail: \/nope does not exist/);
      expect(jailed.stdout).toMatch(/a\/x: error LC004 loop: loops in the jail: cycle through /);
    } finally {
      sb.cleanup();
    }
  });
});
