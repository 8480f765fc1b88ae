/**
 * Three jails expanded from one --root glob, each a random adversarial tree: the one report
 * judges every link against its own jail's root, and the kernel (openat2 RESOLVE_IN_ROOT at that
 * root, and the host's open) agrees with every view. A positive control judges one jail's links
 * against another jail's root and must disagree.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelResolve, oracleUnavailableReason } from './oracle.js';
import { ensureBuilt } from '../support/build.js';
import { spawnCli } from '../support/cli.js';
import { jsonToBytes, randomTree, show } from '../support/random-tree.js';
import { listLinks, materialiseTree } from '../support/tree.js';

const reason = oracleUnavailableReason();
const SEEDS = [21, 22, 23];

interface Report {
  root: string;
  links: Array<{ path: string; chroot: { status: string; resolved: string | null }; host: { status: string; resolved: string | null } }>;
  summary: { links: number };
}

/** Every disagreement of `report`'s links with the kernel at `root`. */
function disagreements(root: string, report: Report): string[] {
  const paths = report.links.map((l) => jsonToBytes(l.path));
  const answers = kernelResolve(root, paths);
  const out: string[] = [];
  report.links.forEach((l, i) => {
    const k = answers[i]!;
    for (const view of ['chroot', 'host'] as const) {
      const ours = l[view];
      const resolved = ours.resolved === null ? null : jsonToBytes(ours.resolved);
      const want = k[view].status === 'ok' ? k[view].resolved : null;
      if (ours.status !== k[view].status || resolved !== want)
        out.push(`${show(paths[i])} ${view}: ours ${ours.status} ${show(resolved)}, kernel ${k[view].status} ${show(want)}`);
    }
  });
  return out;
}

describe.skipIf(reason !== null)(`many roots vs kernel${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let base = '';
  const jails: string[] = [];
  let report: { reports: Report[]; roots: string[] } | null = null;
  let status: number | null = null;

  beforeAll(() => {
    ensureBuilt();
    base = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'linkcheck-jails-'));
    fs.mkdirSync(`${base}/jails`);
    for (const [i, seed] of SEEDS.entries()) {
      const jail = `${base}/jails/j${i}`;
      fs.mkdirSync(jail);
      materialiseTree(jail, randomTree(seed, { links: 300 }));
      jails.push(jail);
    }
    const run = spawnCli(['/', '--root', `${base}/jails/*`, '--format', 'json', '--no-config']);
    status = run.code;
    if (run.code !== 0 && run.code !== 1) throw new Error(`linkcheck exited ${String(run.code)}: ${run.stderr}`);
    report = JSON.parse(run.stdout) as { reports: Report[]; roots: string[] };
  });
  afterAll(() => {
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  it('one report, one section per jail, in order, with the exit code of the worst', () => {
    expect(report!.roots).toEqual(jails);
    expect(report!.reports.map((r) => r.root)).toEqual(jails);
    // Random adversarial trees always hold errors (dangling, escaping links).
    expect(status).toBe(1);
  });

  it.each(SEEDS.map((s, i) => [i, s] as const))('jail %i (seed %i): every link agrees with the kernel at its own root', (i) => {
    const rep = report!.reports[i]!;
    const onDisk = listLinks(jails[i]!).sort();
    expect(rep.links.map((l) => jsonToBytes(l.path)).sort()).toEqual(onDisk);
    expect(onDisk.length).toBeGreaterThan(100);
    const bad = disagreements(jails[i]!, rep);
    expect(bad, bad.slice(0, 30).join('\n')).toEqual([]);
  });

  it('positive control: judged at the wrong root, the same comparison finds disagreements', () => {
    // Jail 0's report against the kernel at root '/': its absolute texts land elsewhere there.
    const bad = disagreements('/', report!.reports[0]!);
    expect(bad.length).toBeGreaterThan(10);
  });
});
