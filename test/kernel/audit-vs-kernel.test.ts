/**
 * The resolver and the rules, judged by the kernel: random adversarial trees are materialised on
 * a real disk, audited through the library and through the CLI's JSON, and every link is compared
 * with openat2(RESOLVE_IN_ROOT) (the jail) and open(2) (the host).
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSync } from '../../src/index.js';
import { kernelResolve, oracleUnavailableReason, type KernelAnswer } from './oracle.js';
import {
  ensureBuilt,
  expectEscapes,
  jsonToBytes,
  listLinks,
  materialiseRandom,
  type Materialised,
  randomTree,
  runCli,
  show,
} from './random-tree.js';

const reason = oracleUnavailableReason();

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const LINKS_PER_TREE = 600;

/** What both the library and the CLI report for one link, as byte strings. */
interface Seen {
  path: string;
  target: string;
  chroot: { status: string; resolved: string | null };
  host: { status: string; resolved: string | null };
  rules: Set<string>;
}

interface CliLink {
  path: string;
  target: string;
  chroot: { status: string; resolved: string | null };
  host: { status: string; resolved: string | null };
  findings: { rule: string }[];
}

function viaLibrary(scan: string, root: string | undefined): Seen[] {
  const r = auditSync(root === undefined ? { paths: [scan] } : { paths: [scan], root });
  return r.links.map((l) => ({
    path: l.path,
    target: l.target,
    chroot: { status: l.chroot.status, resolved: l.chroot.resolved },
    host: { status: l.host.status, resolved: l.host.resolved },
    rules: new Set(l.findings.map((f) => f.rule)),
  }));
}

function viaCli(scan: string, root: string | undefined): Seen[] {
  const args = [scan, ...(root === undefined ? [] : ['--root', root]), '--format', 'json', '--fail-on', 'never'];
  const run = runCli(args);
  if (run.status !== 0) throw new Error(`linkcheck ${args.join(' ')} exited ${String(run.status)}: ${run.stderr}`);
  const doc = JSON.parse(run.stdout) as { schemaVersion: number; root: string; links: CliLink[] };
  expect(doc.schemaVersion).toBe(1);
  const b = (s: string | null): string | null => (s === null ? null : jsonToBytes(s));
  return doc.links.map((l) => ({
    path: jsonToBytes(l.path),
    target: jsonToBytes(l.target),
    chroot: { status: l.chroot.status, resolved: b(l.chroot.resolved) },
    host: { status: l.host.status, resolved: b(l.host.resolved) },
    rules: new Set(l.findings.map((f) => f.rule)),
  }));
}

/**
 * Every disagreement between `seen` and the kernel, one line each. `root` is the jail root's host
 * path ('/' for none); `expected` the links actually on disk under the scanned path.
 */
function disagreements(label: string, root: string, seen: Seen[], expected: string[]): string[] {
  const out: string[] = [];
  const byPath = new Map(seen.map((s) => [s.path, s]));
  if (byPath.size !== seen.length) out.push(`${label}: a link is reported twice`);
  for (const p of expected) if (!byPath.has(p)) out.push(`${label}: link ${show(p)} on disk is not reported`);
  const onDisk = new Set(expected);
  for (const s of seen) if (!onDisk.has(s.path)) out.push(`${label}: reported ${show(s.path)} is not a link on disk`);
  const paths = seen.filter((s) => onDisk.has(s.path));
  const answers = kernelResolve(root, paths.map((s) => s.path));
  paths.forEach((s, i) => {
    const k = answers[i]!;
    const text = fs.readlinkSync(Buffer.from(s.path, 'latin1'), { encoding: 'buffer' }).toString('latin1');
    const bad: string[] = [];
    if (s.target !== text) bad.push(`target ${show(s.target)} but readlink says ${show(text)}`);
    for (const view of ['chroot', 'host'] as const) {
      const ours = s[view];
      const kern = k[view];
      const want = kern.status === 'ok' ? kern.resolved : null;
      if (ours.status !== kern.status || ours.resolved !== want)
        bad.push(`${view}: ours ${ours.status} ${show(ours.resolved)}, kernel ${kern.status} ${kern.errno ?? ''} ${show(want)}`);
    }
    if (root === '/' && (k.chroot.status !== k.host.status || k.chroot.resolved !== k.host.resolved))
      bad.push(`root '/': the kernel's views differ (${k.chroot.status} ${show(k.chroot.resolved)} / ${k.host.status} ${show(k.host.resolved)})`);
    for (const [rule, want] of expectedRules(root, s.path, text, k)) {
      if (s.rules.has(rule) !== want) bad.push(`rule ${rule}: ${want ? 'missing' : 'reported but should not be'}`);
    }
    if (bad.length > 0)
      out.push(
        `${label}: ${show(s.path)} -> ${show(text)}\n    ours: chroot ${s.chroot.status} ${show(s.chroot.resolved)}, host ${s.host.status} ${show(s.host.resolved)}, rules [${[...s.rules].join(', ')}]` +
          `\n    kernel: chroot ${k.chroot.status} ${show(k.chroot.resolved)}, host ${k.host.status} ${show(k.host.resolved)}` +
          bad.map((b) => `\n    - ${b}`).join(''),
      );
  });
  return out;
}

