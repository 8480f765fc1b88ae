/**
 * The kernel as judge of an audit: what the library or the CLI's JSON says about each link,
 * compared with openat2(RESOLVE_IN_ROOT) (the jail) and open(2) (the host). Shared by the
 * kernel property tests, the stress tests and the fuzzer (scripts/fuzz.ts).
 */
import * as fs from 'node:fs';
import { auditSync } from '../../src/index.js';
import { kernelResolve, type KernelAnswer } from './oracle.js';
import { spawnCli } from '../support/cli.js';
import { expectEscapes, jsonToBytes, show } from '../support/random-tree.js';

/** What both the library and the CLI report for one link, as byte strings. */
export interface Seen {
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

/** The library's answers, as byte strings (its results are ordinary strings, \udcXX for other bytes, as the JSON report). */
export function viaLibrary(scan: string, root: string | undefined): Seen[] {
  const r = auditSync(root === undefined ? { paths: [scan] } : { paths: [scan], root });
  const b = (s: string | null): string | null => (s === null ? null : jsonToBytes(s));
  return r.links.map((l) => ({
    path: jsonToBytes(l.path),
    target: jsonToBytes(l.target),
    chroot: { status: l.chroot.status, resolved: b(l.chroot.resolved) },
    host: { status: l.host.status, resolved: b(l.host.resolved) },
    rules: new Set(l.findings.map((f) => f.rule)),
  }));
}

export function viaCli(scan: string, root: string | undefined, extra: readonly string[] = []): Seen[] {
  const args = [scan, ...(root === undefined ? [] : ['--root', root]), '--format', 'json', '--fail-on', 'never', ...extra];
  const run = spawnCli(args);
  if (run.code !== 0) throw new Error(`linkcheck ${args.join(' ')} exited ${String(run.code)}: ${run.stderr}`);
  return seenInJson(run.stdout);
}

/** The links of a JSON report (the CLI's `--format json`), as byte strings. */
export function seenInJson(text: string): Seen[] {
  const doc = JSON.parse(text) as { schemaVersion: number; root: string; links: CliLink[] };
  if (doc.schemaVersion !== 1) throw new Error(`JSON report with schemaVersion ${String(doc.schemaVersion)}`);
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
export function disagreements(label: string, root: string, seen: Seen[], expected: string[]): string[] {
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

