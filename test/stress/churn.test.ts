/**
 * A tree that changes under the scan. A seeded mutator process creates, deletes and renames
 * files, links and directories while linkcheck audits (every format, -j 1 and -j 2) and fixes.
 * The checks are built so that stale data shows:
 *  - `pointers/p<J>` is created only after the file it names (`churn/c<K>/f<J>`), which is never
 *    removed: whenever the report has p<J>, its target existed, so it must resolve (a resolver
 *    answering from a listing read before f<J> appeared would call it dangling);
 *  - `pointers/q<J>` is created only after the file it names (`churn/c<K>/g<J>`) was removed for
 *    good: it must dangle (a stale listing would call it clean);
 *  - either may instead be reported as changed during the scan (an `unreadable` entry, EAGAIN);
 *  - links in `stable/` are never touched: they must match the kernel exactly;
 *  - links in `churn/noise/` hold only texts the mutator wrote (or, after --fix, the fixer's
 *    relative form of one of them, each with its journal line).
 * A positive control feeds the checks a doctored report; a deterministic case shows the stale
 * listing the resolver would otherwise trust.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.js';
import { fixPlanner } from '../../src/fix/planner.js';
import { readJournal } from '../../src/fix/journal.js';
import { ensureBuilt } from '../support/build.js';
import { removeDir, tempDir } from '../support/disk.js';
import { IN_CI } from '../support/integration.js';
import { spawnCliTimed } from '../support/cli.js';
import { contractProblems, seedFor } from '../support/stress.js';
import { listLinks } from '../support/tree.js';
import { disagreements, seenInJson } from '../kernel/judge.js';
import { oracleUnavailableReason } from '../kernel/oracle.js';

const oracle = oracleUnavailableReason();
if (oracle !== null && IN_CI) throw new Error(`the kernel oracle must run in CI: ${oracle}`);

const C = 8; // churn/c0..c7
const POOL = 4000; // g<J> files that the mutator removes one by one
const NOISE_DIRS = 6;
const STABLE = 600;

/** The texts the mutator gives noise links (host-absolute ones are what --fix rewrites). */
const noiseTexts = (root: string): string[] => ['../x', '/stable/s1/f', '../../stable/s2/f', `${root}/stable/s3/f`, `${root}/stable/s4/f`, 'missing', '/churn/noise'];
/** The texts of the links in stable/, which nothing but --fix touches. */
const stableTexts = (root: string): string[] => ['../s1/f', '/stable/s2/f', `${root}/stable/s3/f`, 'missing', '../../churn', '../s0/l0', 'f/', '/../../..'];

/**
 * The relative text --fix gives a link at `rel` (inside the root) whose text is the absolute
 * `text` (host-absolute under the root, or jail-absolute); null for a relative text. None of the
 * targets here goes through a link, so the fix is the plain relative path.
 */
function fixedForm(root: string, rel: string, text: string): string | null {
  if (!text.startsWith('/')) return null;
  const inside = text.startsWith(`${root}/`) ? text.slice(root.length) : text;
  return path.posix.relative(path.posix.dirname(rel), path.posix.normalize(inside)) || '.';
}

const MUTATOR = `
import fs from 'node:fs';
const [root, seedText] = process.argv.slice(2);
let a = Number(seedText) >>> 0;
const rnd = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const texts = JSON.parse(process.argv[4]);
const C = ${C}, POOL = ${POOL}, NOISE_DIRS = ${NOISE_DIRS};
let stop = false, ops = 0, errors = 0, j = 0, g = 0;
process.on('SIGTERM', () => { stop = true; });
const tryOp = (f) => { try { f(); ops++; } catch { errors++; } };
process.stdout.write('ready\\n');
while (!stop) {
  const until = Date.now() + 5;
  while (Date.now() < until) {
    const r = rnd();
    if (r < 0.25) { const J = j++; const K = J % C; tryOp(() => { fs.writeFileSync(root + '/churn/c' + K + '/f' + J, ''); fs.symlinkSync('../churn/c' + K + '/f' + J, root + '/pointers/p' + J); }); }
    else if (r < 0.45) { if (g < POOL) { const J = g++; const K = J % C; tryOp(() => { fs.unlinkSync(root + '/churn/c' + K + '/g' + J); fs.symlinkSync('../churn/c' + K + '/g' + J, root + '/pointers/q' + J); }); } }
    else {
      const d = root + '/churn/noise/d' + Math.floor(rnd() * NOISE_DIRS);
      const name = d + '/l' + Math.floor(rnd() * 40);
      const op = rnd();
      if (op < 0.35) tryOp(() => { try { fs.unlinkSync(name); } catch {} fs.symlinkSync(pick(texts), name); });
      else if (op < 0.5) tryOp(() => fs.renameSync(name, d + '/l' + Math.floor(rnd() * 40)));
      else if (op < 0.6) tryOp(() => fs.unlinkSync(name));
      else if (op < 0.7) tryOp(() => { fs.unlinkSync(name); fs.writeFileSync(name, ''); });
      else if (op < 0.8) tryOp(() => { fs.rmSync(name, { force: true }); fs.mkdirSync(name); fs.symlinkSync(pick(texts), name + '/in'); });
      else if (op < 0.9) tryOp(() => fs.renameSync(d, d + '.moved'));
      else tryOp(() => fs.renameSync(d + '.moved', d));
    }
  }
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(JSON.stringify({ ops, errors, pointers: j, removed: g }) + '\\n');
`;

