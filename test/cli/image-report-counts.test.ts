/**
 * What an image's findings on paths that are not links (layer-ambiguity, LC013, in the report's
 * `checks`) add up to in the reports that count: the prometheus `linkcheck_findings` series and
 * the pretty per-rule table equal the JSON summary's per-rule counts, checks included; the same
 * for a failed --require (LC008) on a plain tree. And --quiet on an image prints nothing at all
 * when the exit code is 0: the image line is said only before something else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rules } from '../../src/rules/registry.js';
import { runCliInProcess } from '../support/cli.js';
import { ociLayoutFiles, packTar, tempDir, writeFiles } from '../unit/image/image-builder.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Layer 0: lib -> usr/lib and srv/alt -> real, an absolute link, two dangling links (more than
// --max-links 1 lists) and a looping one. Layer 1 writes lib/extra and a whiteout srv/alt/x
// through layer 0's links: two LC013 findings on paths that are not links, beside the links'.
const lower = await packTar([
  { name: 'usr/', type: 'dir' },
  { name: 'usr/lib/', type: 'dir' },
  { name: 'usr/lib/libc.so', content: 'x' },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'srv/', type: 'dir' },
  { name: 'srv/real/', type: 'dir' },
  { name: 'srv/real/x', content: 'x' },
  { name: 'srv/alt', type: 'symlink', linkname: 'real' },
  { name: 'bin/', type: 'dir' },
  { name: 'bin/busybox', content: 'x' },
  { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox' },
  { name: 'bin/gone', type: 'symlink', linkname: '../nowhere' },
  { name: 'bin/lost', type: 'symlink', linkname: '../nowhere' },
  { name: 'bin/loop', type: 'symlink', linkname: 'loop' },
]);
const upper = await packTar([
  { name: 'lib/extra', content: 'y' },
  { name: 'srv/alt/.wh.x', content: '' },
]);
// A clean image: a directory and a relative link that resolves.
const clean = await packTar([
  { name: 'usr/', type: 'dir' },
  { name: 'usr/lib/', type: 'dir' },
  { name: 'usr/lib/libc.so', content: 'x' },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
]);

const layout = (name: string, layers: Buffer[]): string => writeFiles(path.join(tmp.dir, name), ociLayoutFiles([{ layers }]).files);
const image = layout('mixed', [lower, upper]);
const cleanImage = layout('clean', [clean]);

const cli = (args: string[]) => runCliInProcess([...args, '--no-config'], { cwd: tmp.dir });
type Summary = { rules: Record<string, number>; findings: Record<string, number> };
const summaryOf = async (args: string[]): Promise<{ summary: Summary; checks: number }> => {
  const r = await cli([...args, '--format', 'json']);
  expect(r.code, r.stderr).not.toBe(2);
  const doc = JSON.parse(r.stdout) as { summary: Summary; checks?: Array<{ findings: unknown[] }> };
  return { summary: doc.summary, checks: (doc.checks ?? []).reduce((n, c) => n + c.findings.length, 0) };
};

/** `linkcheck_findings` summed by one label's value. */
function promFindings(text: string, label: 'rule' | 'severity'): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^linkcheck_findings\{[^}]*\b(rule|severity)="[^"]*"[^}]*\} (\d+)$/gm)) {
    const value = new RegExp(`\\b${label}="([^"]*)"`).exec(m[0])![1]!;
    out.set(value, (out.get(value) ?? 0) + Number(m[2]));
  }
  return out;
}

describe('findings on paths that are not links are counted like the rest', () => {
  it('the image has LC013 findings in its checks (the premise)', async () => {
    const { summary, checks } = await summaryOf(['--image', image]);
    expect(checks).toBe(2);
    expect(summary.rules['layer-ambiguity']).toBe(2);
  });

  it.each([
    ['an image (LC013)', () => ['--image', image]],
    ['a failed --require (LC008)', () => requireCase()],
  ])('prometheus linkcheck_findings equals the JSON summary for every rule and severity: %s', async (_what, args) => {
    const a = args();
    const { summary, checks } = await summaryOf(a);
    expect(checks).toBeGreaterThan(0);
    const r = await cli([...a, '--format', 'prometheus']);
    expect(r.stderr).toBe('');
    const byRule = promFindings(r.stdout, 'rule');
    for (const rule of rules) expect(byRule.get(rule.id) ?? 0, rule.id).toBe(summary.rules[rule.id] ?? 0);
    const bySeverity = promFindings(r.stdout, 'severity');
    for (const sev of ['error', 'warning', 'info']) expect(bySeverity.get(sev) ?? 0, sev).toBe(summary.findings[sev]);
  });

  it("pretty's per-rule table (--max-links held links back) adds up to the summary, LC013 included", async () => {
    const { summary } = await summaryOf(['--image', image]);
    const r = await cli(['--image', image, '--max-links', '1']);
    const rows = [...r.stdout.matchAll(/^ +(\d+)  (LC\d{3})  (\S+) /gm)].map((m) => [m[3]!, Number(m[1])] as const);
    expect(rows.length).toBeGreaterThan(1);
    expect(new Map(rows).get('layer-ambiguity')).toBe(2);
    const total = Object.values(summary.findings).reduce((a, b) => a + b, 0);
    expect(r.stdout).toContain(`: ${total} findings (`);
    expect(rows.reduce((n, [, k]) => n + k, 0)).toBe(total);
  });
});

describe('--quiet on an image prints nothing when the exit code is 0', () => {
  it.each([
    ['--fail-on never, with findings', () => ['--image', image, '--quiet', '--fail-on', 'never']],
    ['--preset rootfs on a clean image', () => ['--image', cleanImage, '--preset', 'rootfs', '--quiet']],
    ['a clean image', () => ['--image', cleanImage, '--quiet']],
  ])('%s', async (_what, args) => {
    for (const format of ['pretty', 'compact']) {
      const r = await cli([...args(), '--format', format]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, format).toBe('');
    }
  });

  it('with something to say, the image line still comes first (the positive control)', async () => {
    const r = await cli(['--image', image, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['an image of 2 layers, judged as its container sees the merged root', '']);
    expect(r.stdout).toMatch(/bin\/gone -> \.\.\/nowhere/);
    expect(r.stdout).toMatch(/✖ .* findings/);
  });
});

/** A plain tree with a dangling link and a --require on a path that is not there. */
function requireCase(): string[] {
  const root = path.join(tmp.dir, 'jail');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'app'), { recursive: true });
  fs.symlinkSync('nowhere', path.join(root, 'app', 'gone'));
  return [path.join(root, 'app'), '--root', root, '--require', 'current', '--fail-on', 'never'];
}
