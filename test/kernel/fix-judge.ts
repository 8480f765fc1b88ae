/**
 * The fixer judged by the kernel on one random adversarial tree: plan (dry run), fix through the
 * CLI with a journal, then check every rewritten link against openat2/open in both views, that
 * nothing else moved, that a second run is a no-op and that undo restores everything. Shared by
 * fix-vs-kernel.test.ts and the fuzzer (scripts/fuzz.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kernelResolve, type KernelAnswer } from './oracle.js';
import { spawnCli } from '../support/cli.js';
import { jsonToBytes, randomTree, show } from '../support/random-tree.js';
import { listLinks, materialiseRandom } from '../support/tree.js';

/** "To the microsecond": Node (libuv) sets times in whole microseconds. */
const MTIME_SLACK_NS = 1000n;

type EntKind = 'dir' | 'file' | 'link' | 'other';
interface Ent {
  kind: EntKind;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  text?: string;
  content?: string;
}
type Snapshot = Map<string, Ent>;

const B = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Every entry under `root` (itself excluded), by host byte-string path; never follows links. */
function snapshot(root: string): Snapshot {
  const snap: Snapshot = new Map();
  const walk = (dir: Buffer): void => {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' })) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = fs.lstatSync(p, { bigint: true });
      const kind: EntKind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'other';
      const e: Ent = { kind, mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs };
      if (kind === 'link') e.text = fs.readlinkSync(p, { encoding: 'buffer' }).toString('latin1');
      if (kind === 'file') e.content = fs.readFileSync(p).toString('latin1');
      snap.set(p.toString('latin1'), e);
      if (kind === 'dir') walk(p);
    }
  };
  walk(B(root));
  return snap;
}

/** Equal to the microsecond: the same whole microsecond (the finest time Node can set). */
const near = (a: bigint, b: bigint): boolean => a / MTIME_SLACK_NS === b / MTIME_SLACK_NS;

/** Differences between two entries, by field; mtimes compared exactly, to the microsecond, or not. */
function entDiff(a: Ent, b: Ent, opts: { mtime: 'exact' | 'us' | 'ignore' }): string[] {
  const d: string[] = [];
  if (a.kind !== b.kind) d.push(`kind ${a.kind} -> ${b.kind}`);
  if (a.mode !== b.mode) d.push(`mode ${a.mode.toString(8)} -> ${b.mode.toString(8)}`);
  if (a.uid !== b.uid || a.gid !== b.gid) d.push(`owner ${a.uid}:${a.gid} -> ${b.uid}:${b.gid}`);
  if (opts.mtime === 'exact' && a.mtimeNs !== b.mtimeNs) d.push(`mtime ${a.mtimeNs} -> ${b.mtimeNs}`);
  if (opts.mtime === 'us' && !near(a.mtimeNs, b.mtimeNs)) d.push(`mtime ${a.mtimeNs} -> ${b.mtimeNs} (not the same microsecond)`);
  if (a.text !== b.text) d.push(`text ${show(a.text)} -> ${show(b.text)}`);
  if (a.content !== b.content) d.push('content changed');
  return d;
}

function tempLeftovers(s: Snapshot): string[] {
  return [...s.keys()].filter((p) => p.slice(p.lastIndexOf('/') + 1).startsWith('.linkcheck-tmp.'));
}