interface JsonLink {
  path: string;
  target: string;
  chroot: { status: string; resolved: string | null; failedAt: string | null };
  host: { status: string; resolved: string | null };
}
interface JsonDoc {
  links: JsonLink[];
  unreadable: { path: string; errno: string }[];
}

/** Every way the report breaks the rules above, one line each. */
function churnProblems(label: string, root: string, doc: JsonDoc): string[] {
  const out: string[] = [];
  const texts = new Set(noiseTexts(root));
  for (const l of doc.links) {
    const rel = l.path.slice(root.length);
    let m: RegExpExecArray | null;
    if ((m = /^\/pointers\/p(\d+)$/.exec(rel))) {
      const want = `/churn/c${Number(m[1]) % C}/f${m[1]}`;
      if (l.chroot.status !== 'ok' || l.chroot.resolved !== want || l.host.status !== 'ok' || l.host.resolved !== root + want)
        out.push(`${label}: ${rel} names ${want}, which existed before the link did and was never removed, but the report says jail ${l.chroot.status} ${l.chroot.resolved}, host ${l.host.status}`);
    } else if ((m = /^\/pointers\/q(\d+)$/.exec(rel))) {
      const want = `/churn/c${Number(m[1]) % C}/g${m[1]}`;
      if (l.chroot.status !== 'dangling' || l.chroot.failedAt !== want || l.host.status !== 'dangling')
        out.push(`${label}: ${rel} names ${want}, removed for good before the link was made, but the report says jail ${l.chroot.status} ${l.chroot.resolved ?? l.chroot.failedAt}, host ${l.host.status}`);
    } else if (rel.startsWith('/churn/noise/')) {
      if (!texts.has(l.target) && ![...texts].some((t) => fixedForm(root, rel, t) === l.target)) out.push(`${label}: ${rel} -> ${l.target}: a text nobody wrote`);
    } else if (!rel.startsWith('/stable/')) out.push(`${label}: ${rel}: a link where none was made`);
  }
  for (const u of doc.unreadable) if (u.errno === 'EAGAIN' && u.path.startsWith(`${root}/stable/`)) out.push(`${label}: ${u.path} reported as changed, but nothing touched it`);
  return out;
}

