import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../../fixtures/tree.js';
import { auditSync } from '../../../src/run/pipeline.js';
import { type Resolution, Resolver } from '../../../src/resolve/resolver.js';
import { kernelResolve, oracleUnavailableReason } from '../../kernel/oracle.js';
import { type Sandbox, sandboxes } from '../../support/sandbox.js';

// Expected answers per link (path inside the jail). `host: 'same'` means the host lands on the
// jail's answer under the jail's host path; `null` means it depends on the host (not checked).
interface Case {
  link: string;
  text: string;
  chroot: string; // 'ok:/path' or a status
  host: 'same' | string | null;
  failedAt?: string;
}

const cases: Case[] = [
  { link: 'l/rel', text: '../a/f', chroot: 'ok:/a/f', host: 'same' },
  { link: 'l/abs', text: '/a/f', chroot: 'ok:/a/f', host: 'dangling' },
  { link: 'l/cap', text: '{root}/jail/a/f', chroot: 'dangling', host: 'same-file:/a/f' },
  { link: 'l/far', text: '../../../../../../../../etc/passwd', chroot: 'ok:/etc/passwd', host: null },
  { link: 'l/sdd', text: '/../etc/passwd', chroot: 'ok:/etc/passwd', host: null },
  { link: 'l/c1', text: 'c2', chroot: 'loop', host: 'loop' },
  { link: 'l/c2', text: 'c1', chroot: 'loop', host: 'loop' },
  { link: 'l/t1', text: 't2', chroot: 'loop', host: 'dangling' },
  { link: 'l/t2', text: 't3', chroot: 'loop', host: 'dangling' },
  { link: 'l/t3', text: '/l/t1', chroot: 'loop', host: 'dangling' },
  { link: 'l/ts', text: '../a/f/', chroot: 'notdir', host: 'notdir', failedAt: '/a/f' },
  { link: 'l/fdd', text: '../a/f/..', chroot: 'notdir', host: 'notdir' },
  { link: 'l/fd', text: '../a/f/.', chroot: 'notdir', host: 'notdir' },
  { link: 'l/tf', text: '../a/f/x', chroot: 'notdir', host: 'notdir' },
  { link: 'l/miss', text: '../nope/x', chroot: 'dangling', host: 'dangling', failedAt: '/nope' },
  { link: 'l/missdd', text: '../nope/..', chroot: 'dangling', host: 'dangling' },
  { link: 'l/dl', text: '../a/b', chroot: 'ok:/a/b', host: 'same' },
  // '..' is physical: dl/.. is the parent of where dl points (/a), not l/.
  { link: 'l/phys', text: 'dl/../f', chroot: 'ok:/a/f', host: 'same' },
  { link: 'l/ds', text: '..//a/./f', chroot: 'ok:/a/f', host: 'same' },
  { link: 'l/r', text: '/', chroot: 'ok:/', host: null },
  { link: 'l/ad', text: '/a/b/', chroot: 'ok:/a/b', host: 'dangling' },
  { link: 'l/dot', text: '.', chroot: 'ok:/l', host: 'same' },
  { link: 'l/updir', text: '../a/b/../../a', chroot: 'ok:/a', host: 'same' },
  { link: 'l/viaabs', text: 'abs', chroot: 'ok:/a/f', host: 'dangling' },
  { link: 'l/viacap', text: 'cap', chroot: 'dangling', host: 'same-file:/a/f' },
  { link: 'ch/1', text: '2', chroot: 'ok:/a/f', host: 'same' },
  { link: 'ci/1', text: '2', chroot: 'loop', host: 'loop' },
  // 39-link chain through the middle of a path: 1 + 39 = 40 hops, fine; one more would loop.
  { link: 'l/mid39', text: '../cm/1/f', chroot: 'ok:/a/f', host: 'same' },
  { link: 'l/mid40', text: '../cn/1/f', chroot: 'loop', host: 'loop' },
];

function chain(n: number, last: string): Tree {
  const t: Tree = {};
  for (let i = 1; i < n; i++) t[String(i)] = { link: String(i + 1) };
  t[String(n)] = { link: last };
  return t;
}

