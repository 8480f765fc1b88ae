import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { auditSync } from '../../../src/run/pipeline.js';
import type { FsPort } from '../../../src/core/fs-port.js';
import { walk } from '../../../src/walk/walk.js';
import { asUser, runnableCopy } from '../../support/disk.js';
import { diskSandbox, memfsSandbox } from '../../support/sandbox.js';


const tree = {
  '.hidden': { l: { link: '../x' } },
  'a b': { 'ü': { link: 'x' } },
  node_modules: { pkg: { l: { link: '/x' } } },
  logs: { 'old.log': { link: '/x' }, keep: { link: '/x' } },
  'a-c': { link: 'x' },
  a: { z: { link: 'x' } },
  dirlink: { link: 'a' },
};

describe('the walker', () => {
  it('finds every link, dot files included, never following one, in byte order of full paths', () => {
    const sb = memfsSandbox({ t: tree });
    const events = [...walk(sb.fs, `${sb.base}/t`)];
    expect(events.map((e) => (e.type === 'link' ? e.path.slice(sb.base.length + 3) : e.type))).toEqual([
      '.hidden/l',
      'a b/\u00c3\u00bc',
      'a-c',
      'a/z',
      'dirlink',
      'logs/keep',
      'logs/old.log',
      'node_modules/pkg/l',
    ]);
  });

  it('--exclude matches the relative path, or the name alone for patterns without /', () => {
    const sb = memfsSandbox({ t: tree });
    const res = auditSync({ paths: [`${sb.base}/t`], fs: sb.fs, exclude: ['node_modules', 'logs/*.log', '.hidden/**'] });
    // The library's paths are ordinary strings: the UTF-8 name reads as itself.
    expect(res.links.map((l) => l.path.slice(sb.base.length + 3))).toEqual(['a b/\u00fc', 'a-c', 'a/z', 'dirlink', 'logs/keep']);
  });

  it('reports a directory it cannot read and goes on', () => {
    const sb = memfsSandbox({ t: { a: { l: { link: 'x' } }, secret: { l: { link: 'x' } }, z: { l: { link: 'x' } } } });
    const denied: FsPort = {
      ...sb.fs,
      readdir: (d) => {
        if (d.endsWith('/secret')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return sb.fs.readdir(d);
      },
    };
    const res = auditSync({ paths: [`${sb.base}/t`], fs: denied });
    expect(res.links.map((l) => l.path.slice(sb.base.length + 3))).toEqual(['a/l', 'z/l']);
    expect(res.unreadable).toHaveLength(1);
    expect(res.unreadable[0]).toMatchObject({ path: `${sb.base}/t/secret`, errno: 'EACCES', finding: { rule: 'unreadable', severity: 'error' } });
    expect(res.summary.unreadable).toBe(1);
  });
});

describe('on the real disk', () => {
  const sb = diskSandbox({ t: { a: { l: { link: 'x' } }, secret: { l: { link: 'x' } }, z: { l: { link: 'x' } } } });
  afterAll(() => sb.cleanup());
  const isRoot = process.getuid?.() === 0;

  it.skipIf(!isRoot)('an unprivileged user gets an unreadable finding for a mode-000 directory, and the rest of the report', () => {
    nodeFs.chmodSync(`${sb.base}/t/secret`, 0o000);
    nodeFs.chmodSync(sb.base, 0o755);
    try {
      const r = spawnSync(process.execPath, [runnableCopy().bin, `${sb.base}/t`, '--format', 'json', '--fail-on', 'never'], {
        encoding: 'utf8',
        ...asUser(65534),
        cwd: '/',
      });
      expect(r.stderr).toBe('');
      const doc = JSON.parse(r.stdout);
      expect(doc.links.map((l: { path: string }) => l.path)).toEqual([`${sb.base}/t/a/l`, `${sb.base}/t/z/l`]);
      expect(doc.unreadable).toEqual([expect.objectContaining({ path: `${sb.base}/t/secret`, errno: 'EACCES' })]);
      expect(doc.summary.unreadable).toBe(1);
    } finally {
      nodeFs.chmodSync(`${sb.base}/t/secret`, 0o755);
    }
  });

  it.skipIf(!isRoot)('-x stays on the file system of the scanned path (a tmpfs mounted inside is skipped)', (ctx) => {
    const mnt = `${sb.base}/t/z`;
    const m = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    if (m.status !== 0) {
      ctx.skip(); // no mount permission in this sandbox: cannot build a second file system
      return;
    }
    try {
      nodeFs.symlinkSync('y', `${mnt}/on-tmpfs`);
      const all = auditSync({ paths: [`${sb.base}/t`] }).links.map((l) => l.path.slice(sb.base.length));
      const one = auditSync({ paths: [`${sb.base}/t`], oneFileSystem: true }).links.map((l) => l.path.slice(sb.base.length));
      expect(all).toContain('/t/z/on-tmpfs');
      expect(one).not.toContain('/t/z/on-tmpfs');
      expect(one).toContain('/t/a/l');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
