/**
 * --preset rootfs on a small debootstrap-style tree: links into what the running system mounts
 * (/proc, /run, /dev/pts) are one info finding and never fixed; links that reach the host's own
 * files (the /etc/alternatives style) stay escapes-root errors and --fix repairs them.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { runCliInProcess } from '../support/cli.js';
import { diskSandbox } from '../support/sandbox.js';

const tree: Tree = {
  rootfs: {
    proc: {},
    sys: {},
    run: {},
    dev: { pts: {}, fd: { link: '/proc/self/fd' }, stdin: { link: '/proc/self/fd/0' }, ptmx: { link: 'pts/ptmx' } },
    etc: { mtab: { link: '../proc/self/mounts' }, alternatives: { awk: { link: '/usr/bin/mawk' } } },
    var: { run: { link: '/run' }, lock: { link: '/run/lock' } },
    usr: { bin: { mawk: '', awk: { link: '/etc/alternatives/awk' } } },
  },
};
const sb = diskSandbox(tree);
afterAll(() => sb.cleanup());
const root = `${sb.base}/rootfs`;
const RUNTIME = ['/dev/fd', '/dev/ptmx', '/dev/stdin', '/etc/mtab', '/var/lock', '/var/run'];

interface Doc {
  links: Array<{ inside: string; findings: Array<{ rule: string; severity: string }>; fix: unknown }>;
}
const byInside = (stdout: string): Map<string, Doc['links'][number]> => new Map((JSON.parse(stdout) as Doc).links.map((l) => [l.inside, l]));

describe('--preset rootfs', () => {
  it('without the preset, /dev/fd is three errors (the control)', async () => {
    const r = await runCliInProcess([root, '--root', root, '--format', 'json', '--no-config']);
    expect(r.code).toBe(1);
    const fd = byInside(r.stdout).get('/dev/fd')!;
    expect(fd.findings.filter((f) => f.severity === 'error').map((f) => f.rule).sort()).toEqual(['absolute', 'dangling', 'escapes-root']);
  });

  it('links into run-time mounts are one info finding, with no fix; host-reaching links stay errors', async () => {
    const r = await runCliInProcess([root, '--root', root, '--preset', 'rootfs', '--format', 'json', '--no-config']);
    const links = byInside(r.stdout);
    for (const p of RUNTIME) {
      expect(links.get(p)!.findings, p).toEqual([expect.objectContaining({ rule: 'runtime-mount', severity: 'info' })]);
      expect(links.get(p)!.fix, p).toBeNull();
    }
    expect(links.get('/usr/bin/awk')!.findings.map((f) => f.rule)).toContain('escapes-root');
    expect(r.code).toBe(1);
  });

  it('--fix repairs the host-reaching links and leaves the run-time ones as they are', async () => {
    const before = new Map(RUNTIME.map((p) => [p, fs.readlinkSync(root + p)]));
    const r = await runCliInProcess([root, '--root', root, '--preset', 'rootfs', '--fix', '--no-config']);
    expect(r.code).toBe(0);
    for (const p of RUNTIME) expect(fs.readlinkSync(root + p), p).toBe(before.get(p));
    expect(fs.readlinkSync(`${root}/usr/bin/awk`)).toBe('../../etc/alternatives/awk');
    expect(fs.readlinkSync(`${root}/etc/alternatives/awk`)).toBe('../../usr/bin/mawk');
  });
});