describe('a tree that changes under the scan', () => {
  let work = '';
  let root = '';
  let mutator: ChildProcess | null = null;
  let mutatorOut = '';
  const tally = { audits: 0, fixes: 0, changed: 0, pointers: 0 };

  const startMutator = async (seed: number): Promise<void> => {
    const script = `${root}/../mutator.mjs`;
    fs.writeFileSync(script, MUTATOR);
    mutatorOut = '';
    mutator = spawn(process.execPath, [script, root, String(seed), JSON.stringify(noiseTexts(root))], { stdio: ['ignore', 'pipe', 'inherit'] });
    mutator.stdout!.setEncoding('utf8').on('data', (s: string) => (mutatorOut += s));
    for (let i = 0; i < 1000 && !mutatorOut.includes('ready'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(mutatorOut).toContain('ready');
  };
  const stopMutator = async (): Promise<{ ops: number; errors: number; pointers: number }> => {
    const m = mutator!;
    const done = new Promise((r) => m.once('close', r));
    m.kill('SIGTERM');
    await done;
    mutator = null;
    return JSON.parse(mutatorOut.trim().split('\n').pop()!) as { ops: number; errors: number; pointers: number };
  };

  beforeAll(() => {
    ensureBuilt();
    work = tempDir('churn');
    root = `${work}/root`;
    for (let k = 0; k < C; k++) {
      fs.mkdirSync(`${root}/churn/c${k}`, { recursive: true });
    }
    for (let J = 0; J < POOL; J++) fs.writeFileSync(`${root}/churn/c${J % C}/g${J}`, '');
    for (let d = 0; d < NOISE_DIRS; d++) fs.mkdirSync(`${root}/churn/noise/d${d}`, { recursive: true });
    fs.mkdirSync(`${root}/pointers`);
    for (let n = 0; n < 6; n++) {
      fs.mkdirSync(`${root}/stable/s${n}`, { recursive: true });
      fs.writeFileSync(`${root}/stable/s${n}/f`, '');
    }
    const texts = stableTexts(root);
    for (let i = 0; i < STABLE; i++) fs.symlinkSync(texts[i % texts.length]!, `${root}/stable/s${i % 6}/l${i}`);
  });
  afterAll(async () => {
    if (mutator) await stopMutator();
    removeDir(work);
    console.log(`churn: ${tally.audits} audits and ${tally.fixes} fixes run against the mutator; ${tally.changed} links reported as changed during the scan`);
  });

  // A listing read before a change must not decide a verdict after it: a file that appears
  // (the link would be called dangling) and one that goes (it would be called clean).
  for (const [name, before, change, after] of [
    ['appears', false, (p: string) => fs.writeFileSync(p, ''), 'ok'],
    ['goes', true, (p: string) => fs.unlinkSync(p), 'dangling'],
  ] as const) {
    it(`deterministic: a target that ${name} after its directory was listed is reported as changed`, () => {
      const tmp = tempDir('stale');
      try {
        fs.mkdirSync(`${tmp}/a`);
        fs.mkdirSync(`${tmp}/b`);
        fs.symlinkSync('x', `${tmp}/a/first`);
        if (before) fs.writeFileSync(`${tmp}/a/t`, '');
        fs.symlinkSync('../a/t', `${tmp}/b/to-t`);
        const seen: string[] = [];
        for (const ev of new Auditor({ paths: [tmp], root: tmp }, fixPlanner()).events()) {
          if (ev.type === 'link') seen.push(`${ev.link.path.slice(tmp.length)} ${ev.link.chroot.status}`);
          else seen.push(`${ev.entry.path.slice(tmp.length)} ${ev.entry.errno}: ${ev.entry.finding.message.replace(tmp, '')}`);
          // a/ has been listed (and a/first judged); b/ has not been reached yet.
          if (seen.length === 1) change(`${tmp}/a/t`);
        }
        expect(seen).toEqual(['/a/first dangling', '/b/to-t EAGAIN: link /b/to-t changed during the scan (EAGAIN): what it leads to changed; it was not judged, run linkcheck again']);
        // Once the tree is still, the link is judged as it is.
        const again = new Auditor({ paths: [tmp], root: tmp }, fixPlanner()).collect();
        expect(again.links.map((l) => `${l.path.slice(tmp.length)} ${l.chroot.status}`)).toEqual(['/a/first dangling', `/b/to-t ${after}`]);
      } finally {
        removeDir(tmp);
      }
    });
  }

  it('positive control: the checks catch a stale verdict, a text nobody wrote and a change to a stable link', () => {
    const doc: JsonDoc = {
      links: [
        { path: `${root}/pointers/p3`, target: '../churn/c3/f3', chroot: { status: 'dangling', resolved: null, failedAt: '/churn/c3/f3' }, host: { status: 'dangling', resolved: null } },
        { path: `${root}/pointers/q5`, target: '../churn/c5/g5', chroot: { status: 'ok', resolved: '/churn/c5/g5', failedAt: null }, host: { status: 'ok', resolved: `${root}/churn/c5/g5` } },
        { path: `${root}/churn/noise/d1/l2`, target: '../../../etc/passwd', chroot: { status: 'ok', resolved: '/stable/s1/f', failedAt: null }, host: { status: 'ok', resolved: null } },
      ],
      unreadable: [{ path: `${root}/stable/s1/l1`, errno: 'EAGAIN' }],
    };
    expect(churnProblems('doctored', root, doc)).toHaveLength(4);
  });

  it('audits while the tree changes: every format, -j 1 and -j 2, never a stale verdict', async () => {
    const seed = seedFor('churn: audit');
    await startMutator(seed);
    const problems: string[] = [];
    let last: JsonDoc | null = null;
    try {
      for (let round = 0; round < 2; round++) {
        for (const j of ['1', '2']) {
          for (const format of ['json', 'ndjson', 'pretty']) {
            const r = spawnCliTimed([root, '--root', root, '--format', format, '-j', j, '--fail-on', 'never'], 60_000);
            tally.audits++;
            problems.push(...contractProblems(r));
            if (r.status !== 0) problems.push(`${r.label}: exit ${String(r.status)}: ${r.stderr.slice(0, 300)}`);
            if (format === 'pretty') continue;
            const text = r.stdout.toString('utf8');
            let doc: JsonDoc;
            if (format === 'json') doc = JSON.parse(text) as JsonDoc;
            else {
              const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonLink & { type?: string; unreadable?: JsonDoc['unreadable'] });
              doc = { links: lines.slice(0, -1), unreadable: lines[lines.length - 1]!.unreadable ?? [] };
            }
            tally.changed += doc.unreadable.filter((u) => u.errno === 'EAGAIN').length;
            problems.push(...churnProblems(`round ${round} -j ${j} ${format}`, root, doc));
            if (format === 'json') last = doc;
          }
        }
      }
    } finally {
      const m = await stopMutator();
      console.log(`churn: mutator seed ${seed}: ${m.ops} changes made (${m.errors} lost races), ${m.pointers} pointers`);
      expect(m.ops).toBeGreaterThan(1000);
    }
    expect(problems, problems.slice(0, 20).join('\n')).toEqual([]);
    // The stable part, judged by the kernel now that nothing moves.
    if (oracle === null && last) {
      const stable = seenInJson(JSON.stringify({ schemaVersion: 1, links: last.links.filter((l) => l.path.startsWith(`${root}/stable/`)) }));
      expect(disagreements('stable links under churn', root, stable, listLinks(`${root}/stable`))).toEqual([]);
    }
  }, 300_000);

  it('--fix while the tree changes: no crash; every text written was planned from a text the link really had', async () => {
    const seed = seedFor('churn: fix');
    await startMutator(seed);
    const journal = `${root}/../journal`;
    const problems: string[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const r = spawnCliTimed([root, '--root', root, '--fix', '--format', 'json', '--journal', journal, '-j', round % 2 ? '2' : '1', '--fail-on', 'never'], 60_000);
        tally.fixes++;
        problems.push(...contractProblems(r));
        if (r.status !== 0 && r.status !== 1) problems.push(`--fix round ${round}: exit ${String(r.status)}`);
        else problems.push(...churnProblems(`--fix round ${round}`, root, JSON.parse(r.stdout.toString('utf8')) as JsonDoc));
      }
    } finally {
      const m = await stopMutator();
      console.log(`churn: mutator seed ${seed}: ${m.ops} changes made during --fix (${m.errors} lost races)`);
      expect(m.ops).toBeGreaterThan(500);
    }
    // Every journal line turns a text the link really had (the mutator's, or a stable link's
    // own) into its relative form, and nothing else.
    const entries = readJournal(journal).entries;
    const had = new Set([...noiseTexts(root), ...stableTexts(root)]);
    for (const e of entries) {
      const rel = e.path.slice(root.length);
      if (!had.has(e.old) || e.new !== fixedForm(root, rel, e.old)) problems.push(`journal: ${rel}: ${e.old} -> ${e.new} is not a planned rewrite of a text the link had`);
    }
    // No rewritten text without its line: no more links hold a fixed form than lines put one there.
    let fixedNow = 0;
    for (const p of listLinks(`${root}/churn/noise`)) {
      const t = fs.readlinkSync(p);
      if (!noiseTexts(root).includes(t)) fixedNow++;
    }
    expect(entries.length).toBeGreaterThan(0);
    expect(fixedNow).toBeLessThanOrEqual(entries.filter((e) => e.path.startsWith(`${root}/churn/noise/`)).length);
    expect(problems, problems.slice(0, 20).join('\n')).toEqual([]);
  }, 300_000);
});
