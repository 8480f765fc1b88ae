/**
 * What a scan path may name, and what a check that could not look says: a file is a usage error
 * (not "0 links, fine"), a symlink is judged as a link and not followed (with a trailing slash the
 * directory it leads to is scanned too), an --exclude that matched nothing is a warning, and an
 * unreadable directory fails the check by default.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { auditSync } from '../../../src/run/pipeline.js';
import type { Tree } from '../../../fixtures/tree.js';
import { runCliInProcess } from '../../support/cli.js';
import { sandboxes } from '../../support/sandbox.js';

const tree: Tree = {
  jail: {
    file: 'just a file\n',
    releases: { r1: { 'index.html': '' }, r2: { log: { link: '/shared/log' } } },
    shared: { log: {} },
    current: { link: '/releases/r2' },
    'current-rel': { link: 'releases/r2' },
    broken: { link: '/nowhere' },
  },
};

describe.each(sandboxes)('scan paths on %s', (_name, make) => {
  const sb = make(tree);
  afterAll(() => sb.cleanup());
  const R = `${sb.base}/jail`;
  const run = (...argv: string[]) => runCliInProcess([...argv, '--root', R, '--format', 'json'], { fs: sb.fs });
  const doc = (stdout: string) => JSON.parse(stdout) as { scanned: string[]; links: { path: string; chroot: { status: string } }[] };

  it('a relative path missing from the cwd but there inside a plain --root: exit 2, and the line suggests the root\'s', async () => {
    const r = await runCliInProcess(['releases/r1', '--root', R], { fs: sb.fs, cwd: sb.base });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^linkcheck: path .*\/releases\/r1 does not exist: did you mean .*\/jail\/releases\/r1\? \(a scan path is read from the working directory; only a root glob reads it inside each root\)\n$/);
    // Control: a path that is nowhere gets no suggestion.
    const none = await runCliInProcess(['releases/r9', '--root', R], { fs: sb.fs, cwd: sb.base });
    expect(none.stderr).toMatch(/releases\/r9 does not exist\n$/);
  });

  it('a file: exit 2 with one line, not a clean report of nothing', async () => {
    const r = await run(`${R}/file`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^linkcheck: path .*\/file is a file: name a directory to scan/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a symlink: the link itself is judged, and the walk does not follow it', async () => {
    const r = await run(`${R}/current`);
    const d = doc(r.stdout);
    expect(d.scanned).toEqual([`${R}/current`]);
    expect(d.links.map((l) => l.path)).toEqual([`${R}/current`]);
    expect(d.links[0]!.chroot.status).toBe('ok');
  });

  it('a symlink that dangles: judged as a dangling link (exit 1), not "does not exist"', async () => {
    const r = await run(`${R}/broken`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(doc(r.stdout).links.map((l) => [l.path, l.chroot.status])).toEqual([[`${R}/broken`, 'dangling']]);
  });

  it('a symlink with a trailing slash: the link is judged and the directory it leads to is scanned', async () => {
    const r = await run(`${R}/current-rel/`);
    const d = doc(r.stdout);
    expect(d.scanned).toEqual([`${R}/current-rel`, `${R}/releases/r2`]);
    expect(d.links.map((l) => l.path)).toEqual([`${R}/current-rel`, `${R}/releases/r2/log`]);
  });

  it('a trailing slash on a link that leads nowhere on the host: exit 2 with one line', async () => {
    const r = await run(`${R}/current/`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not lead to a directory on the host: drop the trailing \//);
  });

  it('a link named twice, or inside a scanned directory, is judged once', async () => {
    const d = doc((await run(`${R}/current`, R, `${R}/current`)).stdout);
    expect(d.scanned).toEqual([R]);
    expect(d.links.filter((l) => l.path === `${R}/current`)).toHaveLength(1);
  });

  it('the library takes the same paths: links come out in path order across scan paths', () => {
    const res = auditSync({ paths: [`${R}/releases`, `${R}/current`, `${R}/broken`], root: R, fs: sb.fs });
    expect(res.links.map((l) => l.path.slice(R.length))).toEqual(['/broken', '/current', '/releases/r2/log']);
  });
});

describe.each(sandboxes)('--exclude that matches nothing, on %s', (_name, make) => {
  const sb = make(tree);
  afterAll(() => sb.cleanup());
  const R = `${sb.base}/jail`;

  it('an absolute pattern and a typo each get a warning line; a pattern that matched gets none', async () => {
    const r = await runCliInProcess([R, '--root', R, '--fail-on', 'never', '--exclude', '/releases', '--exclude', 'relaeses', '--exclude', 'shared'], { fs: sb.fs });
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^linkcheck: warning: --exclude '\/releases' matched nothing; .*write 'releases'/),
      expect.stringMatching(/^linkcheck: warning: --exclude 'relaeses' matched nothing/),
    ]);
    // Control: written relative, the same pattern matches and nothing is said.
    const ok = await runCliInProcess([R, '--root', R, '--fail-on', 'never', '--exclude', 'releases'], { fs: sb.fs });
    expect(ok.stderr).toBe('');
  });
});

describe('an unreadable directory fails the check by default', () => {
  it('exit 1 (rule unreadable is an error), 0 only when asked with --fail-on never', async () => {
    const sb = sandboxes[0]![1](tree);
    const R = `${sb.base}/jail`;
    const fs = { ...sb.fs, readdir: (d: string) => (d === `${R}/shared` ? (() => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); })() : sb.fs.readdir(d)) };
    const r = await runCliInProcess([R, '--root', R, '--format', 'json'], { fs });
    expect(JSON.parse(r.stdout).unreadable).toEqual([expect.objectContaining({ path: `${R}/shared`, errno: 'EACCES' })]);
    expect(r.code).toBe(1);
    expect((await runCliInProcess([R, '--root', R, '--fail-on', 'never'], { fs })).code).toBe(0);
    // Control: readable, the same tree passes.
    expect((await runCliInProcess([R, '--root', R, '--exclude', 'current', '--exclude', 'broken', '--exclude', 'log'], { fs: sb.fs })).code).toBe(0);
  });
});
