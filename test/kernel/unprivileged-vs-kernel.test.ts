/**
 * linkcheck run as an unprivileged user (no --as-user) answers as the kernel does for that user,
 * also where a walk looks no name up in a directory: `x/..` and `x/.` after a directory the user
 * may not search are EACCES for the kernel. The CLI runs as nobody from a copy every user can
 * enter; the oracle resolves the same links with nobody's credentials.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, removeDir, runnableCopy, tempDir } from '../support/disk.js';
import { kernelResolve, oracleUnavailableReason } from './oracle.js';

const NOBODY = 65534;
const reason = !isRoot() ? 'needs root (to run as nobody)' : oracleUnavailableReason();

/** Links whose answers turn on a directory nobody may not search, each way a walk meets it. */
const LINKS: Record<string, string> = {
  'a/dotdot': '../shared/locked/../log',
  'a/dot': '../shared/locked/.',
  'a/into': '../shared/locked/x',
  'a/slash': '../shared/locked/',
  'a/plain': '../shared/log',
  'a/via': 'dotdot',
};

describe.skipIf(reason !== null)(`run as nobody, without --as-user${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let base = '';
  let root = '';
  beforeAll(() => {
    base = tempDir('unprivileged');
    fs.chmodSync(base, 0o755);
    root = `${base}/jail`;
    for (const d of ['a', 'shared/log', 'shared/locked']) fs.mkdirSync(`${root}/${d}`, { recursive: true, mode: 0o755 });
    fs.writeFileSync(`${root}/shared/locked/x`, '');
    for (const [l, t] of Object.entries(LINKS)) fs.symlinkSync(t, `${root}/${l}`);
    fs.chmodSync(`${root}/shared/locked`, 0o700);
  });
  afterAll(() => removeDir(base));

  it('agrees with the kernel on every link, in both views', () => {
    const { bin } = runnableCopy();
    const r = spawnSync(process.execPath, [bin, root, '--root', root, '--format', 'json', '--fail-on', 'never'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout) as { links: { inside: string; chroot: { status: string; errno: string | null }; host: { status: string; errno: string | null } }[] };
    const names = Object.keys(LINKS);
    const kernel = kernelResolve(root, names.map((l) => `${root}/${l}`), { uid: NOBODY, gid: NOBODY, groups: [] });
    const got = names.map((l) => doc.links.find((x) => x.inside === `/${l}`)!);
    const seen = (v: { status: string; errno: string | null }): string => (v.status === 'ok' ? 'ok' : `${v.status} ${v.errno}`);
    expect(got.map((g) => `${g.inside}: ${seen(g.chroot)} | ${seen(g.host)}`)).toEqual(
      names.map((l, i) => `/${l}: ${seen(kernel[i]!.chroot)} | ${seen(kernel[i]!.host)}`),
    );
    // Positive control: the cases this test is for are refused by the kernel, and only they.
    expect(names.filter((_, i) => kernel[i]!.chroot.status === 'denied')).toEqual(['a/dotdot', 'a/dot', 'a/into', 'a/via']);
  });
});
