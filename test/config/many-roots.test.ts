/**
 * Many jails from one --root glob: one report, each jail judged with its own root, the exit code
 * of the worst. Each jail's part of the report is byte for byte what a single-root run writes.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tree } from '../../fixtures/tree.js';
import { runCliInProcess } from '../support/cli.js';
import { diskSandbox } from '../support/sandbox.js';

// a: clean; b: a warning (a jail-style absolute link); c: an error (a host-absolute link that
// dangles in the jail). A link and a file beside them must not be taken for jails.
const www = (extra: Tree): Tree => ({ var: { www: { shared: {}, ...extra } } });
const tree: Tree = {
  jails: {
    a: www({ log: { link: 'shared' } }),
    b: www({ log: { link: '/var/www/shared' } }),
    c: www({ log: { link: '{root}/jails/c/var/www/shared' } }),
    'not-a-jail': 'a file\n',
    elsewhere: { link: '../outside' },
  },
  outside: www({}),
};
const sb = diskSandbox(tree);
afterAll(() => sb.cleanup());
const J = `${sb.base}/jails`;
const run = (args: string[]) => runCliInProcess(args, { cwd: sb.base });

interface Report {
  root: string;
  links: Array<{ path: string; findings: Array<{ rule: string; severity: string }> }>;
  summary: { links: number; findings: Record<string, number> };
}

describe('--root with a glob', () => {
  it('one json report, each jail with its own root; the exit code of the worst', async () => {
    const r = await run(['var/www', '--root', `${J}/*`, '--format', 'json', '--no-config']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { schemaVersion: number; reports: Report[]; roots: string[]; summary: Report['summary'] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.roots).toEqual([`${J}/a`, `${J}/b`, `${J}/c`]);
    expect(doc.reports.map((x) => x.root)).toEqual(doc.roots);
    const rules = doc.reports.map((x) => x.links.flatMap((l) => l.findings.map((f) => `${f.rule}:${f.severity}`)).sort());
    expect(rules).toEqual([[], ['absolute:warning', 'view-mismatch:warning'], ['absolute:error', 'dangling:error', 'view-mismatch:warning']]);
    expect(doc.summary.links).toBe(3);
    expect(doc.summary.findings).toEqual({ error: 2, warning: 3, info: 0 });
    // Each jail's report is the single-root report of that jail.
    for (const rep of doc.reports) {
      const single = await run([`${rep.root}/var/www`, '--root', rep.root, '--format', 'json', '--no-config']);
      expect(rep).toEqual(JSON.parse(single.stdout));
    }
  });

  it('exit code of the worst: 0 when the worst is a warning, 1 with --fail-on warning', async () => {
    expect((await run(['/var/www', '--root', `${J}/[ab]`, '--no-config'])).code).toBe(0);
    expect((await run(['/var/www', '--root', `${J}/[ab]`, '--no-config', '--fail-on', 'warning'])).code).toBe(1);
    // A plain --root keeps its meaning: scan paths are host paths.
    expect((await run([`${J}/a/var/www`, '--root', `${J}/a`, '--no-config', '--fail-on', 'info'])).code).toBe(0);
  });

  it('sarif: one log with a run per jail; prometheus: each metric family once; compact: host paths', async () => {
    const sarif = JSON.parse((await run(['var/www', '--root', `${J}/*`, '--format', 'sarif', '--no-config'])).stdout) as { runs: Array<{ results: unknown[] }> };
    expect(sarif.runs.map((r) => r.results.length)).toEqual([0, 2, 3]);
    const prom = (await run(['var/www', '--root', `${J}/*`, '--format', 'prometheus', '--no-config'])).stdout;
    const helps = prom.split('\n').filter((l) => l.startsWith('# HELP '));
    expect(new Set(helps).size).toBe(helps.length);
    expect(prom.split('\n').filter((l) => l.startsWith('linkcheck_links{'))).toEqual([
      expect.stringContaining(`root="${J}/a"`),
      expect.stringContaining(`root="${J}/b"`),
      expect.stringContaining(`root="${J}/c"`),
    ]);
    const compact = (await run(['var/www', '--root', `${J}/*`, '--format', 'compact', '--no-config'])).stdout.trimEnd().split('\n');
    expect(compact).toHaveLength(5);
    for (const l of compact) expect(l).toMatch(new RegExp(`^${J}/[bc]/var/www/log: (error|warning) LC00\\d `));
  });

  it('ndjson: a root line before each jail, its lines exactly as a single-root run, a total line', async () => {
    const r = await run(['var/www', '--root', 'jails/*', '--format', 'ndjson', '--no-config']);
    const lines = r.stdout.trimEnd().split('\n');
    const heads = lines.map((l, i) => [i, JSON.parse(l) as { type?: string; root?: string }] as const).filter(([, o]) => o.type === 'root');
    expect(heads.map(([, o]) => o.root)).toEqual([`${J}/a`, `${J}/b`, `${J}/c`]);
    for (let k = 0; k < heads.length; k++) {
      const [at, head] = heads[k]!;
      const end = k + 1 < heads.length ? heads[k + 1]![0] : lines.length - 1;
      const single = await run([`${head.root}/var/www`, '--root', head.root!, '--format', 'ndjson', '--no-config']);
      expect(lines.slice(at + 1, end).join('\n') + '\n').toBe(single.stdout);
    }
    expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ type: 'total', schemaVersion: 1, roots: [`${J}/a`, `${J}/b`, `${J}/c`], summary: { links: 3 } });
  });

  it('pretty: a heading before each jail that has something to say', async () => {
    // --quiet says only what is at or above --fail-on: b's warnings need --fail-on warning.
    const quiet = await run(['var/www', '--root', `${J}/*`, '--no-config', '--quiet']);
    expect(quiet.stdout).not.toContain(`root ${J}/b:`);
    expect(quiet.stdout).toContain(`root ${J}/c:`);
    const r = await run(['var/www', '--root', `${J}/*`, '--no-config', '--quiet', '--fail-on', 'warning']);
    expect(r.stdout).not.toContain(`root ${J}/a:`);
    expect(r.stdout).toContain(`root ${J}/b:`);
    expect(r.stdout).toContain(`root ${J}/c:`);
    expect(r.stdout.indexOf(`root ${J}/b:`)).toBeLessThan(r.stdout.indexOf(`root ${J}/c:`));
  });

  it('--fix repairs every jail against its own root', async () => {
    const before = fs.readlinkSync(`${J}/c/var/www/log`);
    try {
      const r = await run(['var/www', '--root', `${J}/*`, '--no-config', '--fix', '--quiet']);
      expect(r.code).toBe(0);
      expect(fs.readlinkSync(`${J}/b/var/www/log`)).toBe('shared');
      expect(fs.readlinkSync(`${J}/c/var/www/log`)).toBe('shared');
    } finally {
      for (const j of ['b', 'c']) {
        fs.unlinkSync(`${J}/${j}/var/www/log`);
        fs.symlinkSync(j === 'b' ? '/var/www/shared' : before, `${J}/${j}/var/www/log`);
      }
    }
  });
});

describe('bad roots: exit 2, one line', () => {
  const bad: Array<[string, string[], RegExp]> = [
    ['a glob that matches nothing', ['var/www', '--root', `${sb.base}/nojails/*`], /root .*nojails\/\* matches no directory/],
    ['a repeated --root', ['var/www', '--root', `${J}/a`, '--root', `${J}/b`], /--root .* is given twice/],
    ['an empty --root', ['var/www', '--root', ''], /--root.*It is empty/],
    ['a jail without the scan path', ['var/www/shared', '--root', `${sb.base}/*`], /path .*\/jails\/var\/www\/shared does not exist/],
  ];
  it.each(bad)('%s', async (_what, args, message) => {
    const r = await run([...args, '--no-config']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^linkcheck: /);
    expect(r.stderr).toMatch(message);
  });
});
