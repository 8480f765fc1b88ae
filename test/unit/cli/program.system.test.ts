import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../support/build.js';
import { capistrano, JAIL, APP } from '../../../fixtures/capistrano.js';
import type { Tree } from '../../../fixtures/tree.js';
import { runCliInProcess } from '../../support/cli.js';
import { diskSandbox, memfsSandbox } from '../../support/sandbox.js';
import { REPO } from '../../support/repo.js';

const repo = REPO;

describe('exit codes and usage errors', () => {
  const sb = memfsSandbox(capistrano);
  const root = `${sb.base}/${JAIL}`;
  const app = root + APP;
  const bad: Array<[string, string[], RegExp]> = [
    ['a missing path', ['/nope', '--root', root], /path \/nope does not exist/],
    ['a root that is not a directory', [app, '--root', `${root}/etc/lighttpd.conf`], /is not a directory/],
    ['a missing root', [app, '--root', '/nope'], /root \/nope does not exist/],
    ['a path outside the root', [`${sb.base}/srv`, '--root', root], /is not under the root/],
    ['a bad --format', [app, '--format', 'xml'], /--format.*xml.*invalid/],
    ['a bad --fail-on', [app, '--fail-on', 'sometimes'], /--fail-on.*invalid/],
    ['a bad --fix-scope', [app, '--fix', '--fix-scope', 'all'], /--fix-scope.*invalid/],
    ['an unknown option', [app, '--frobnicate'], /unknown option '--frobnicate'/],
    ['no path', [], /missing required argument/],
    ['--dry-run without --fix', [app, '--dry-run'], /--dry-run goes with --fix/],
    ['--journal without --fix', [app, '--journal', '/j'], /--journal goes with --fix/],
    ['an unknown rule', ['explain', 'nope'], /unknown rule "nope"/],
    ['an empty path', [''], /empty path/],
    ['an empty --exclude', [app, '--exclude', ''], /empty --exclude/],
  ];
  it.each(bad)('%s: exit 2, one line on stderr, nothing on stdout', async (_what, argv, message) => {
    const r = await runCliInProcess(argv, { fs: sb.fs });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^linkcheck: /);
    expect(r.stderr).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
  });

  it('exits 1 on the Capistrano tree (errors), and --fail-on decides the threshold', async () => {
    expect((await runCliInProcess([app, '--root', root], { fs: sb.fs })).code).toBe(1);
    expect((await runCliInProcess([app, '--root', root, '--fail-on', 'never'], { fs: sb.fs })).code).toBe(0);
  });

  it('exits 0 on warnings with the default --fail-on error, 1 with --fail-on warning', async () => {
    const w = memfsSandbox({ jail: { b: {}, a: { l: { link: '/b' } } } });
    const args = [`${w.base}/jail`, '--root', `${w.base}/jail`];
    expect((await runCliInProcess(args, { fs: w.fs })).code).toBe(0);
    expect((await runCliInProcess([...args, '--fail-on', 'warning'], { fs: w.fs })).code).toBe(1);
    expect((await runCliInProcess([...args, '--fail-on', 'info'], { fs: w.fs })).code).toBe(1);
  });

  it('exits 0 for an info finding unless --fail-on info', async () => {
    const w = memfsSandbox({ jail: { b: {}, a: { l: { link: '..//b' } } } });
    const args = [`${w.base}/jail`, '--root', `${w.base}/jail`];
    expect((await runCliInProcess(args, { fs: w.fs })).code).toBe(0);
    expect((await runCliInProcess([...args, '--fail-on', 'warning'], { fs: w.fs })).code).toBe(0);
    expect((await runCliInProcess([...args, '--fail-on', 'info'], { fs: w.fs })).code).toBe(1);
  });

  it('--help and --version exit 0', async () => {
    const h = await runCliInProcess(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/Exit codes:\n  0 /);
    const v = await runCliInProcess(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('reports', () => {
  const sb = memfsSandbox(capistrano);
  const root = `${sb.base}/${JAIL}`;
  const app = root + APP;

  it('pretty: a headline per problem link saying what breaks, its rules, the would-fix line, and a summary', async () => {
    const r = await runCliInProcess([app, '--root', root], { fs: sb.fs });
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`current -> ${sb.base}/${JAIL}${APP}/releases/20070506135654: dangles in the jail (/base does not exist there)`);
    expect(lines).toContain('  error LC001 absolute, LC003 dangling · warning LC005 view-mismatch');
    expect(r.stdout).toMatch(/would fix: releases\/20070506135654 \(host path into the root: made relative so it resolves in the jail too\)/);
    expect(r.stdout).toContain('releases/20070506135654/tmp/pids -> /var/www/rails/shared/pids: dangles on the host only (');
    expect(r.stdout).toMatch(/would fix: \.\.\/\.\.\/\.\.\/shared\/pids/);
    expect(r.stdout).toMatch(/✖ 4 of 4 links have problems \(\d+ entries\): 11 findings \(6 errors, 5 warnings\); 4 fixable with --fix\n$/);
    // Each problem link once, each finding's message not repeated as prose.
    expect(r.stdout.split('\n').filter((l) => l.includes(' -> ') && !l.startsWith(' '))).toHaveLength(4);
    expect(r.stdout).not.toContain('absolute link works on the host');
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('pretty: --absolute-paths names links by their host paths', async () => {
    const r = await runCliInProcess([app, '--root', root, '--absolute-paths'], { fs: sb.fs });
    expect(r.stdout).toContain(`${app}/current -> ${sb.base}/${JAIL}${APP}/releases/20070506135654: dangles in the jail`);
    expect(r.stdout).not.toMatch(/^current -> /m);
  });

  it('colour: on for a terminal, off with NO_COLOR or --no-color, forced by FORCE_COLOR', async () => {
    const args = [app, '--root', root];
    expect((await runCliInProcess(args, { fs: sb.fs, isTTY: true })).stdout).toMatch(/\x1b\[/);
    expect((await runCliInProcess(args, { fs: sb.fs, isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(/\x1b\[/);
    expect((await runCliInProcess([...args, '--no-color'], { fs: sb.fs, isTTY: true })).stdout).not.toMatch(/\x1b\[/);
    expect((await runCliInProcess(args, { fs: sb.fs, isTTY: false, env: { FORCE_COLOR: '1' } })).stdout).toMatch(/\x1b\[/);
  });

  it('json: one document with the contract fields, links sorted by path', async () => {
    const r = await runCliInProcess([app, '--root', root, '--format', 'json'], { fs: sb.fs });
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.root).toBe(root);
    expect(doc.scanned).toEqual([app]);
    expect(doc.links.map((l: { path: string }) => l.path)).toEqual([
      `${app}/current`,
      `${app}/releases/20070506135654/log`,
      `${app}/releases/20070506135654/public/system`,
      `${app}/releases/20070506135654/tmp/pids`,
    ]);
    const current = doc.links[0];
    expect(current.target).toBe(`${root}${APP}/releases/20070506135654`);
    expect(current.chroot).toMatchObject({ status: 'dangling', resolved: null });
    expect(current.host).toMatchObject({ status: 'ok', resolved: `${root}${APP}/releases/20070506135654` });
    expect(current.findings.map((f: { rule: string }) => f.rule).sort()).toEqual(['absolute', 'dangling', 'view-mismatch']);
    expect(current.fix).toMatchObject({ target: 'releases/20070506135654' });
    const pids = doc.links[3];
    expect(pids.chroot).toMatchObject({ status: 'ok', resolved: '/var/www/rails/shared/pids' });
    expect(pids.host).toMatchObject({ status: 'dangling', resolved: null });
    expect(pids.findings.map((f: { rule: string; severity: string }) => `${f.rule}:${f.severity}`).sort()).toEqual(['absolute:warning', 'view-mismatch:warning']);
    expect(doc.summary).toMatchObject({ links: 4, problems: 4, fixable: 4, findings: { error: 6, warning: 5, info: 0 } });
  });

  it('ndjson: one link a line, then one summary line', async () => {
    const r = await runCliInProcess([app, '--root', root, '--format', 'ndjson'], { fs: sb.fs });
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 4).every((l) => typeof l.path === 'string' && l.chroot && l.host)).toBe(true);
    expect(lines[4]).toMatchObject({ type: 'summary', schemaVersion: 1, root, summary: { links: 4 } });
  });

  it('--quiet prints nothing when clean, and the problems when not', async () => {
    const clean = memfsSandbox({ jail: { b: {}, l: { link: 'b' } } });
    const q = await runCliInProcess([`${clean.base}/jail`, '--root', `${clean.base}/jail`, '--quiet'], { fs: clean.fs });
    expect(q).toEqual({ code: 0, stdout: '', stderr: '' });
    const loud = await runCliInProcess([`${clean.base}/jail`, '--root', `${clean.base}/jail`], { fs: clean.fs });
    expect(loud.stdout).toMatch(/✔ 1 link in 2 entries: no problems/);
    const dirty = await runCliInProcess([app, '--root', root, '--quiet'], { fs: sb.fs });
    expect(dirty.stdout).toMatch(/current ->/);
  });

  it('rules and explain', async () => {
    const list = await runCliInProcess(['rules']);
    for (const id of ['absolute', 'escapes-root', 'dangling', 'loop', 'view-mismatch', 'non-canonical', 'unreadable', 'layer-ambiguity']) expect(list.stdout).toContain(id);
    // One column each: the severity starts at the same place on every row, the longest id's too.
    const rows = list.stdout.split('\n').filter((l) => /^LC\d{3} /.test(l));
    expect(new Set(rows.map((l) => l.search(/ (error|warning|info) /))).size).toBe(1);
    const byId = await runCliInProcess(['explain', 'dangling']);
    const byCode = await runCliInProcess(['explain', 'lc003']);
    expect(byId.code).toBe(0);
    expect(byId.stdout).toBe(byCode.stdout);
    expect(byId.stdout).toMatch(/What it flags[\s\S]*Why it matters[\s\S]*Example[\s\S]*Fix/);
  });

  it('a scan path named like a command is written ./undo', async () => {
    const u = memfsSandbox({ undo: { l: { link: '/x' } } });
    const r = await runCliInProcess(['./undo', '--format', 'json', '--fail-on', 'never'], { fs: u.fs, cwd: u.base });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).links).toHaveLength(1);
  });
});

describe('hostile names', () => {
  // A newline, an escape sequence, a bidi override and a non-UTF-8 byte in names and link texts.
  const sb = diskSandbox({
    jail: {
      'new\nline': { link: '/x\n/fake -> ok' },
      'esc\u001b[31mred': { link: '../nope' },
      'bidi\u202etxt.exe': { link: '/nope' },
      'bytes:6e6f6e2dff75746638': { link: '/nope' },
      'back\\slash': { link: '/nope' },
      'cr\rreturn': { link: 'x\u2028y' },
    },
  });
  afterAll(() => sb.cleanup());
  const root = `${sb.base}/jail`;

  it('json keeps every name exact (non-UTF-8 bytes as \\udcXX) and parses', async () => {
    const r = await runCliInProcess([root, '--root', root, '--format', 'json']);
    const doc = JSON.parse(r.stdout);
    const names = doc.links.map((l: { path: string }) => l.path.slice(root.length + 1));
    expect(names).toContain('new\nline');
    expect(names).toContain('non-\udcffutf8');
    expect(doc.links.find((l: { path: string }) => l.path.endsWith('new\nline')).target).toBe('/x\n/fake -> ok');
  });

  it('ndjson: a newline in a name cannot break a line', async () => {
    const r = await runCliInProcess([root, '--root', root, '--format', 'ndjson']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('compact: one line per finding, which no name can break, fake or recolour', async () => {
    const r = await runCliInProcess([root, '--root', root, '--format', 'compact']);
    const json = JSON.parse((await runCliInProcess([root, '--root', root, '--format', 'json'])).stdout);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(json.links.reduce((n: number, l: { findings: unknown[] }) => n + l.findings.length, 0));
    for (const l of lines) expect(l).toMatch(/^[^\n]+: (error|warning|info) LC\d{3} [a-z-]+: [^\n]+$/);
    expect(lines.filter((l) => l.startsWith('new\\nline: '))).toHaveLength(json.links.find((l: { path: string }) => l.path.endsWith('new\nline')).findings.length);
    expect(r.stdout).toContain('esc\\x1b[31mred: error LC003 dangling: ');
    expect(r.stdout).toContain('non-\\xffutf8: ');
    expect(r.stdout).not.toMatch(/[\x1b\r\u202e\u2028]/);
  });

  it('pretty escapes control, bidi and invalid bytes, so no name can fake a line or recolour the terminal', async () => {
    const r = await runCliInProcess([root, '--root', root]);
    expect(r.stdout).toContain('new\\nline -> /x\\n/fake -> ok');
    expect(r.stdout).toContain('esc\\x1b[31mred');
    expect(r.stdout).toContain('bidi\\u202etxt.exe');
    expect(r.stdout).toContain('non-\\xffutf8');
    expect(r.stdout).toContain('back\\\\slash');
    expect(r.stdout).not.toMatch(/[\x1b\r\u202e\u2028]/);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('/fake'))).toEqual([]);
  });
});

describe('the installed command', () => {
  const sb = diskSandbox({ ...capistrano, odd: { 'new\nline': { link: '/x' }, 'bytes:6e6f6e2dff': { link: '../srv' } } });
  afterAll(() => sb.cleanup());
  const bin = path.join(repo, 'bin', 'linkcheck.js');
  beforeAll(() => ensureBuilt());

  it('runs from bin/ with real exit codes and a one-line error', () => {
    const root = `${sb.base}/${JAIL}`;
    const ok = spawnSync(process.execPath, [bin, root + APP, '--root', root, '--format', 'json'], { encoding: 'utf8' });
    expect(ok.status).toBe(1);
    expect(JSON.parse(ok.stdout).links).toHaveLength(4);
    for (const format of ['json', 'ndjson', 'pretty']) {
      const args = [bin, sb.base, '--format', format, '--fail-on', 'never'];
      const one = spawnSync(process.execPath, [...args, '-j', '1'], { encoding: 'latin1' });
      const two = spawnSync(process.execPath, [...args, '-j', '2'], { encoding: 'latin1' });
      expect(one.status, format).toBe(0);
      expect(two.stdout, `${format}: the two-thread report is the one-thread report`).toBe(one.stdout);
      expect(one.stdout.length).toBeGreaterThan(100);
    }
    // --fix: the two-thread run replays the planning walk for its report; it must say the same.
    const reports = ['1', '2'].map((j) => {
      const copy = diskSandbox(capistrano);
      try {
        const root = `${copy.base}/${JAIL}`;
        const r = spawnSync(process.execPath, [bin, root + APP, '--root', root, '--fix', '--format', 'json', '-j', j], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        return r.stdout.split(copy.base).join('BASE');
      } finally {
        copy.cleanup();
      }
    });
    expect(reports[1]).toBe(reports[0]);
    expect(JSON.parse(reports[0]!).changes).toHaveLength(4);
    const bad = spawnSync(process.execPath, [bin, '/does/not/exist'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('linkcheck: path /does/not/exist does not exist\n');
  });
});

describe('two threads on a tree big enough to hand over', () => {
  // Small walks are judged on the walking thread (see HOLD in parallel.ts); this one is well past
  // that, so -j 2 really runs the worker, and its report must be the one-thread report.
  function bigTree(): Tree {
    const jail: Tree = { shared: { log: {}, pids: {} }, releases: {} };
    const releases = jail['releases'] as Tree;
    for (let r = 0; r < 30; r++) {
      const rel: Tree = { app: { f: 'x' } };
      for (let i = 0; i < 100; i++) {
        const kind = i % 5;
        rel[`l${i}`] = {
          link: kind === 0 ? '{root}/jail/shared/log' : kind === 1 ? '/shared/pids' : kind === 2 ? '../../shared/log' : kind === 3 ? `../r${(r + 1) % 30}/l${i}` : `l${i}`,
        };
      }
      releases[`r${r}`] = rel;
    }
    return { jail };
  }
  const bin = path.join(repo, 'bin', 'linkcheck.js');
  beforeAll(() => ensureBuilt());

  it('says the same with -j 1 and -j 2, for an audit in every format and for --fix', () => {
    const sb = diskSandbox(bigTree());
    try {
      const root = `${sb.base}/jail`;
      for (const format of ['json', 'ndjson', 'pretty']) {
        const args = [bin, root, '--root', root, '--format', format, '--fail-on', 'never'];
        const one = spawnSync(process.execPath, [...args, '-j', '1'], { encoding: 'latin1', maxBuffer: 1 << 28 });
        const two = spawnSync(process.execPath, [...args, '-j', '2'], { encoding: 'latin1', maxBuffer: 1 << 28 });
        expect(one.status, format).toBe(0);
        expect(two.stdout === one.stdout, `${format}: the two-thread report is the one-thread report`).toBe(true);
        if (format === 'json') expect(JSON.parse(one.stdout).links).toHaveLength(3000);
      }
    } finally {
      sb.cleanup();
    }
    const reports = ['1', '2'].map((j) => {
      const copy = diskSandbox(bigTree());
      try {
        const root = `${copy.base}/jail`;
        const r = spawnSync(process.execPath, [bin, root, '--root', root, '--fix', '--format', 'json', '-j', j], { encoding: 'utf8', maxBuffer: 1 << 28 });
        expect(r.status).toBe(1); // the loops stay
        return r.stdout.split(copy.base).join('BASE');
      } finally {
        copy.cleanup();
      }
    });
    expect(reports[1] === reports[0], 'the two-thread --fix report is the one-thread one').toBe(true);
    expect(JSON.parse(reports[0]!).changes.length).toBeGreaterThan(1000);
  }, 60_000);
});

describe('the JSON writer', () => {
  it('writes exactly what JSON.stringify writes for every link, hostile names included', async () => {
    const { Auditor } = await import('../../../src/audit/auditor.js');
    const { linkJson, linkJsonText } = await import('../../../src/report/json-shape.js');
    const sb = diskSandbox({
      jail: {
        'new\nline': { link: '/x\n"q"\\' },
        'bytes:6e6f6e2dff75746638': { link: '../\u00e9\u202e' },
        plain: { link: '/srv//x/' },
        cyc: { link: 'cyc' },
      },
    });
    try {
      const a = new Auditor({ paths: [`${sb.base}/jail`], root: `${sb.base}/jail` });
      let n = 0;
      for (const ev of a.events()) {
        if (ev.type !== 'link') continue;
        n++;
        expect(linkJsonText(ev.link)).toBe(JSON.stringify(linkJson(ev.link)));
      }
      expect(n).toBe(4);
    } finally {
      sb.cleanup();
    }
  });
});

describe('a reader that goes away', () => {
  const links: Record<string, { link: string }> = {};
  for (let i = 0; i < 3000; i++) links[`l${i}`] = { link: `/nowhere/${i}` };
  const sb = diskSandbox({ jail: links });
  afterAll(() => sb.cleanup());
  const bin = path.join(repo, 'bin', 'linkcheck.js');
  beforeAll(() => ensureBuilt());

  it.each(['1', '2'])('(like `| head`) ends the run quietly with -j %s', async (j) => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, `${sb.base}/jail`, '--root', `${sb.base}/jail`, '--format', 'ndjson', '--fail-on', 'never', '-j', j]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 20_000);
});