function jailTree(): Tree {
  const l: Tree = {};
  for (const c of cases) if (c.link.startsWith('l/')) l[c.link.slice(2)] = { link: c.text };
  return {
    jail: {
      a: { b: {}, f: 'file' },
      etc: { passwd: 'root:x:0:0::/root:/bin/sh\n' },
      l,
      ch: chain(40, '../a/f'),
      ci: chain(41, '../a/f'),
      cm: chain(39, '../a'),
      cn: chain(40, '../a'),
    },
  };
}

/** A link's two views as the resolver answers them, asked directly (the jail's walk does not stand in for the host's). */
function viewsOf(resolver: Resolver, c: Case, text: string, sb: Sandbox): { chroot: Resolution; host: Resolution } {
  const jail = sb.base + '/jail';
  const cut = c.link.lastIndexOf('/');
  const dir = cut < 0 ? jail : `${jail}/${c.link.slice(0, cut)}`;
  const name = c.link.slice(cut + 1);
  return { chroot: resolver.resolveLink({ rootHost: jail }, dir, name, text), host: resolver.resolveLink({ rootHost: '' }, dir, name, text) };
}

function expectView(rec: { chroot: Resolution; host: Resolution }, c: Case, sb: Sandbox): void {
  const where = `${c.link} -> ${c.text}`;
  if (c.chroot.startsWith('ok:')) {
    expect(rec.chroot.status, where).toBe('ok');
    expect(rec.chroot.resolved, where).toBe(c.chroot.slice(3));
  } else {
    expect(rec.chroot.status, where).toBe(c.chroot);
    expect(rec.chroot.resolved, where).toBeNull();
  }
  if (c.failedAt) expect(rec.chroot.failedAt, where).toBe(c.failedAt);
  const jailHost = sb.base + '/jail';
  if (c.host === 'same') {
    expect(rec.host.status, where).toBe('ok');
    expect(rec.host.resolved, where).toBe(jailHost + (rec.chroot.resolved === '/' ? '' : rec.chroot.resolved));
  } else if (c.host?.startsWith('same-file:')) {
    expect(rec.host.status, where).toBe('ok');
    expect(rec.host.resolved, where).toBe(jailHost + c.host.slice('same-file:'.length));
  } else if (c.host !== null) {
    expect(rec.host.status, where).toBe(c.host);
  }
}

describe.each(sandboxes)('resolver on %s', (kind, make) => {
  const sb = make(jailTree());
  afterAll(() => sb.cleanup());
  const result = auditSync({ paths: [sb.base + '/jail'], root: sb.base + '/jail', fs: sb.fs });
  const byInside = new Map(result.links.map((r) => [r.inside, r]));

  it.each(cases)('$link -> $text', (c) => {
    const rec = byInside.get('/' + c.link);
    expect(rec, c.link).toBeDefined();
    // The text as materialised ({root} placeholders filled in).
    expectView(viewsOf(new Resolver(sb.fs), c, rec!.target, sb), c, sb);
  });

  it('answers the same through the audit (the record carries the resolver\'s views)', () => {
    for (const c of cases) expectView(byInside.get('/' + c.link)!, c, sb);
  });

  it('reports every link, in path order', () => {
    const paths = result.links.map((r) => r.path);
    expect(paths.length).toBe(cases.filter((c) => c.link.startsWith('l/')).length + 40 + 41 + 39 + 40);
    expect([...paths].sort()).toEqual(paths);
  });

  it.skipIf(kind !== 'disk' || oracleUnavailableReason() !== null)('agrees with the kernel on every link of the table', () => {
    const answers = kernelResolve(sb.base + '/jail', result.links.map((r) => r.path));
    const disagreements: string[] = [];
    result.links.forEach((r, i) => {
      const k = answers[i]!;
      if (k.chroot.status !== r.chroot.status || k.chroot.resolved !== r.chroot.resolved)
        disagreements.push(`${r.inside} chroot: ours ${r.chroot.status} ${r.chroot.resolved}, kernel ${k.chroot.status} ${k.chroot.resolved}`);
      if (k.host.status !== r.host.status || k.host.resolved !== r.host.resolved)
        disagreements.push(`${r.inside} host: ours ${r.host.status} ${r.host.resolved}, kernel ${k.host.status} ${k.host.resolved}`);
    });
    expect(disagreements).toEqual([]);
  });
});
