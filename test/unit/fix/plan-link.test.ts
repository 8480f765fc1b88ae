import { describe, expect, it } from 'vitest';
import type { Tree } from '../../../fixtures/tree.js';
import { capistrano, JAIL, APP, RELEASE } from '../../../fixtures/capistrano.js';
import { Auditor } from '../../../src/audit/auditor.js';
import { fixPlanner } from '../../../src/fix/planner.js';
import { applyFixes } from '../../../src/fix/apply.js';
import { runCliInProcess } from '../../support/cli.js';
import { memfsSandbox, type Sandbox } from '../../support/sandbox.js';

/** The plan for a tree as `inside: new text` (or `inside: - reason` for problem links left alone). */
function plan(sb: Sandbox, scan: string, root: string, extra: { fixScope?: 'root' | 'tree' } = {}): Record<string, string> {
  const a = new Auditor({ paths: [scan], root, fs: sb.fs, ...extra }, fixPlanner());
  const out: Record<string, string> = {};
  for (const ev of a.events()) {
    if (ev.type !== 'link') continue;
    const l = ev.link;
    if (l.fix) out[l.inside] = l.fix.target;
    else if (l.findings.length > 0) out[l.inside] = `- ${l.noFix}`;
  }
  return out;
}

async function fixTwice(sb: Sandbox, scan: string, root: string) {
  const first = await runCliInProcess([scan, '--root', root, '--fix', '--format', 'json', '--fail-on', 'never'], { fs: sb.fs });
  const second = await runCliInProcess([scan, '--root', root, '--fix', '--format', 'json', '--fail-on', 'never'], { fs: sb.fs });
  return { first: JSON.parse(first.stdout), second: JSON.parse(second.stdout) };
}

