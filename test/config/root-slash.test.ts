/**
 * Without --root the jail is the host: an absolute link that resolves means one place only. A
 * tree like /usr/bin (awk -> /etc/alternatives/awk -> /usr/bin/mawk) is clean, and --fix leaves
 * it alone unless the config raises `absolute`.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { runCliInProcess } from '../support/cli.js';
import { diskSandbox } from '../support/sandbox.js';

const tree: Tree = {
  usr: { bin: { mawk: '#!/bin/sh\n', awk: { link: '{root}/etc/alternatives/awk' }, pager: { link: '{root}/etc/alternatives/pager' }, less: '' } },
  etc: { alternatives: { awk: { link: '{root}/usr/bin/mawk' }, pager: { link: '{root}/usr/bin/less' } } },
  // Absolute and not clean: still a note only, and --fix leaves it.
  sbin: { awk: { link: '/{root}//usr/bin/mawk' } },
};
const sb = diskSandbox(tree);
afterAll(() => sb.cleanup());
const base = sb.base;

interface Doc {
  links: Array<{ path: string; findings: Array<{ rule: string; severity: string }> }>;
  changes: unknown[];
}

describe("root '/': resolving absolute links", () => {
  it('exit 0 with no warning, even with --fail-on warning; only info notes', async () => {
    const r = await runCliInProcess([base, '--format', 'json', '--fail-on', 'warning', '--no-config']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Doc;
    expect(doc.links).toHaveLength(5);
    for (const l of doc.links) expect(l.findings.filter((f) => f.rule !== 'non-canonical')).toEqual([expect.objectContaining({ rule: 'absolute', severity: 'info' })]);
    for (const l of doc.links) expect(l.findings.every((f) => f.severity === 'info')).toBe(true);
    const pretty = await runCliInProcess([base, '--no-config']);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).not.toMatch(/^\s*warning\b/m);
    expect(pretty.stdout).toMatch(/: 6 findings \(6 info\)$/m);
  });

  it('--fix --dry-run plans nothing', async () => {
    const r = await runCliInProcess([base, '--fix', '--dry-run', '--format', 'json', '--no-config']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Doc).changes).toEqual([]);
  });

  it('positive controls: a dangling absolute link is still a warning; rules.absolute raised makes --fix rewrite them', async () => {
    const extra = `${base}/usr/bin/gone`;
    fs.symlinkSync(`${base}/usr/bin/nowhere`, extra);
    try {
      const r = await runCliInProcess([base, '--format', 'json', '--fail-on', 'warning', '--no-config']);
      expect(r.code).toBe(1);
      const gone = (JSON.parse(r.stdout) as Doc).links.find((l) => l.path === extra)!;
      expect(gone.findings.find((f) => f.rule === 'absolute')!.severity).toBe('warning');
    } finally {
      fs.unlinkSync(extra);
    }
    const config = `${base}.config.json`;
    fs.writeFileSync(config, JSON.stringify({ rules: { absolute: 'warning' } }));
    try {
      const r = await runCliInProcess([base, '--fix', '--dry-run', '--format', 'json', '--config', config]);
      const doc = JSON.parse(r.stdout) as Doc & { changes: Array<{ path: string; new: string }> };
      expect(doc.changes.map((c: { path: string; new: string }) => [c.path.slice(base.length), c.new]).sort()).toEqual([
        ['/etc/alternatives/awk', '../../usr/bin/mawk'],
        ['/etc/alternatives/pager', '../../usr/bin/less'],
        ['/sbin/awk', '../usr/bin/mawk'],
        ['/usr/bin/awk', '../../etc/alternatives/awk'],
        ['/usr/bin/pager', '../../etc/alternatives/pager'],
      ]);
      expect(doc.links.every((l) => l.findings.some((f) => f.rule === 'absolute' && f.severity === 'warning'))).toBe(true);
    } finally {
      fs.unlinkSync(config);
    }
  });
});