function sameKeys(label: string, a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const k of a.keys()) if (!b.has(k)) out.push(`${label}: ${show(k)} is gone`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${label}: ${show(k)} appeared`);
  return out;
}

interface JsonFix {
  target: string;
  intended: string;
  safety: string;
}
interface JsonDoc {
  links: { path: string; target: string; chroot: { hops: number }; host: { hops: number }; fix: JsonFix | null }[];
  changes: { path: string; old: string; new: string; status: string; reason: string | null }[];
}

function fixCli(root: string, extra: readonly string[]): JsonDoc {
  const args = [root, '--root', root, '--fix', ...extra, '--format', 'json', '--fail-on', 'never'];
  const r = spawnCli(args);
  // 1 is documented for a fix that failed (and was put back): the changes list says which.
  if (r.code !== 0 && !(r.code === 1 && r.stdout.startsWith('{'))) throw new Error(`linkcheck ${args.join(' ')} exited ${String(r.code)}: ${r.stderr}`);
  return JSON.parse(r.stdout) as JsonDoc;
}

/** Makes some links owned by 1234:1234 (or mixed) and gives some odd sub-microsecond mtimes. */
function decorate(root: string, seed: number): void {
  let i = seed;
  for (const l of listLinks(root).sort()) {
    i = (i * 1103515245 + 12345) >>> 0;
    const p = B(l);
    if (i % 3 === 0) fs.lchownSync(p, 1234, 1234);
    else if (i % 7 === 1) fs.lchownSync(p, 0, 4321);
    if (i % 5 === 0) {
      const t = 1_000_000_000 + (i % 100_000_000) + ((i >>> 3) % 1_000_000) / 1_000_000;
      fs.lutimesSync(p, t, t);
    }
  }
}

/** Whether a directory on the way to `p` (its own name excluded) is not valid UTF-8. */
function hasNonUtf8Dir(p: string): boolean {
  const dir = B(p.slice(0, p.lastIndexOf('/')));
  return !Buffer.from(dir.toString('utf8'), 'utf8').equals(dir);
}

const hostOf = (root: string, inside: string): string => (inside === '/' ? root : root + inside);

export interface SeedResult {
  links: number;
  planned: number;
  changed: number;
  notChanged: string[];
  maxMtimeDelta: bigint;
  problems: string[];
}

/**
 * One seed: a random tree of about `links` links, planned (dry run), fixed with a journal, judged
 * by the kernel, fixed again (a no-op) and undone. `extra` goes to every fixing run (`-j 1`).
 */
export function runSeed(seed: number, journalDir: string, links: number, extra: readonly string[] = []): SeedResult {
  const t = materialiseRandom(randomTree(seed, { links }), 'linkcheck-fix-');
  const problems: string[] = [];
  try {
    const root = t.root;
    decorate(root, seed);
    const before = snapshot(root);
    const linksBefore = [...before.entries()].filter(([, e]) => e.kind === 'link').map(([p]) => p);
    const kBefore = new Map<string, KernelAnswer>();
    kernelResolve(root, linksBefore).forEach((a, i) => kBefore.set(linksBefore[i]!, a));

    // 1. The plan, from a dry run (which must change nothing).
    const dry = fixCli(root, ['--dry-run', ...extra]);
    const plan = new Map<string, JsonFix & { old: string }>();
    for (const l of dry.links) if (l.fix) plan.set(jsonToBytes(l.path), { target: jsonToBytes(l.fix.target), intended: jsonToBytes(l.fix.intended), safety: l.fix.safety, old: jsonToBytes(l.target) });
    const plannedChanges = new Map(dry.changes.map((c) => [jsonToBytes(c.path), jsonToBytes(c.new)]));
    if (plannedChanges.size !== plan.size || [...plan].some(([p, f]) => plannedChanges.get(p) !== f.target))
      problems.push(`dry run: the "changes" list (${plannedChanges.size}) and the links' fix fields (${plan.size}) disagree`);
    const afterDry = snapshot(root);
    problems.push(...sameKeys('after --dry-run', before, afterDry));
    for (const [p, e] of before) {
      const now = afterDry.get(p);
      if (now) for (const d of entDiff(e, now, { mtime: 'exact' })) problems.push(`--dry-run changed ${show(p)}: ${d}`);
    }

    // The plan's own claims, judged by the kernel before the fix. A link that worked in the jail
    // keeps its jail target (no fix moves it); 'repair' is only for links broken in the jail; and
    // where nothing but the link itself is followed (so no other planned fix can matter), 'safe'
    // means the jail target as it is and 'repair' the host target as it is. (A 'repair' whose jail
    // view went through other links may instead land in the jail once those are fixed.)
    const hops = new Map(dry.links.map((l) => [jsonToBytes(l.path), { chroot: l.chroot.hops, host: l.host.hops }]));
    for (const [p, f] of plan) {
      const k = kBefore.get(p);
      if (!k) {
        problems.push(`plan names ${show(p)}, which is not a link`);
        continue;
      }
      const h = hops.get(p)!;
      const claim = `plan for ${show(p)} -> ${show(f.old)}: ${f.safety}, intended ${show(f.intended)}, but the kernel's`;
      if (f.old !== before.get(p)!.text) problems.push(`plan for ${show(p)}: old text ${show(f.old)} is not the text on disk`);
      if (k.chroot.status === 'ok' && k.chroot.resolved !== f.intended) problems.push(`${claim} jail view was ok ${show(k.chroot.resolved)}`);
      if (f.safety === 'repair' && k.chroot.status === 'ok') problems.push(`${claim} jail view was ok`);
      if (f.safety === 'safe' && h.chroot === 1 && !(k.chroot.status === 'ok' && k.chroot.resolved === f.intended))
        problems.push(`${claim} jail view was ${k.chroot.status} ${show(k.chroot.resolved)}`);
      if (f.safety === 'repair' && h.host === 1 && h.chroot === 1 && !(k.host.status === 'ok' && k.host.resolved === hostOf(root, f.intended)))
        problems.push(`${claim} host view was ${k.host.status} ${show(k.host.resolved)}`);
    }

    // 2. The fix, journalled.
    const journal = path.join(journalDir, `journal-${seed}.jsonl`);
    const run = fixCli(root, ['--journal', journal, ...extra]);
    const status = new Map(run.changes.map((c) => [jsonToBytes(c.path), c]));
    let after = snapshot(root);
    problems.push(...sameKeys('after --fix', before, after));
    for (const p of tempLeftovers(after)) problems.push(`after --fix: temporary ${show(p)} left behind`);

    const changed = new Set<string>();
    /** Planned links the fixer swapped and put back (status failed): their mtime went through lutimes. */
    const putBack = new Set<string>();
    const skippedUtf8 = new Set<string>();
    const notChanged: string[] = [];
    let maxDelta = 0n;
    const track = (a: bigint, b: bigint): void => {
      const d = a > b ? a - b : b - a;
      if (d > maxDelta) maxDelta = d;
    };
    for (const [p, f] of plan) {
      const c = status.get(p);
      const a = after.get(p);
      const b = before.get(p)!;
      if (!c) {
        problems.push(`planned ${show(p)} has no entry in the fix run's changes`);
        continue;
      }
      if (jsonToBytes(c.new) !== f.target) problems.push(`fix run's new text for ${show(p)} is ${show(jsonToBytes(c.new))}, the dry run planned ${show(f.target)}`);
      if (c.status !== 'changed') {
        const what = `${show(p)} -> ${show(f.old)}, planned ${show(f.target)} (${f.safety}, intended ${show(f.intended)}): ${c.status} (${c.reason ?? ''})`;
        notChanged.push(what);
        if (c.status === 'skipped' && (c.reason ?? '').includes('not valid UTF-8')) {
          // Documented: a directory whose name is not valid UTF-8 cannot be entered with chdir.
          if (!hasNonUtf8Dir(p)) problems.push(`skipped as below a non-UTF-8 directory, but its directories are UTF-8: ${what}`);
          skippedUtf8.add(p);
        } else if (c.status === 'failed') putBack.add(p);
        else problems.push(`planned fix not carried out: ${what}`);
        if (a && a.text !== b.text) problems.push(`${c.status} ${show(p)} was nevertheless rewritten to ${show(a.text)}`);
        continue;
      }
      changed.add(p);
      if (!a) continue;
      if (a.text !== f.target) problems.push(`${show(p)}: text ${show(a.text)}, planned ${show(f.target)}`);
      if (a.uid !== b.uid || a.gid !== b.gid) problems.push(`${show(p)}: owner ${b.uid}:${b.gid} became ${a.uid}:${a.gid}`);
      track(a.mtimeNs, b.mtimeNs);
      if (!near(a.mtimeNs, b.mtimeNs)) problems.push(`rewritten ${show(p)}: mtime ${b.mtimeNs} became ${a.mtimeNs} (not the same microsecond)`);
    }
    for (const [p] of run.changes.filter((c) => c.status === 'changed').map((c) => [jsonToBytes(c.path)] as const))
      if (!plan.has(p)) problems.push(`fix run changed ${show(p)}, which the dry run did not plan`);

    // Every rewritten link, per the kernel, lands on its intended target in both views.
    const rewritten = [...changed];
    const kAfter = kernelResolve(root, rewritten);
    rewritten.forEach((p, i) => {
      const f = plan.get(p)!;
      const k = kAfter[i]!;
      const host = hostOf(root, f.intended);
      if (k.chroot.status !== 'ok' || k.chroot.resolved !== f.intended || k.host.status !== 'ok' || k.host.resolved !== host)
        problems.push(
          `rewritten ${show(p)}: ${show(f.old)} -> ${show(f.target)} should land on ${show(f.intended)} (host ${show(host)}); kernel: jail ${k.chroot.status} ${show(k.chroot.resolved)}, host ${k.host.status} ${show(k.host.resolved)}`,
        );
    });

    // Everything else is untouched. Directories where a link was swapped get a new mtime from the
    // rename (and the temporary link); every other directory keeps its own. A link put back after
    // a failed confirmation keeps its text and owner, and its mtime to the microsecond.
    const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/'));
    const touchedDirs = new Set([...rewritten, ...putBack].map(dirOf));
    for (const [p, b] of before) {
      if (changed.has(p)) continue;
      const a = after.get(p);
      if (!a) continue;
      const mtime = b.kind === 'dir' && touchedDirs.has(p) ? 'ignore' : putBack.has(p) ? 'us' : 'exact';
      if (putBack.has(p)) track(a.mtimeNs, b.mtimeNs);
      for (const d of entDiff(b, a, { mtime })) problems.push(`${putBack.has(p) ? 'put back' : 'untouched'} ${b.kind} ${show(p)}: ${d}`);
    }

    // Links that were not rewritten and resolved in the jail still resolve there, to the same place.
    const others = linksBefore.filter((p) => !changed.has(p) && kBefore.get(p)!.chroot.status === 'ok');
    kernelResolve(root, others).forEach((k, i) => {
      const was = kBefore.get(others[i]!)!.chroot;
      if (k.chroot.status !== 'ok' || k.chroot.resolved !== was.resolved)
        problems.push(`not rewritten ${show(others[i])} -> ${show(before.get(others[i]!)!.text)}: jail view was ${show(was.resolved)}, now ${k.chroot.status} ${show(k.chroot.resolved)}`);
    });

    // A fix that failed its confirmation must really not work in the tree as the run left it:
    // a probe link with the planned text, next to it, asked of the kernel. And it may only happen
    // when some fix it could rely on was not carried out (skipped below a non-UTF-8 directory).
    if (putBack.size > 0) {
      const probes = [...putBack].map((p, i) => ({ p, probe: `${dirOf(p)}/.lc-probe-${i}` }));
      for (const { p, probe } of probes) fs.symlinkSync(B(plan.get(p)!.target), B(probe));
      const answers = kernelResolve(root, probes.map((x) => x.probe));
      for (const { probe } of probes) fs.unlinkSync(B(probe));
      probes.forEach(({ p }, i) => {
        const f = plan.get(p)!;
        const k = answers[i]!;
        const lands = k.chroot.status === 'ok' && k.chroot.resolved === f.intended && k.host.status === 'ok' && k.host.resolved === hostOf(root, f.intended);
        if (lands) problems.push(`fix of ${show(p)} reported failed, but per the kernel ${show(f.target)} lands on ${show(f.intended)} in both views`);
        else if (skippedUtf8.size === 0) problems.push(`fix of ${show(p)} -> ${show(f.target)} was planned but does not land (kernel: jail ${k.chroot.status} ${show(k.chroot.resolved)}, host ${k.host.status} ${show(k.host.resolved)}), and no fix it could rely on was skipped`);
      });
      after = snapshot(root); // the probes touched their directories
    }

    // 3. A second run changes nothing. Fixes that could not be carried out are tried (and put
    // back) again: their links keep text and owner, their mtime to the microsecond.
    const again = fixCli(root, extra);
    for (const c of again.changes) {
      const p = jsonToBytes(c.path);
      const expected = (c.status === 'skipped' && skippedUtf8.has(p)) || (c.status === 'failed' && putBack.has(p));
      if (!expected) problems.push(`second --fix: ${c.status} ${show(p)}: ${show(jsonToBytes(c.old))} -> ${show(jsonToBytes(c.new))} (${c.reason ?? ''})`);
    }
    const after2 = snapshot(root);
    problems.push(...sameKeys('after the second --fix', after, after2));
    for (const p of tempLeftovers(after2)) problems.push(`after the second --fix: temporary ${show(p)} left behind`);
    const retriedDirs = new Set([...putBack].map(dirOf));
    for (const [p, a] of after) {
      const a2 = after2.get(p);
      const mtime = putBack.has(p) ? 'us' : a.kind === 'dir' && retriedDirs.has(p) ? 'ignore' : 'exact';
      if (a2) for (const d of entDiff(a, a2, { mtime })) problems.push(`second --fix changed ${a.kind} ${show(p)}: ${d}`);
    }

    // 4. Undo restores every link's text, owner and mtime.
    if (changed.size > 0) {
      const u = spawnCli(['undo', journal]);
      if (u.code !== 0) problems.push(`undo exited ${String(u.code)}: ${u.stderr}${u.stdout.split('\n').slice(-3).join(' | ')}`);
    } else if (putBack.size === 0 && fs.existsSync(journal) && fs.readFileSync(journal, 'utf8').trim() !== '') problems.push('nothing changed but the journal has entries');
    const undone = snapshot(root);
    problems.push(...sameKeys('after undo', before, undone));
    for (const p of tempLeftovers(undone)) problems.push(`after undo: temporary ${show(p)} left behind`);
    for (const [p, b] of before) {
      const u = undone.get(p);
      if (!u) continue;
      const mtime = b.kind === 'dir' ? 'ignore' : b.kind === 'link' && (changed.has(p) || putBack.has(p)) ? 'us' : 'exact';
      for (const d of entDiff(b, u, { mtime })) problems.push(`after undo ${b.kind} ${show(p)}: ${d}`);
    }

    return { links: linksBefore.length, planned: plan.size, changed: changed.size, notChanged, maxMtimeDelta: maxDelta, problems };
  } finally {
    t.cleanup();
  }
}