describe('the fix plan', () => {
  it('Capistrano: host paths into the root and chroot-style links become relative', () => {
    const sb = memfsSandbox(capistrano);
    const root = `${sb.base}/${JAIL}`;
    expect(plan(sb, root + APP, root)).toEqual({
      [`${APP}/current`]: `releases/${RELEASE}`,
      [`${APP}/releases/${RELEASE}/log`]: '../../shared/log',
      [`${APP}/releases/${RELEASE}/public/system`]: '../../../shared/system',
      [`${APP}/releases/${RELEASE}/tmp/pids`]: '../../../shared/pids',
    });
  });

  it('keeps intermediate links the old text went through, so it follows the next deploy', () => {
    const tree: Tree = {
      jail: {
        var: { www: { rails: { releases: { r1: { public: {} } }, current: { link: 'releases/r1' }, shared: { www: { link: '/var/www/rails/current/public' } } } } },
      },
    };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail`, `${sb.base}/jail`)).toEqual({ '/var/www/rails/shared/www': '../current/public' });
  });

  it('is a fixpoint: a link that resolves only once another is fixed is fixed in the same run', () => {
    // current is a host path (dangles in the jail); shared/www goes through it in jail words.
    const tree: Tree = {
      jail: {
        var: {
          www: {
            rails: {
              releases: { r1: { public: { 'index.html': 'hi' } } },
              current: { link: '{root}/jail/var/www/rails/releases/r1' },
              shared: { www: { link: '/var/www/rails/current/public' } },
            },
          },
        },
      },
    };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail`, `${sb.base}/jail`)).toEqual({
      '/var/www/rails/current': 'releases/r1',
      '/var/www/rails/shared/www': '../current/public',
    });
  });

  it('unlocks chains that mix host-prefixed and jail-style hops in one run; a second run changes nothing', async () => {
    // a -> (host) b -> (jail) c -> (host) d -> (jail) e/  : each hop resolves in the jail only once
    // the one before it is fixed. Ordered so the walk meets them against the chain.
    const tree: Tree = {
      jail: {
        z1: { link: '/z2' },
        z2: { link: '{root}/jail/z3' },
        z3: { link: '/z4' },
        z4: { link: '{root}/jail/target' },
        target: { 'f.txt': 'x' },
        deep: { er: { link: '{root}/jail/z1/f.txt' } },
      },
    };
    const sb = memfsSandbox(tree);
    const root = `${sb.base}/jail`;
    expect(plan(sb, root, root)).toEqual({
      '/z1': 'z2',
      '/z2': 'z3',
      '/z3': 'z4',
      '/z4': 'target',
      '/deep/er': '../z1/f.txt',
    });
    const { first, second } = await fixTwice(sb, root, root);
    expect(first.changes.filter((c: { status: string }) => c.status === 'changed')).toHaveLength(5);
    expect(first.summary.findings).toEqual({ error: 0, warning: 0, info: 0 });
    expect(second.changes).toEqual([]);
    expect(second.summary.fixable).toBe(0);
  });

  it('cleans non-canonical relative texts when that changes nothing they resolve to', () => {
    const tree: Tree = { jail: { a: { b: { c: {} } }, l: { x: { link: '../a//b/./c/' }, y: { link: '../a/b/../b/c' } } } };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail`, `${sb.base}/jail`)).toEqual({ '/l/x': '../a/b/c', '/l/y': '../a/b/c' });
  });

  it('takes the physical route when the old route cannot land in both views', () => {
    // m is a jail-only link outside the scanned tree: a route through it dangles on the host.
    const tree: Tree = { jail: { data: { d: {} }, m: { link: '/data' }, app: { l: { link: '/m/d' } } } };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail/app`, `${sb.base}/jail`)).toEqual({ '/app/l': '../data/d' });
  });

  it('rewrites a relative text that is already clean when it does not land on the host', () => {
    // ../m/d goes through m, a jail-only link outside the scanned tree: fine in the jail,
    // dangling on the host. The same text cannot be kept; the physical route can.
    const tree: Tree = { jail: { data: { d: {} }, m: { link: '/data' }, app: { l: { link: '../m/d' } } } };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail/app`, `${sb.base}/jail`)).toEqual({ '/app/l': '../data/d' });
  });

  it('leaves alone what it cannot aim at, saying why', () => {
    const tree: Tree = {
      jail: {
        gone: { link: '/nowhere' },
        c1: { link: 'c2' },
        c2: { link: 'c1' },
        out: { link: '{root}/outside' },
      },
      outside: {},
    };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail`, `${sb.base}/jail`)).toEqual({
      '/gone': '- dangling in both views',
      '/c1': '- it loops in the jail',
      '/c2': '- it loops in the jail',
      '/out': '- its target is outside the root',
    });
  });

  it('--fix-scope tree keeps to targets inside the scanned tree', () => {
    const tree: Tree = { jail: { shared: { log: {} }, app: { log: { link: '/shared/log' }, tmp: {}, t: { link: '/app/tmp' } } } };
    const sb = memfsSandbox(tree);
    expect(plan(sb, `${sb.base}/jail/app`, `${sb.base}/jail`, { fixScope: 'tree' })).toEqual({
      '/app/log': '- its target is outside the fix scope (--fix-scope tree)',
      '/app/t': 'tmp',
    });
  });
});

describe('applying the plan (memfs)', () => {
  it('fixes the Capistrano tree so both views resolve, and a second run changes nothing', async () => {
    const sb = memfsSandbox(capistrano);
    const root = `${sb.base}/${JAIL}`;
    const { first, second } = await fixTwice(sb, root + APP, root);
    expect(first.changes.map((c: { status: string }) => c.status)).toEqual(['changed', 'changed', 'changed', 'changed']);
    for (const l of first.links) {
      expect(l.chroot.status).toBe('ok');
      expect(l.host.status).toBe('ok');
      expect(l.host.resolved).toBe(root + l.chroot.resolved);
      expect(l.findings).toEqual([]);
    }
    expect(second.changes).toEqual([]);
  });

  it('skips a link that changed since the scan', async () => {
    const sb = memfsSandbox(capistrano);
    const root = `${sb.base}/${JAIL}`;
    const a = new Auditor({ paths: [root + APP], root, fs: sb.fs }, fixPlanner());
    for (const _ of a.events());
    sb.fs.unlink(`${root}${APP}/current`);
    sb.fs.symlink('releases/20070401120000', `${root}${APP}/current`);
    const changes = await applyFixes(a.settings, a.fixes);
    const cur = changes.find((c) => c.path.endsWith('/current'))!;
    expect(cur.status).toBe('skipped');
    expect(cur.reason).toBe('changed since the scan');
    expect(sb.fs.readlink(`${root}${APP}/current`)).toBe('releases/20070401120000');
  });
});