/** The JSON contract's conditions for the rules whose trigger is fully specified. */
function expectedRules(root: string, linkPath: string, text: string, k: KernelAnswer): [string, boolean][] {
  const rootHost = root === '/' ? '' : root;
  let mismatch: boolean;
  if (k.chroot.status === 'ok' && k.host.status === 'ok') mismatch = k.host.resolved !== (k.chroot.resolved === '/' ? root : rootHost + k.chroot.resolved!);
  else mismatch = k.chroot.status === 'ok' || k.host.status === 'ok';
  return [
    ['absolute', text.startsWith('/')],
    ['dangling', k.chroot.status !== 'ok' && k.chroot.status !== 'loop'],
    ['loop', k.chroot.status === 'loop'],
    ['escapes-root', expectEscapes(root, linkPath, text, k.host)],
    ['view-mismatch', mismatch],
  ];
}

function check(label: string, root: string, scan: string, cliRoot: string | undefined): number {
  const expected = listLinks(scan);
  const lib = disagreements(`${label} (library)`, root, viaLibrary(scan, cliRoot), expected);
  const cli = disagreements(`${label} (CLI json)`, root, viaCli(scan, cliRoot), expected);
  const all = [...lib, ...cli];
  expect(all, `${all.length} disagreements with the kernel:\n${all.slice(0, 60).join('\n')}`).toEqual([]);
  return expected.length;
}

describe.skipIf(reason !== null)(`audit vs kernel on random trees${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const trees = new Map<number, Materialised>();
  let compared = 0;

  beforeAll(() => {
    ensureBuilt();
    for (const seed of SEEDS) trees.set(seed, materialiseRandom(randomTree(seed, { links: LINKS_PER_TREE })));
  });
  afterAll(() => {
    for (const t of trees.values()) t.cleanup();
    // eslint-disable-next-line no-console
    console.log(`audit-vs-kernel: ${compared} links compared (library and CLI each) over ${SEEDS.length} seeds`);
  });

  it('generates the same tree for the same seed', () => {
    expect(JSON.stringify(randomTree(42, { links: 300 }))).toBe(JSON.stringify(randomTree(42, { links: 300 })));
    expect(JSON.stringify(randomTree(42, { links: 300 }))).not.toBe(JSON.stringify(randomTree(43, { links: 300 })));
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: every link agrees with the kernel, in both views, library and CLI`, () => {
      const t = trees.get(seed)!;
      compared += check(`seed ${seed}`, t.root, t.root, t.root);
    });
  }

  it('scanning a subdirectory of the root changes nothing about the answers', () => {
    const t = trees.get(SEEDS[0]!)!;
    // The top-level directory holding the most links (the skeleton's var/ at least).
    const counts = new Map<string, number>();
    for (const l of listLinks(t.root)) {
      const top = l.slice(t.root.length + 1).split('/')[0]!;
      const utf8 = Buffer.from(Buffer.from(top, 'latin1').toString('utf8'), 'utf8').toString('latin1') === top;
      if (utf8 && fs.lstatSync(Buffer.from(`${t.root}/${top}`, 'latin1')).isDirectory()) counts.set(top, (counts.get(top) ?? 0) + 1);
    }
    const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const sub = Buffer.from(`${t.root}/${top}`, 'latin1').toString('utf8');
    compared += check(`seed ${SEEDS[0]} under ${show(top)}`, t.root, sub, t.root);
  });

  it("root '/': a temporary tree scanned without --root, both views coincide", () => {
    const t = materialiseRandom(randomTree(101, { links: LINKS_PER_TREE }));
    try {
      compared += check("root '/'", '/', t.root, undefined);
    } finally {
      t.cleanup();
    }
  });
});
